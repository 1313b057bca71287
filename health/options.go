package health

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/store"
)

// Defaults applied by New to zero fields of Options.
const (
	// DefaultInvalidateBurst is how many invalidations may run back to back
	// before the rate limit applies.
	DefaultInvalidateBurst = 5
	// DefaultInvalidateInterval is how often one more invalidation is
	// allowed once the burst is spent: ten a minute. Each one walks the whole
	// keyspace with SCAN, so a script calling in a loop would load Redis for
	// nothing.
	DefaultInvalidateInterval = 6 * time.Second
	// DefaultInvalidateTimeout bounds one invalidation. SCAN over millions of
	// keys takes seconds, not minutes; a walk still running after this is
	// stuck, and the caller gets an answer instead of a hung request.
	DefaultInvalidateTimeout = 30 * time.Second
)

// Options configures the API. Its zero value means the defaults documented
// on each field; note that the zero value leaves invalidation disabled,
// because there is no admin token.
type Options struct {
	// AdminToken authorizes POST invalidate: callers send it as
	// "Authorization: Bearer <token>". Empty disables the endpoint: it then
	// answers 403 to everyone, so a forgotten setting never leaves it open.
	AdminToken string

	// InvalidateBurst is how many invalidations may run back to back. Zero
	// means DefaultInvalidateBurst.
	InvalidateBurst int

	// InvalidateInterval is how often one more invalidation is allowed once
	// the burst is spent. Zero means DefaultInvalidateInterval.
	InvalidateInterval time.Duration

	// InvalidateTimeout bounds one invalidation. Zero means
	// DefaultInvalidateTimeout.
	InvalidateTimeout time.Duration

	// HTTP are the response caches (middleware.ResponseCache) whose HTTP
	// outcomes stats, the dashboard and the metrics show beside the
	// store's reads: their hit rate is the one a target applies to, since
	// the store counts reads, not what became of each request (one that
	// joined another request's fill read nothing). Nil shows the store
	// alone.
	HTTP []HTTPLayer

	// Invalidator removes keys by pattern. Nil means the cache's own
	// DeletePattern; *patterns.Layer satisfies it too.
	Invalidator Invalidator

	// Logger receives one record for every call of the invalidate endpoint.
	// Nil means slog.Default().
	Logger *slog.Logger
}

// HTTPLayer is a response cache whose counters the API shows:
// *middleware.ResponseCache.
type HTTPLayer interface {
	Stats() middleware.Stats
}

var _ HTTPLayer = (*middleware.ResponseCache)(nil)

// Invalidator removes every key matching a glob pattern and reports how
// many it removed. A bad pattern must give an error matching
// store.ErrInvalidPattern, which the API answers with 400.
type Invalidator interface {
	InvalidatePattern(ctx context.Context, pattern string) (int64, error)
}

// cacheInvalidator is the default Invalidator: the store's DeletePattern,
// which is all the API needs, so that health does not require patterns.
type cacheInvalidator struct{ cache *store.Cache }

func (c cacheInvalidator) InvalidatePattern(ctx context.Context, pattern string) (int64, error) {
	n, err := c.cache.DeletePattern(ctx, pattern)
	if err != nil {
		return n, fmt.Errorf("invalidate %q: %w", pattern, err)
	}
	return n, nil
}

// withDefaults fills the zero fields. Negative values are programming
// errors, so they panic at construction rather than misbehave at the first
// request.
func (o Options) withDefaults() Options {
	switch {
	case o.InvalidateBurst < 0:
		panic("health: negative Options.InvalidateBurst")
	case o.InvalidateInterval < 0:
		panic("health: negative Options.InvalidateInterval")
	case o.InvalidateTimeout < 0:
		panic("health: negative Options.InvalidateTimeout")
	}
	if o.InvalidateBurst == 0 {
		o.InvalidateBurst = DefaultInvalidateBurst
	}
	if o.InvalidateInterval == 0 {
		o.InvalidateInterval = DefaultInvalidateInterval
	}
	if o.InvalidateTimeout == 0 {
		o.InvalidateTimeout = DefaultInvalidateTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
