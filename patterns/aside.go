package patterns

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/emgcache/emgcache/store"
)

// negativeMarker is what a key cached as absent holds. No JSON text starts
// with a NUL byte, so it cannot be mistaken for a value.
var negativeMarker = []byte("\x00emgcache:not-found")

func isNegative(b []byte) bool { return bytes.Equal(b, negativeMarker) }

// cachedNotFound is the error for a key cached as absent.
func cachedNotFound(key string) error {
	return fmt.Errorf("%q cached as absent: %w", key, ErrNotFound)
}

// AsideOption changes one Aside call.
type AsideOption interface {
	apply(*asideConfig)
}

type asideConfig struct {
	negativeTTL   time.Duration // 0: "not found" is not cached
	refresh       bool
	refreshWindow time.Duration // 0 with refresh: a fraction of the TTL
	// overwrite: the cached value could not be decoded, so the one who
	// loads replaces it instead of waiting for it.
	overwrite bool
	// bypass: the cache failed, so load without lock or write.
	bypass bool
}

type asideOptionFunc func(*asideConfig)

func (f asideOptionFunc) apply(c *asideConfig) { f(c) }

// WithNegativeCache makes a loader's "not found" (an error matching
// ErrNotFound) cached for ttl, so that requests for a file that does not
// exist cannot hammer the origin. Zero means DefaultNegativeTTL. Until it
// expires, Aside and the batch reads return an error matching ErrNotFound
// for the key without calling the loader. The key holds a marker that is
// not JSON, which store.GetJSON reports as store.ErrDecode.
func WithNegativeCache(ttl time.Duration) AsideOption {
	if ttl <= 0 {
		ttl = DefaultNegativeTTL
	}
	return asideOptionFunc(func(c *asideConfig) { c.negativeTTL = ttl })
}

// WithRefreshAhead reloads a key in the background when a read finds it in
// the last window of its life, so that a popular key never misses: the
// read returns the cached value at once, and the reload replaces it before
// it expires. Zero means DefaultRefreshAheadFraction of the TTL; the window
// is at most half the TTL. One process reloads at a time, under the same
// lock as a miss.
//
// The time left is learned without a round trip for keys this process
// wrote, and with one background TTL call for keys written by others. The
// reload runs after the request is over, detached from its cancellation but
// with its values; Close stops it.
func WithRefreshAhead(window time.Duration) AsideOption {
	return asideOptionFunc(func(c *asideConfig) {
		c.refresh = true
		c.refreshWindow = max(window, 0)
	})
}

// window returns how long before expiry a key written with ttl is
// reloaded, or 0 without refresh-ahead.
func (c *asideConfig) window(ttl time.Duration) time.Duration {
	if !c.refresh {
		return 0
	}
	w := c.refreshWindow
	if w == 0 {
		w = time.Duration(float64(ttl) * DefaultRefreshAheadFraction)
	}
	return min(w, ttl/2)
}

// Aside returns the value of key, JSON-decoded into a T, or on a miss runs
// loader, stores its result for ttl (0: the cache's default TTL; spread by
// Options.Jitter) and returns it. Values are JSON, so store.GetJSON reads
// them too.
//
// Concurrent misses of one key run loader once: once in this process, and,
// through a short lock in Redis (LockPrefix+key), once across the processes
// sharing the cache. A caller that finds the lock taken waits for the value
// up to Options.LockWait, then loads it itself rather than hang. The
// loader's context is not the caller's: it carries the caller's values but
// is cancelled only when every caller waiting for the load has gone.
//
// The cache never makes the call fail: when it is unavailable (or the key
// is invalid for it, or its value does not decode) the loader's result is
// returned and the failure goes to Options.OnError. A loader error is
// returned as is and not cached, except "not found" with WithNegativeCache.
// A panic in loader is re-raised in every caller that waited for it. The
// only error of Aside's own is ctx's, when ctx ends before the value is
// there.
func Aside[T any](ctx context.Context, p *Patterns, key string, ttl time.Duration, loader func(ctx context.Context) (T, error), opts ...AsideOption) (T, error) {
	var cfg asideConfig
	for _, o := range opts {
		o.apply(&cfg)
	}
	var zero T
	// store.GetJSON decodes the cached value in place, without the copy
	// that Get makes: a hit on a large analysis allocates only its result.
	v, err := store.GetJSON[T](ctx, p.cache, key)
	switch {
	case err == nil:
		if cfg.refresh && p.refresh.due(key, time.Now(), p.opts.LockTTL) {
			p.startRefresh(ctx, key, ttl, cfg, encoder(p, key, loader))
		}
		return v, nil
	case errors.Is(err, store.ErrDecode):
		// Rare enough to afford a second read, usually from process memory:
		// the key is cached as absent, or holds something that is not a T.
		if s, gerr := p.cache.Peek(ctx, key); gerr == nil && isNegative([]byte(s)) {
			return zero, cachedNotFound(key)
		}
		p.report(ctx, key, err)
		cfg.overwrite = true
	case errors.Is(err, store.ErrNotFound):
	default:
		p.report(ctx, key, err)
		cfg.bypass = true
	}

	valid := func(b []byte) bool {
		var v T
		return json.Unmarshal(b, &v) == nil
	}
	produce := encoder(p, key, loader)
	res, err := p.flights.do(ctx, key, p.spawn, func(ctx context.Context) flightResult {
		return p.fill(ctx, key, ttl, cfg, produce, valid)
	})
	switch {
	case err != nil:
		return zero, err
	case res.panicked != nil:
		panic(res.panicked)
	case res.err != nil:
		return zero, res.err
	case res.raw != nil:
		// Every caller decodes its own copy, as a hit would: no two callers
		// share maps or slices they might write into.
		var v T
		if err := json.Unmarshal(res.raw, &v); err != nil {
			return zero, fmt.Errorf("%w: key %q: %w", store.ErrDecode, key, err)
		}
		return v, nil
	}
	if v, ok := res.val.(T); ok {
		return v, nil
	}
	return zero, fmt.Errorf("patterns: concurrent Aside calls for %q ask for different types", key)
}

