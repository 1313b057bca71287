package middleware

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/emgcache/emgcache/store"
)

func TestParseCacheControl(t *testing.T) {
	none := directives{maxAge: absent, sMaxAge: absent, swr: absent, sie: absent}
	with := func(f func(d *directives)) directives { d := none; f(&d); return d }
	cases := []struct {
		in   []string
		want directives
	}{
		{nil, none},
		{[]string{""}, none},
		{[]string{"max-age=60"}, with(func(d *directives) { d.maxAge = 60 })},
		{[]string{"Max-Age = 60"}, with(func(d *directives) { d.maxAge = 60 })},
		{[]string{`max-age="60"`}, with(func(d *directives) { d.maxAge = 60 })},
		{[]string{"max-age=abc"}, with(func(d *directives) { d.maxAge = 0 })},
		{[]string{"max-age=-1"}, with(func(d *directives) { d.maxAge = 0 })},
		{[]string{"max-age=99999999999999999999"}, with(func(d *directives) { d.maxAge = maxDelta })},
		{[]string{"max-age=600", "max-age=60"}, with(func(d *directives) { d.maxAge = 60 })},
		{[]string{"public, s-maxage=10, max-age=20"}, with(func(d *directives) { d.sMaxAge, d.maxAge = 10, 20 })},
		{[]string{`no-cache="Set-Cookie, X-A", max-age=5`}, with(func(d *directives) { d.noCache, d.maxAge = true, 5 })},
		{[]string{`private="a,b"`, "no-store"}, with(func(d *directives) { d.private, d.noStore = true, true })},
		{[]string{"proxy-revalidate"}, with(func(d *directives) { d.mustRevalidate = true })},
		{[]string{"stale-while-revalidate=30,stale-if-error=600"}, with(func(d *directives) { d.swr, d.sie = 30, 600 })},
		{[]string{`x-ext="a\"b,c", max-age=1`}, with(func(d *directives) { d.maxAge = 1 })},
		{[]string{`max-age="1`}, with(func(d *directives) { d.maxAge = 1 })},
		{[]string{",,, ,max-age=2,,"}, with(func(d *directives) { d.maxAge = 2 })},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, parseCacheControl(tc.in), "%q", tc.in)
	}
}

func TestRequestDirectives(t *testing.T) {
	cases := []struct {
		h    http.Header
		want requestDirectives
	}{
		{http.Header{}, requestDirectives{maxAge: absent}},
		{http.Header{"Cache-Control": {"no-store"}}, requestDirectives{noStore: true, maxAge: absent}},
		{http.Header{"Cache-Control": {"no-cache"}}, requestDirectives{noCache: true, maxAge: absent}},
		{http.Header{"Cache-Control": {"max-age=0"}}, requestDirectives{noCache: true, maxAge: 0}},
		{http.Header{"Cache-Control": {"max-age=30"}}, requestDirectives{maxAge: 30}},
		{http.Header{"Pragma": {"no-cache"}}, requestDirectives{noCache: true, maxAge: absent}},
		{http.Header{"Pragma": {"no-cache"}, "Cache-Control": {"max-age=30"}}, requestDirectives{maxAge: 30}},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, parseRequestDirectives(tc.h), "%v", tc.h)
	}
}

func TestStoreFor(t *testing.T) {
	cache, err := store.Open(t.Context(), store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	cfg := newConfig(cache, Options{TTL: time.Hour, StaleWhileRevalidate: time.Minute, StaleIfError: 2 * time.Minute})
	now := storedAt
	cases := []struct {
		name   string
		status int
		h      http.Header
		want   lifetime
		ok     bool
	}{
		{"plain 200", 200, http.Header{}, lifetime{time.Hour, time.Minute, 2 * time.Minute}, true},
		{"404", 404, http.Header{}, lifetime{time.Hour, time.Minute, 2 * time.Minute}, true},
		{"500", 500, http.Header{}, lifetime{}, false},
		{"206", 206, http.Header{}, lifetime{}, false},
		{"max-age", 200, http.Header{"Cache-Control": {"max-age=60"}}, lifetime{time.Minute, time.Minute, 2 * time.Minute}, true},
		{"s-maxage implies proxy-revalidate", 200, http.Header{"Cache-Control": {"s-maxage=60"}}, lifetime{time.Minute, 0, 0}, true},
		{"s-maxage with its own windows", 200, http.Header{"Cache-Control": {"s-maxage=60, stale-if-error=5"}}, lifetime{time.Minute, 0, 5 * time.Second}, true},
		{"must-revalidate", 200, http.Header{"Cache-Control": {"max-age=60, must-revalidate, stale-if-error=5"}}, lifetime{time.Minute, 0, 0}, true},
		{"response windows", 200, http.Header{"Cache-Control": {"stale-while-revalidate=5, stale-if-error=0"}}, lifetime{time.Hour, 5 * time.Second, 0}, true},
		{"max-age=0", 200, http.Header{"Cache-Control": {"max-age=0"}}, lifetime{}, false},
		{"Expires past", 200, http.Header{"Expires": {"Thu, 01 Jan 1970 00:00:00 GMT"}}, lifetime{}, false},
		{"Expires invalid", 200, http.Header{"Expires": {"0"}}, lifetime{}, false},
		{"Expires future", 200, http.Header{"Expires": {now.Add(time.Minute).Format(http.TimeFormat)}}, lifetime{time.Minute, time.Minute, 2 * time.Minute}, true},
		{"Set-Cookie", 200, http.Header{"Set-Cookie": {"a=b"}}, lifetime{}, false},
		{"no-store", 200, http.Header{"Cache-Control": {"no-store"}}, lifetime{}, false},
		{"Vary star", 200, http.Header{"Vary": {"*"}}, lifetime{}, false},
		{"trailer", 200, http.Header{"Trailer": {"X-Sum"}}, lifetime{}, false},
		{"trailer prefix", 200, http.Header{http.TrailerPrefix + "X-Sum": {"1"}}, lifetime{}, false},
	}
	for _, tc := range cases {
		got, ok := cfg.storeFor(tc.status, tc.h, now)
		assert.Equal(t, tc.ok, ok, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
	}
}

func TestParseVary(t *testing.T) {
	names, star := parseVary([]string{"accept-encoding, Accept", "ACCEPT", ""})
	assert.Equal(t, []string{"Accept", "Accept-Encoding"}, names)
	assert.False(t, star)
	_, star = parseVary([]string{"Accept, *"})
	assert.True(t, star)
}
