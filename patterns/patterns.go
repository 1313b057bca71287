package patterns

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/emgcache/emgcache/internal/ratelog"
	"github.com/emgcache/emgcache/store"
)

// Defaults applied by New to zero fields of Options, and by the options and
// calls that name them.
const (
	// DefaultLockTTL is how long a cross-process load lock lives in Redis.
	// It bounds how long a process that dies mid-load keeps the others
	// waiting, so it should exceed a normal load and not much more.
	DefaultLockTTL = 10 * time.Second
	// DefaultLockWait is how long a caller waits for another process's load
	// before it loads itself: a request should not hang on a peer that is
	// slow or gone, and a second load is cheaper than a timeout.
	DefaultLockWait = 3 * time.Second
	// DefaultPollInterval is how often a waiting caller looks for the value
	// another process is loading. Reads of a missing key are usually served
	// from the client-side cache, so polling costs little until the value
	// lands.
	DefaultPollInterval = 20 * time.Millisecond
	// DefaultJitter spreads every TTL written by this package uniformly over
	// ±10 %, so that keys written together do not all expire together.
	DefaultJitter = 0.1
	// DefaultNegativeTTL is how long WithNegativeCache(0) remembers that the
	// origin had nothing for a key: short, because the answer changes as
	// soon as the origin has the value.
	DefaultNegativeTTL = 30 * time.Second
	// DefaultRefreshAheadFraction is the part of the TTL, at the end of an
	// entry's life, during which WithRefreshAhead(0) reloads it.
	DefaultRefreshAheadFraction = 0.1
	// DefaultWarmConcurrency is how many loaders Warm runs at once when
	// WarmOptions.Concurrency is zero: enough to hide a round trip, few
	// enough not to flood the origin at startup.
	DefaultWarmConcurrency = 4
	// LockPrefix starts the key of the refresh lock of a key: the lock of
	// "report:ab12" is "lock:report:ab12" (under the cache's
	// key prefix, like every key). A refresh-ahead reload or a forced Warm
	// of a key that holds a value takes it, so that one process reloads at
	// a time; a load of a missing key locks the key itself with a
	// placeholder instead (see Aside).
	LockPrefix = "lock:"
)

// ErrNotFound is store.ErrNotFound. A loader returns an error matching it
// to say that the origin has no value for the key; WithNegativeCache then
// remembers that answer for a while. Aside and the batch reads return an
// error matching it for a key cached as absent.
var ErrNotFound = store.ErrNotFound

// Options configures a Layer. Its zero value means the documented
// defaults.
type Options struct {
	// LockTTL is the lifetime of the cross-process load lock. Zero means
	// DefaultLockTTL.
	LockTTL time.Duration

	// LockWait bounds how long a caller waits for another process to load a
	// missing key before loading it itself. Zero means DefaultLockWait.
	LockWait time.Duration

	// PollInterval is how often a waiting caller looks for the value. Zero
	// means DefaultPollInterval.
	PollInterval time.Duration

	// Jitter spreads every TTL this package writes uniformly over ±Jitter
	// of its length. Zero means DefaultJitter; a negative value turns
	// jitter off. It must be below 1.
	Jitter float64

	// OnError is told about every cache failure that a call absorbed (the
	// call still succeeded, from the origin) and about failures of
	// background refreshes, which have no caller to return them to. Nil
	// means they are only counted in the store's Stats. It is called from
	// many goroutines at once and should return quickly.
	OnError func(ctx context.Context, key string, err error)

	// CacheBudget bounds the total time one call of Aside waits on the
	// cache, over all its store calls (store.WithBudget: the read, the lock,
	// the polls, the write), unless the caller's context already carries a
	// budget, which the middleware sets per request. Zero means the cache's
	// OpTimeout; negative turns it off. Batches are bounded by a budget in
	// their context only, since a large batch needs more than one OpTimeout.
	CacheBudget time.Duration

	// Logger, when set, receives at warning level the cache failures a call
	// absorbed and the failures of background refreshes, and at debug level
	// the loader failures Aside returned to its callers: at most one record
	// of each kind every store.FailureLogInterval, with the count of those
	// it stood for, so that a Redis that is down does not flood the log. A
	// caller's own cancellation is not logged. Nil, the default, logs
	// nothing, like store.Config.Logger; pass slog.Default() for the
	// program's logger. OnError is called either way.
	Logger *slog.Logger

	// Hooks are called as loads run, for instrumentation
	// (github.com/emgcache/emgcache/emgotel). The zero value calls nothing.
	Hooks Hooks
}

