package httpcache

import (
	"testing"
	"time"
)

func TestParseHTTPDate(t *testing.T) {
	want := time.Date(1994, time.November, 6, 8, 49, 37, 0, time.UTC)
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT", true},
		{"rfc850", "Sunday, 06-Nov-94 08:49:37 GMT", true},
		{"asctime, one-digit day", "Sun Nov  6 08:49:37 1994", true},
		{"one-digit hour", "Sun, 06 Nov 1994 8:49:37 GMT", false},
		{"doubled spaces", "Sun, 06  Nov  1994 08:49:37 GMT", false},
		{"UTC instead of GMT", "Sun, 06 Nov 1994 08:49:37 UTC", false},
		{"lower-case zone", "Sun, 06 Nov 1994 08:49:37 gmt", false},
		{"upper-case weekday", "SUN, 06 Nov 1994 08:49:37 GMT", false},
		{"upper-case month", "Sun, 06 NOV 1994 08:49:37 GMT", false},
		{"two-digit year in IMF-fixdate", "Sun, 06 Nov 94 08:49:37 GMT", false},
		{"missing comma", "Sun 06 Nov 1994 08:49:37 GMT", false},
		{"date dashes in IMF-fixdate", "Sun, 06-Nov-1994 08:49:37 GMT", false},
		{"time periods", "Sun, 06 Nov 1994 08.49.37 GMT", false},
		{"hour 24", "Sun, 06 Nov 1994 24:49:37 GMT", false},
		{"minute 60", "Sun, 06 Nov 1994 08:60:37 GMT", false},
		{"February 30", "Sun, 30 Feb 1994 08:49:37 GMT", false},
		{"day 00", "Sun, 00 Nov 1994 08:49:37 GMT", false},
		{"the value 0", "0", false},
		{"empty", "", false},
		{"trailing space", "Sun, 06 Nov 1994 08:49:37 GMT ", false},
		{"asctime two-digit day with zero", "Sun Nov 06 08:49:37 1994", true},
		{"rfc850 short weekday", "Sun, 06-Nov-94 08:49:37 GMT", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseHTTPDate(tc.in)
			if ok != tc.ok {
				t.Fatalf("ParseHTTPDate(%q) ok = %v, want %v", tc.in, ok, tc.ok)
			}
			if ok && !got.Equal(want) {
				t.Fatalf("ParseHTTPDate(%q) = %v, want %v", tc.in, got, want)
			}
		})
	}
}

func TestParseHTTPDateRFC850Century(t *testing.T) {
	got, ok := ParseHTTPDate("Thursday, 18-Aug-50 02:01:18 GMT")
	if !ok || got.Year() != 2050 {
		t.Fatalf("got %v %v, want year 2050", got, ok)
	}
	got, ok = ParseHTTPDate("Sunday, 06-Nov-94 08:49:37 GMT")
	if !ok || got.Year() != 1994 {
		t.Fatalf("got %v %v, want year 1994", got, ok)
	}
}

func TestFormatHTTPDateRoundTrips(t *testing.T) {
	in := time.Date(2050, time.August, 18, 2, 1, 18, 0, time.FixedZone("x", 3600))
	got, ok := ParseHTTPDate(FormatHTTPDate(in))
	if !ok || !got.Equal(in) {
		t.Fatalf("round trip of %v: %v %v", in, got, ok)
	}
}
