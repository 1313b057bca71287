package patterns

import (
	"github.com/emgcache/emgcache/store"
)

// Options configures the patterns. Its zero value means the documented
// defaults.
type Options struct{}

// Patterns runs the caching patterns on one store.Cache. It is safe for
// concurrent use.
type Patterns struct {
	cache *store.Cache
	opts  Options
}

// New returns the patterns for cache.
func New(cache *store.Cache, opts Options) *Patterns {
	return &Patterns{cache: cache, opts: opts}
}

// Cache returns the store the patterns run on.
func (p *Patterns) Cache() *store.Cache { return p.cache }