// withDefaults fills zero fields and panics on values that cannot work:
// New has no error to return, and a misconfigured cache should stop the
// program at startup rather than misbehave under load.
func (o Options) withDefaults() Options {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"LockTTL", o.LockTTL}, {"LockWait", o.LockWait}, {"PollInterval", o.PollInterval}} {
		if f.d < 0 {
			panic(fmt.Sprintf("patterns: negative Options.%s %v", f.name, f.d))
		}
	}
	if o.Jitter >= 1 {
		panic(fmt.Sprintf("patterns: Options.Jitter %v is not below 1", o.Jitter))
	}
	if o.LockTTL == 0 {
		o.LockTTL = DefaultLockTTL
	}
	if o.LockWait == 0 {
		o.LockWait = DefaultLockWait
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	switch {
	case o.Jitter == 0:
		o.Jitter = DefaultJitter
	case o.Jitter < 0:
		o.Jitter = 0
	}
	return o
}

// Layer runs the caching patterns on one store.Cache. It is safe for
// concurrent use. Close it to stop the background refreshes it started.
type Layer struct {
	cache   *store.Cache
	opts    Options
	flights flightGroup
	refresh refreshBook
	pool    refreshPool
	// rand returns uniform numbers in [0, 1) for the jitter, from many
	// goroutines at once: math/rand/v2.Float64, which tests replace to
	// make TTLs exact.
	rand func() float64
	flog *ratelog.Logger // nil without Options.Logger

	// ctx ends when Close is called; background refreshes run under it.
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex // guards closed against wg.Add racing wg.Wait
	closed bool
	wg     sync.WaitGroup
}

// New returns a Layer on cache. It panics if cache is nil or opts
// holds a negative duration or a Jitter of 1 or more.
func New(cache *store.Cache, opts Options) *Layer {
	if cache == nil {
		panic("patterns: New with a nil cache")
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Layer{cache: cache, opts: opts.withDefaults(), rand: rand.Float64, ctx: ctx, cancel: cancel,
		flog: ratelog.New(opts.Logger, store.FailureLogInterval)}
}

// withBudget gives ctx the cache budget of Options.CacheBudget unless it
// carries one already.
func (p *Layer) withBudget(ctx context.Context) context.Context {
	if _, ok := store.BudgetLeft(ctx); ok {
		return ctx
	}
	d := p.opts.CacheBudget
	if d == 0 {
		d = p.cache.Config().OpTimeout
	}
	return store.WithBudget(ctx, d)
}

// Cache returns the store the Layer runs on.
func (p *Layer) Cache() *store.Cache { return p.cache }

// Close stops the background refreshes, waits for them and for loads still
// running on behalf of callers, and returns. It does not close the cache,
// which the caller owns. After Close the Layer still works, but starts no
// goroutines: refresh-ahead is off and a load runs in its caller's
// goroutine. Close is idempotent and always returns nil.
func (p *Layer) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
	return nil
}

// spawn runs fn in a goroutine that Close waits for, and reports whether it
// did; after Close it does not.
func (p *Layer) spawn(fn func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		fn()
	}()
	return true
}

// report hands an absorbed failure to Options.OnError and Options.Logger.
func (p *Layer) report(ctx context.Context, key string, err error) {
	p.reportAs(ctx, opCache, key, err)
}

// jitter returns the TTL to write for ttl (0: the cache's default TTL),
// spread by Options.Jitter.
func (p *Layer) jitter(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		ttl = p.cache.Config().DefaultTTL
	}
	if p.opts.Jitter == 0 {
		return ttl
	}
	d := time.Duration(float64(ttl) * (1 + p.opts.Jitter*(2*p.rand()-1)))
	// Redis keeps milliseconds, and rejects an expiry of zero.
	return max(d, time.Millisecond)
}
