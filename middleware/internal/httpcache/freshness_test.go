package httpcache

import (
	"net/http"
	"testing"
	"time"
)

var (
	t0   = time.Date(2026, time.December, 1, 12, 0, 0, 0, time.UTC)
	hc10 = Heuristic{Fraction: DefaultHeuristicFraction, Max: DefaultHeuristicMax}
)

func date(d time.Duration) string { return FormatHTTPDate(t0.Add(d)) }

func TestFreshnessLifetime(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int
		h        http.Header
		targeted string // a CDN-Cache-Control value replacing Cache-Control
		want     Lifetime
	}{
		{"s-maxage beats max-age", 200, http.Header{"Cache-Control": {"max-age=10, s-maxage=20"}}, "", Lifetime{20 * time.Second, true, false}},
		{"max-age beats Expires", 200, http.Header{"Cache-Control": {"max-age=10"}, "Expires": {date(time.Hour)}, "Date": {date(0)}}, "", Lifetime{10 * time.Second, true, false}},
		{"max-age beats an invalid Expires", 200, http.Header{"Cache-Control": {"max-age=10"}, "Expires": {"0"}}, "", Lifetime{10 * time.Second, true, false}},
		{"Expires minus Date", 200, http.Header{"Expires": {date(time.Hour)}, "Date": {date(0)}}, "", Lifetime{time.Hour, true, false}},
		{"Expires minus the response time without Date", 200, http.Header{"Expires": {date(time.Hour)}}, "", Lifetime{time.Hour, true, false}},
		{"Expires minus the response time with an invalid Date", 200, http.Header{"Expires": {date(time.Hour)}, "Date": {"yesterday"}}, "", Lifetime{time.Hour, true, false}},
		{"Expires in the past", 200, http.Header{"Expires": {date(-time.Hour)}, "Date": {date(0)}}, "", Lifetime{0, true, false}},
		{"invalid Expires is expired", 200, http.Header{"Expires": {"0"}}, "", Lifetime{0, true, false}},
		{"one-digit hour Expires is expired", 200, http.Header{"Expires": {"Thu, 18 Aug 2050 2:01:18 GMT"}}, "", Lifetime{0, true, false}},
		{"two Expires lines are expired", 200, http.Header{"Expires": {date(time.Hour), date(time.Hour)}}, "", Lifetime{0, true, false}},
		{"heuristic: a tenth since Last-Modified", 200, http.Header{"Last-Modified": {date(-10 * time.Hour)}, "Date": {date(0)}}, "", Lifetime{time.Hour, false, true}},
		{"heuristic capped", 200, http.Header{"Last-Modified": {date(-1000 * time.Hour)}, "Date": {date(0)}}, "", Lifetime{DefaultHeuristicMax, false, true}},
		{"no heuristic for a 500", 500, http.Header{"Last-Modified": {date(-10 * time.Hour)}}, "", Lifetime{}},
		{"heuristic for a public 500", 500, http.Header{"Last-Modified": {date(-10 * time.Hour)}, "Cache-Control": {"public"}}, "", Lifetime{time.Hour, false, true}},
		{"no heuristic when explicit", 200, http.Header{"Last-Modified": {date(-10 * time.Hour)}, "Expires": {date(0)}}, "", Lifetime{0, true, false}},
		{"no heuristic with a future Last-Modified", 200, http.Header{"Last-Modified": {date(time.Hour)}}, "", Lifetime{}},
		{"no freshness at all", 200, http.Header{}, "", Lifetime{}},
		{"no-cache is fresh for 0", 200, http.Header{"Cache-Control": {"no-cache, max-age=60"}}, "", Lifetime{0, true, false}},
		{"targeted field ignores Expires", 200, http.Header{"Expires": {date(time.Hour)}, "Date": {date(0)}}, "public", Lifetime{}},
		{"targeted max-age with past Expires", 200, http.Header{"Expires": {date(-time.Hour)}, "Date": {date(0)}}, "max-age=3600", Lifetime{time.Hour, true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.targeted != "" {
				tc.h[CDNCacheControl] = []string{tc.targeted}
			}
			d, targeted := Directives(tc.h, []string{CDNCacheControl})
			if got := FreshnessLifetime(tc.status, tc.h, d, targeted, hc10, t0); got != tc.want {
				t.Fatalf("FreshnessLifetime = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestHeuristicOff(t *testing.T) {
	h := http.Header{"Last-Modified": {date(-10 * time.Hour)}}
	if got := FreshnessLifetime(200, h, ParseCacheControl(nil), false, Heuristic{}, t0); got != (Lifetime{}) {
		t.Fatalf("heuristics off: %+v", got)
	}
}
