package httpcache

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Hostile dates, targeted fields and whole header sets never panic, and
// what parses means what it says.

func FuzzParseHTTPDate(f *testing.F) {
	for _, s := range []string{"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "0", "", "Sun, 31 Feb 1994 08:49:37 GMT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseHTTPDate(s)
		if !ok {
			return
		}
		// Whatever form it came in, its IMF-fixdate parses back to it.
		again, ok := ParseHTTPDate(FormatHTTPDate(got))
		if !ok || !again.Equal(got.Truncate(time.Second)) {
			t.Fatalf("%q parsed as %v, which does not round-trip (%v %v)", s, got, again, ok)
		}
	})
}

func FuzzParseTargeted(f *testing.F) {
	for _, s := range []string{"max-age=60", "no-store, private=\"a\"", "a=(b c);d=?1, e=:AAA=:", "max-age=1.5", "&&", `x="\"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseTargeted(CDNCacheControl, []string{s})
		if !ok {
			return
		}
		for _, v := range []int64{d.MaxAge, d.SMaxAge, d.StaleWhileRevalidate, d.StaleIfError} {
			if v != Absent && (v < 0 || v > MaxDelta) {
				t.Fatalf("%q: a delta of %d", s, v)
			}
		}
	})
}

func FuzzDecisions(f *testing.F) {
	f.Add("max-age=60, s-maxage=5", "Sun, 06 Nov 1994 08:49:37 GMT", "100", 200, "no-cache")
	f.Add(`private="a", no-cache="b`, "0", "-1", 599, "max-stale")
	f.Fuzz(func(t *testing.T, cc, date, age string, status int, reqCC string) {
		h := http.Header{"Cache-Control": {cc}, "Expires": {date}, "Date": {date}, "Last-Modified": {date}, "Age": {age}}
		req := http.Header{"Cache-Control": {reqCC}}
		d, targeted := Directives(h, []string{CDNCacheControl, SurrogateControl})
		now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		dec := Storable(req, status, h, d, targeted, Heuristic{Fraction: DefaultHeuristicFraction, Max: DefaultHeuristicMax}, now)
		if dec.Lifetime.Fresh < 0 {
			t.Fatalf("negative lifetime %v", dec.Lifetime.Fresh)
		}
		initial := InitialAge(h, now.Add(-time.Second), now)
		if initial < 0 {
			t.Fatalf("negative age %v", initial)
		}
		_ = Reusable(ParseRequest(req), dec.Lifetime.Fresh, initial, dec.StaleForbidden)
		if strings.Contains(strings.ToLower(cc), "no-store") && !strings.Contains(strings.ToLower(cc), "must-understand") && dec.Store && d.NoStore {
			t.Fatalf("stored despite no-store: %q", cc)
		}
	})
}
