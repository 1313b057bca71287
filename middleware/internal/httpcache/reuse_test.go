package httpcache

import (
	"net/http"
	"testing"
	"time"
)

func TestReusable(t *testing.T) {
	const s = time.Second
	for _, tc := range []struct {
		name      string
		cc        string
		fresh     time.Duration
		age       time.Duration
		forbidden bool
		want      Use
	}{
		{"fresh", "", 60 * s, 10 * s, false, UseFresh},
		{"age equal to lifetime is stale", "", 60 * s, 60 * s, false, UseRevalidate},
		{"stale", "", 60 * s, 70 * s, false, UseRevalidate},
		{"request no-cache", "no-cache", 60 * s, 0, false, UseRevalidate},
		{"request max-age older", "max-age=5", 60 * s, 10 * s, false, UseRevalidate},
		{"request max-age younger", "max-age=20", 60 * s, 10 * s, false, UseFresh},
		{"request max-age=0", "max-age=0", 60 * s, 500 * time.Millisecond, false, UseRevalidate},
		{"min-fresh not met", "min-fresh=55", 60 * s, 10 * s, false, UseRevalidate},
		{"min-fresh met", "min-fresh=40", 60 * s, 10 * s, false, UseFresh},
		{"max-stale accepts", "max-stale=20", 60 * s, 70 * s, false, UseStale},
		{"max-stale too short", "max-stale=5", 60 * s, 70 * s, false, UseRevalidate},
		{"max-stale any", "max-stale", 60 * s, 7000 * s, false, UseStale},
		{"max-stale against must-revalidate", "max-stale", 60 * s, 70 * s, true, UseRevalidate},
		{"no-cache response is fresh for 0", "", 0, 0, false, UseRevalidate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.cc != "" {
				h.Set("Cache-Control", tc.cc)
			}
			if got := Reusable(ParseRequest(h), tc.fresh, tc.age, tc.forbidden); got != tc.want {
				t.Fatalf("Reusable = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestValidatorsFor(t *testing.T) {
	lm := date(-time.Hour)
	got := ValidatorsFor(http.Header{"Etag": {`"x"`}, "Last-Modified": {lm}})
	if got.Get("If-None-Match") != `"x"` || got.Get("If-Modified-Since") != lm {
		t.Fatalf("ValidatorsFor = %v", got)
	}
	if got := ValidatorsFor(http.Header{"Last-Modified": {"garbage"}}); len(got) != 0 {
		t.Fatalf("an invalid Last-Modified is no validator: %v", got)
	}
}

func TestFreshens(t *testing.T) {
	for _, tc := range []struct {
		name         string
		stored, h304 http.Header
		want         bool
	}{
		{"same ETag", http.Header{"Etag": {`"a"`}}, http.Header{"Etag": {`"a"`}}, true},
		{"other ETag", http.Header{"Etag": {`"a"`}}, http.Header{"Etag": {`"b"`}}, false},
		{"ETag against none stored", http.Header{}, http.Header{"Etag": {`"b"`}}, false},
		{"same Last-Modified", http.Header{"Last-Modified": {date(0)}}, http.Header{"Last-Modified": {date(0)}}, true},
		{"other Last-Modified", http.Header{"Last-Modified": {date(0)}}, http.Header{"Last-Modified": {date(time.Second)}}, false},
		{"no validator in the 304", http.Header{"Etag": {`"a"`}}, http.Header{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Freshens(tc.stored, tc.h304); got != tc.want {
				t.Fatalf("Freshens = %v", got)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	stored := http.Header{"Cache-Control": {"max-age=1"}, "Content-Length": {"5"}, "X-Kept": {"k"}, "Etag": {`"a"`}, "Content-Encoding": {"gzip"}}
	h304 := http.Header{"Cache-Control": {"max-age=60"}, "Content-Length": {"0"}, "X-New": {"n"}, "Age": {"3"}, "Content-Encoding": {"br"}}
	got := Merge(stored, h304)
	want := http.Header{"Cache-Control": {"max-age=60"}, "Content-Length": {"5"}, "X-Kept": {"k"}, "Etag": {`"a"`}, "X-New": {"n"}, "Content-Encoding": {"gzip"}}
	if len(got) != len(want) {
		t.Fatalf("Merge = %v, want %v", got, want)
	}
	for k, v := range want {
		if got.Get(k) != v[0] {
			t.Fatalf("Merge[%s] = %q, want %q", k, got.Get(k), v[0])
		}
	}
	if stored.Get("Cache-Control") != "max-age=1" {
		t.Fatal("Merge modified the stored header")
	}
}
