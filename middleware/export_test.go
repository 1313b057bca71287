package middleware

import (
	"net/http"
	"time"

	"github.com/emgcache/emgcache/store"
)

// NewWithClock is New with the clock that decides freshness replaced, so
// that tests move time instead of sleeping through TTLs.
func NewWithClock(cache *store.Cache, opts Options, now func() time.Time) func(http.Handler) http.Handler {
	return newMiddleware(cache, opts, now).Handler
}

// NewMiddlewareWithClock is NewMiddleware with the clock replaced.
func NewMiddlewareWithClock(cache *store.Cache, opts Options, now func() time.Time) *Middleware {
	return newMiddleware(cache, opts, now)
}

// OnJoin sets a hook called (under a lock: it must not block on another
// request) whenever a request joins a flight it did not start.
func OnJoin(m *Middleware, fn func(key string)) { m.flights.OnJoin = fn }

// OnPublished sets a hook run by a fill after it has handed its response
// to the requests waiting for it and before it writes it to the store.
func OnPublished(m *Middleware, fn func()) { m.published = fn }
