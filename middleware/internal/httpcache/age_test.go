package httpcache

import (
	"net/http"
	"testing"
	"time"
)

func TestInitialAge(t *testing.T) {
	req, resp := t0.Add(-2*time.Second), t0
	for _, tc := range []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"no Age, Date now: the response delay", http.Header{"Date": {date(0)}}, 2 * time.Second},
		{"Age plus the response delay", http.Header{"Date": {date(0)}, "Age": {"100"}}, 102 * time.Second},
		{"apparent age wins when larger", http.Header{"Date": {date(-time.Hour)}, "Age": {"10"}}, time.Hour},
		{"Date in the future counts 0", http.Header{"Date": {date(time.Hour)}}, 2 * time.Second},
		{"Age list: first member", http.Header{"Age": {"30, 40"}}, 32 * time.Second},
		{"Age lines: first", http.Header{"Age": {"30", "40"}}, 32 * time.Second},
		{"negative Age ignored", http.Header{"Age": {"-10"}}, 2 * time.Second},
		{"non-numeric Age ignored", http.Header{"Age": {"abc"}}, 2 * time.Second},
		{"Age past 2^31 capped", http.Header{"Age": {"99999999999999"}}, MaxDelta*time.Second + 2*time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := InitialAge(tc.h, req, resp); got != tc.want {
				t.Fatalf("InitialAge = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCurrentAge(t *testing.T) {
	if got := CurrentAge(10*time.Second, t0, t0.Add(5*time.Second)); got != 15*time.Second {
		t.Fatalf("CurrentAge = %v", got)
	}
	if got := CurrentAge(10*time.Second, t0, t0.Add(-5*time.Second)); got != 10*time.Second {
		t.Fatalf("CurrentAge with a clock gone back = %v", got)
	}
}

func TestAgeSeconds(t *testing.T) {
	for in, want := range map[time.Duration]int64{-time.Second: 0, 1999 * time.Millisecond: 1, 0: 0} {
		if got := AgeSeconds(in); got != want {
			t.Errorf("AgeSeconds(%v) = %d, want %d", in, got, want)
		}
	}
}