// encoder wraps loader so that it produces JSON, or the value itself when
// it cannot be encoded (it is then returned, not cached).
func encoder[T any](p *Patterns, key string, loader func(context.Context) (T, error)) func(context.Context) flightResult {
	return func(ctx context.Context) flightResult {
		v, err := loader(ctx)
		if err != nil {
			return flightResult{err: err}
		}
		raw, err := json.Marshal(v)
		if err != nil {
			p.report(ctx, key, fmt.Errorf("encode %q: %w", key, err))
			return flightResult{val: v}
		}
		return flightResult{raw: raw}
	}
}

// fill is the load of a missing key, shared by this process's callers.
// valid tells whether a value found in the cache decodes.
func (p *Patterns) fill(ctx context.Context, key string, ttl time.Duration, cfg asideConfig, produce func(context.Context) flightResult, valid func([]byte) bool) flightResult {
	if cfg.bypass {
		return produce(ctx)
	}
	lockKey := LockPrefix + key
	token := []byte(rand.Text())
	deadline := time.Now().Add(p.opts.LockWait)
	for {
		ok, err := p.cache.SetNX(ctx, lockKey, token, p.opts.LockTTL)
		if err != nil {
			// No coordination without the lock; the write may still work
			// (the lock key alone may be too long, say).
			p.report(ctx, lockKey, err)
			return p.loadAndStore(ctx, key, ttl, cfg, produce)
		}
		if ok {
			if res, loaded := p.fillLocked(ctx, key, lockKey, token, ttl, cfg, produce); loaded {
				return res
			}
			// The value is in Redis but not yet visible here: wait for it.
		}
		if !time.Now().Before(deadline) {
			// The holder is slow or gone: loading again costs less than
			// making the caller wait longer.
			return p.loadAndStore(ctx, key, ttl, cfg, produce)
		}
		t := time.NewTimer(p.opts.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return flightResult{err: ctx.Err()}
		case <-t.C:
		}
		// Polling is bookkeeping: it must not count a miss per poll.
		s, err := p.cache.Peek(ctx, key)
		b := []byte(s)
		switch {
		case err == nil && isNegative(b):
			return flightResult{err: cachedNotFound(key)}
		case err == nil && valid(b):
			return flightResult{raw: b}
		case err == nil:
			cfg.overwrite = true
		case errors.Is(err, store.ErrNotFound):
		default:
			p.report(ctx, key, err)
			return produce(ctx)
		}
	}
}

// fillLocked loads and stores key while holding its lock. loaded is false
// when the value turned out to be there already.
func (p *Patterns) fillLocked(ctx context.Context, key, lockKey string, token []byte, ttl time.Duration, cfg asideConfig, produce func(context.Context) flightResult) (res flightResult, loaded bool) {
	defer p.unlock(ctx, lockKey, token)
	if !cfg.overwrite {
		// The previous holder may have written the value between our miss
		// and our lock. Exists asks Redis; Get could answer from a local
		// copy that has not yet heard of that write.
		ok, err := p.cache.Exists(ctx, key)
		if err != nil {
			p.report(ctx, key, err)
		}
		if ok {
			return flightResult{}, false
		}
	}
	return p.loadAndStore(ctx, key, ttl, cfg, produce), true
}

func (p *Patterns) unlock(ctx context.Context, lockKey string, token []byte) {
	// Released even when the load's callers are gone, or the others wait
	// for the lock to expire.
	if _, err := p.cache.DeleteIfValue(context.WithoutCancel(ctx), lockKey, token); err != nil {
		p.report(ctx, lockKey, err)
	}
}

// loadAndStore runs the loader and writes what it produced: the value, or
// the negative marker for "not found" when asked to.
func (p *Patterns) loadAndStore(ctx context.Context, key string, ttl time.Duration, cfg asideConfig, produce func(context.Context) flightResult) flightResult {
	res := produce(ctx)
	// A value that cost a load is worth writing even if every caller has
	// gone meanwhile; the store bounds the write by its own timeout.
	wctx := context.WithoutCancel(ctx)
	switch {
	case res.err == nil && res.raw != nil:
		d := p.jitter(ttl)
		if err := p.cache.Set(wctx, key, res.raw, d); err != nil {
			p.report(ctx, key, err)
		} else if w := cfg.window(p.effectiveTTL(ttl)); w > 0 {
			p.refresh.set(key, time.Now().Add(d-w))
		}
	case cfg.negativeTTL > 0 && errors.Is(res.err, ErrNotFound):
		if err := p.cache.Set(wctx, key, negativeMarker, p.jitter(cfg.negativeTTL)); err != nil {
			p.report(ctx, key, err)
		}
	}
	return res
}

// effectiveTTL is ttl with 0 read as the cache's default.
func (p *Patterns) effectiveTTL(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		return p.cache.Config().DefaultTTL
	}
	return ttl
}
