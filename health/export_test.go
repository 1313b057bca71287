package health

import (
	"time"

	"github.com/emgcache/emgcache/store"
)

// NewWithClock is New with the clock of the invalidate rate limit
// replaced, so that tests move time instead of sleeping.
func NewWithClock(cache *store.Cache, opts Options, now func() time.Time) *API {
	return newAPI(cache, opts, now)
}
