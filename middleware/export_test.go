package middleware

import (
	"net/http"
	"time"

	"github.com/emgcache/emgcache/store"
)

// NewWithClock is New with the clock that decides freshness replaced, so
// that tests move time instead of sleeping through TTLs.
func NewWithClock(cache *store.Cache, opts Options, now func() time.Time) func(http.Handler) http.Handler {
	return newResponseCache(cache, opts, now).Handler
}

// NewResponseCacheWithClock is NewResponseCache with the clock replaced.
func NewResponseCacheWithClock(cache *store.Cache, opts Options, now func() time.Time) *ResponseCache {
	return newResponseCache(cache, opts, now)
}

// OnJoin sets a hook called (under a lock: it must not block on another
// request) whenever a request joins a flight it did not start.
func OnJoin(m *ResponseCache, fn func(key string)) { m.flights.OnJoin = fn }

// OnPublished sets a hook run by a fill after it has handed its response
// to the requests waiting for it and before it writes it to the store.
func OnPublished(m *ResponseCache, fn func()) { m.published = fn }
