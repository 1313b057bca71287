package middleware

import (
	"net/http"
	"time"

	"github.com/emgcache/emgcache/store"
)

// NewWithClock is New with the clock that decides freshness replaced, so
// that tests move time instead of sleeping through TTLs.
func NewWithClock(cache *store.Cache, opts Options, now func() time.Time) func(http.Handler) http.Handler {
	return newMiddleware(cache, opts, now).wrap
}
