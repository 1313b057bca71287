package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/emgcache/emgcache/store"
)

func TestStoreFor(t *testing.T) {
	cache, err := store.Open(t.Context(), store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	owned := newConfig(cache, Options{TTL: time.Hour, StaleWhileRevalidate: time.Minute, StaleIfError: 2 * time.Minute})
	shared := newConfig(cache, Options{Semantics: SharedCache, StaleIfError: 2 * time.Minute})
	now := storedAt
	sent := now.Add(-time.Second)
	date := func(d time.Duration) string { return now.Add(d).UTC().Format(http.TimeFormat) }
	windows := lifetime{swr: time.Minute, sie: 2 * time.Minute}
	with := func(l lifetime, fresh time.Duration) lifetime { l.fresh = fresh; return l }
	cases := []struct {
		name   string
		cfg    *config
		req    http.Header
		status int
		h      http.Header
		want   lifetime
		ok     bool
	}{
		{"owned: plain 200", &owned, nil, 200, http.Header{}, with(windows, time.Hour), true},
		{"owned: 404 without freshness", &owned, nil, 404, http.Header{}, lifetime{}, false},
		{"owned: 404 with max-age", &owned, nil, 404, http.Header{"Cache-Control": {"max-age=60"}}, lifetime{fresh: time.Minute, swr: time.Minute, sie: 2 * time.Minute}, true},
		{"owned: 500", &owned, nil, 500, http.Header{}, lifetime{}, false},
		{"owned: 500 with max-age", &owned, nil, 500, http.Header{"Cache-Control": {"max-age=60"}}, lifetime{}, false},
		{"owned: 206", &owned, nil, 206, http.Header{}, lifetime{}, false},
		{"owned: max-age", &owned, nil, 200, http.Header{"Cache-Control": {"max-age=60"}}, with(windows, time.Minute), true},
		{"owned: max-age above TTL", &owned, nil, 200, http.Header{"Cache-Control": {"max-age=7200"}}, with(windows, time.Hour), true},
		{"owned: CDN-Cache-Control replaces Cache-Control", &owned, nil, 200, http.Header{"Cache-Control": {"no-store"}, "Cdn-Cache-Control": {"max-age=60"}}, with(windows, time.Minute), true},
		{"owned: own targeted field first", &owned, nil, 200, http.Header{"Emgcache-Cache-Control": {"max-age=30"}, "Cdn-Cache-Control": {"max-age=60"}}, with(windows, 30*time.Second), true},
		{"owned: s-maxage implies proxy-revalidate", &owned, nil, 200, http.Header{"Cache-Control": {"s-maxage=60"}}, lifetime{fresh: time.Minute}, true},
		{"owned: s-maxage with its own windows", &owned, nil, 200, http.Header{"Cache-Control": {"s-maxage=60, stale-if-error=5"}}, lifetime{fresh: time.Minute, sie: 5 * time.Second}, true},
		{"owned: must-revalidate", &owned, nil, 200, http.Header{"Cache-Control": {"max-age=60, must-revalidate, stale-if-error=5"}}, lifetime{fresh: time.Minute}, true},
		{"owned: response windows", &owned, nil, 200, http.Header{"Cache-Control": {"stale-while-revalidate=5, stale-if-error=0"}}, lifetime{fresh: time.Hour, swr: 5 * time.Second}, true},
		{"owned: max-age=0", &owned, nil, 200, http.Header{"Cache-Control": {"max-age=0"}}, lifetime{}, false},
		{"owned: Expires past", &owned, nil, 200, http.Header{"Expires": {"Thu, 01 Jan 1970 00:00:00 GMT"}}, lifetime{}, false},
		{"owned: Expires invalid", &owned, nil, 200, http.Header{"Expires": {"0"}}, lifetime{}, false},
		{"owned: Expires with a one-digit hour", &owned, nil, 200, http.Header{"Expires": {"Thu, 18 Aug 2050 2:01:18 GMT"}}, lifetime{}, false},
		{"owned: Expires future", &owned, nil, 200, http.Header{"Expires": {date(time.Minute)}}, with(windows, time.Minute), true},
		{"owned: Set-Cookie", &owned, nil, 200, http.Header{"Set-Cookie": {"a=b"}}, lifetime{}, false},
		{"owned: no-store", &owned, nil, 200, http.Header{"Cache-Control": {"no-store"}}, lifetime{}, false},
		{"owned: Vary star", &owned, nil, 200, http.Header{"Vary": {"*"}}, lifetime{}, false},
		{"owned: trailer", &owned, nil, 200, http.Header{"Trailer": {"X-Sum"}}, lifetime{}, false},
		{"owned: trailer prefix", &owned, nil, 200, http.Header{http.TrailerPrefix + "X-Sum": {"1"}}, lifetime{}, false},

		{"shared: no freshness", &shared, nil, 200, http.Header{}, lifetime{}, false},
		{"shared: max-age", &shared, nil, 200, http.Header{"Cache-Control": {"max-age=60"}}, lifetime{fresh: time.Minute, sie: 2 * time.Minute}, true},
		{"shared: max-age past any TTL", &shared, nil, 200, http.Header{"Cache-Control": {"max-age=86400"}}, lifetime{fresh: 24 * time.Hour, sie: 2 * time.Minute}, true},
		{"shared: any status with explicit freshness", &shared, nil, 500, http.Header{"Cache-Control": {"max-age=60"}}, lifetime{fresh: time.Minute, sie: 2 * time.Minute}, true},
		{"shared: heuristic from Last-Modified", &shared, nil, 200, http.Header{"Last-Modified": {date(-10 * time.Hour)}, "Date": {date(0)}}, lifetime{fresh: time.Hour, sie: 2 * time.Minute, keep: DefaultRevalidationWindow}, true},
		{"shared: heuristic capped", &shared, nil, 200, http.Header{"Last-Modified": {date(-1000 * time.Hour)}, "Date": {date(0)}}, lifetime{fresh: DefaultMaxHeuristicFreshness, sie: 2 * time.Minute, keep: DefaultRevalidationWindow}, true},
		{"shared: no-cache with an ETag is stored to revalidate", &shared, nil, 200, http.Header{"Cache-Control": {"no-cache"}, "Etag": {`"a"`}}, lifetime{keep: DefaultRevalidationWindow}, true},
		{"shared: Authorization", &shared, http.Header{"Authorization": {"Bearer x"}}, 200, http.Header{"Cache-Control": {"max-age=60"}}, lifetime{}, false},
		{"shared: Authorization and public", &shared, http.Header{"Authorization": {"Bearer x"}}, 200, http.Header{"Cache-Control": {"max-age=60, public"}}, lifetime{fresh: time.Minute, sie: 2 * time.Minute}, true},
		{"shared: s-maxage forbids stale", &shared, nil, 200, http.Header{"Cache-Control": {"s-maxage=60"}}, lifetime{fresh: time.Minute}, true},
		{"shared: proxy-revalidate forbids stale", &shared, nil, 200, http.Header{"Cache-Control": {"max-age=60, proxy-revalidate, stale-if-error=9"}}, lifetime{fresh: time.Minute}, true},
		{"shared: private", &shared, nil, 200, http.Header{"Cache-Control": {"max-age=60, private"}}, lifetime{}, false},
		{"shared: trailer", &shared, nil, 200, http.Header{"Cache-Control": {"max-age=60"}, "Trailer": {"X-Sum"}}, lifetime{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for k, v := range tc.req {
				r.Header[k] = v
			}
			got, ok := tc.cfg.storeFor(r, tc.status, tc.h, sent, now)
			assert.Equal(t, tc.ok, ok)
			if ok {
				assert.Equal(t, tc.want, got.life)
			}
		})
	}
}

func TestStoreForAge(t *testing.T) {
	cache, err := store.Open(t.Context(), store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	cfg := newConfig(cache, Options{Semantics: SharedCache})
	now := storedAt
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	h := http.Header{"Cache-Control": {`max-age=600, private="X-Secret"`}, "Age": {"100"}, "Date": {now.UTC().Format(http.TimeFormat)}}
	plan, ok := cfg.storeFor(r, 200, h, now.Add(-2*time.Second), now)
	assert.True(t, ok)
	assert.Equal(t, 102*time.Second, plan.initialAge, "Age plus the response delay (RFC 9111 §4.2.3)")
	assert.Equal(t, []string{"X-Secret"}, plan.strip)
}
