package patterns

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emgcache/emgcache/internal/flight"
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
// ErrNotFound) cached for ttl, so that requests for an id that does not
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

// Aside returns the value of key decoded into a T, or on a miss runs
// loader, stores its result for ttl (0: the cache's default TTL; spread by
// Options.Jitter) and returns it. Values are encoded with the cache's codec
// (store.Config.Codec, JSON by default), so store.GetValue reads them too.
//
// A hit is store.GetValue's: the value is decoded once per stored version
// of the key and shared by every caller that reads that version, so
// callers must not modify it (a type implementing store.Cloner is cloned
// instead; see store.GetValue). A value loaded on a miss is decoded for
// each caller, its own.
//
// Concurrent misses of one key run loader once: once in this process, and,
// through a placeholder the load writes into the key in Redis before it
// starts, once across the processes sharing the cache. A caller that finds
// a placeholder waits for the value up to Options.LockWait, then takes the
// key over and loads it itself rather than hang.
//
// A load's value is written only while the key still holds its
// placeholder (store.Cache.CompareAndSet), so an invalidation that returns
// during the load (Cache.Delete, DeletePattern, InvalidatePattern) is never
// undone by it: the load runs again, and the callers get the value loaded
// after the invalidation. The
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
func Aside[T any](ctx context.Context, p *Layer, key string, ttl time.Duration, loader func(ctx context.Context) (T, error), opts ...AsideOption) (T, error) {
	var cfg asideConfig
	if len(opts) > 0 {
		// The options get a copy: handed to an interface's method, cfg
		// itself would escape, and a call without options would pay an
		// allocation for it.
		c := new(asideConfig)
		for _, o := range opts {
			o.apply(c)
		}
		cfg = *c
	}
	ctx = p.withBudget(ctx)
	// A hit shares the value decoded when its stored version was first
	// read: it neither copies the bytes nor decodes them.
	v, err := store.GetValue[T](ctx, p.cache, key)
	if err == nil {
		if cfg.refresh && p.refresh.due(key, time.Now(), p.opts.LockTTL) {
			p.startRefresh(ctx, key, ttl, cfg, encoder(p, key, loader, true))
		}
		return v, nil
	}
	// Made past the hit, which needs neither: valid escapes into the load,
	// so making it costs an allocation.
	var zero T
	codec := p.cache.Codec()
	valid := func(b []byte) bool {
		var v T
		return codec.Unmarshal(b, &v) == nil
	}
	switch {
	case errors.Is(err, store.ErrDecode):
		// Rare enough to afford a second read, usually from process memory:
		// the key is cached as absent, is being loaded (a placeholder), or
		// holds something that is not a T.
		s, gerr := p.cache.Uncounted().GetString(ctx, key)
		switch {
		case gerr == nil && isNegative([]byte(s)):
			return zero, cachedNotFound(key)
		case gerr == nil && (isPlaceholder(s) || valid([]byte(s))):
			// Another load is running, or has just written its value
			// (after the Get saw its placeholder): fill waits for it or
			// finds it. Overwriting that value would load it again.
		default:
			p.report(ctx, key, err)
			cfg.overwrite = true
		}
	case errors.Is(err, store.ErrNotFound):
	default:
		p.report(ctx, key, err)
		cfg.bypass = true
	}

	produce := encoder(p, key, loader, false)
	waiting := p.joinStart()
	var led atomic.Bool
	res, err := p.flights.Do(ctx, key, p.spawn, func(ctx context.Context) flightResult {
		led.Store(true)
		return p.fill(ctx, key, ttl, cfg, produce, valid)
	})
	// With the load's result there, led is settled: the leader's fn ran,
	// and set it, before the result was published.
	if err == nil && !led.Load() && !waiting.IsZero() {
		p.opts.Hooks.Joined(ctx, key, time.Since(waiting), res.err)
	}
	if err != nil {
		// Declared here, where it is needed: errors.As makes it escape.
		var panicked *flight.PanicError
		switch {
		case errors.As(err, &panicked):
			// Every caller that waited for the load panics with it.
			panic(fmt.Errorf("patterns: loader panicked: %w", panicked))
		case errors.Is(err, flight.ErrGoexit):
			return zero, errGoexit
		}
		return zero, err
	}
	switch {
	case res.err != nil:
		return zero, res.err
	case res.raw != nil:
		// Every caller decodes its own copy: the value just written is not
		// yet an entry the store hands out, and a caller may have asked
		// for a value of its own (store.Cloner).
		var v T
		if err := codec.Unmarshal(res.raw, &v); err != nil {
			return zero, fmt.Errorf("%w: key %q: %w", store.ErrDecode, key, err)
		}
		return v, nil
	}
	if v, ok := res.val.(T); ok {
		return v, nil
	}
	return zero, fmt.Errorf("patterns: concurrent Aside calls for %q ask for different types", key)
}

// encoder wraps loader so that it produces the value encoded with the
// cache's codec, or the value itself when
// it cannot be encoded (it is then returned, not cached). refresh says it
// is a background reload, whose failures refreshKey reports.
func encoder[T any](p *Layer, key string, loader func(context.Context) (T, error), refresh bool) func(context.Context) flightResult {
	run := func(ctx context.Context) flightResult {
		v, err := loader(ctx)
		if err != nil {
			if !refresh {
				p.loadFailed(ctx, key, err)
			}
			return flightResult{err: err}
		}
		raw, err := p.cache.Codec().Marshal(v)
		if err != nil {
			p.report(ctx, key, fmt.Errorf("encode %q: %w", key, err))
			return flightResult{val: v}
		}
		return flightResult{raw: raw}
	}
	if p.opts.Hooks.Load == nil {
		return run
	}
	kind := LoadMiss
	if refresh {
		kind = LoadRefresh
	}
	return func(ctx context.Context) (res flightResult) {
		_ = p.observeLoad(ctx, LoadInfo{Key: key, Kind: kind}, func(ctx context.Context) error {
			res = run(ctx)
			return res.err
		})
		return res
	}
}

// The placeholder. A load writes it into the key itself (SET NX) before it
// starts, and writes its value only while the key still holds it
// (store.Cache.CompareAndSet): Delete, DeletePattern and anything else
// that removes or replaces the key between the two makes the value land
// nowhere. So an invalidation that returns while a load is running wins
// over that load, in every process. It also is the cross-process lock:
// whoever finds a placeholder waits for the value.
//
// A placeholder starts with a NUL byte, which no JSON does, so a reader of
// the store sees a value that does not decode (store.ErrDecode) and the
// batch reads report a miss.
var placeholderPrefix = []byte("\x00emgcache:loading:")

func newPlaceholder() []byte { return append(slices.Clip(placeholderPrefix), rand.Text()...) }

func isPlaceholder(s string) bool { return strings.HasPrefix(s, string(placeholderPrefix)) }

// maxReloads bounds how often one fill loads again because an invalidation
// overtook its load: each reload starts after the invalidation, so its
// value is the one to serve; a key invalidated faster than it loads gets
// the last value loaded, uncached.
const maxReloads = 3

// fill is the load of a missing key, shared by this process's callers.
// valid tells whether a value found in the cache decodes.
func (p *Layer) fill(ctx context.Context, key string, ttl time.Duration, cfg asideConfig, produce func(context.Context) flightResult, valid func([]byte) bool) flightResult {
	if cfg.bypass {
		return produce(ctx)
	}
	deadline := time.Now().Add(p.opts.LockWait)
	reloads := 0
	var res flightResult
	for {
		token := newPlaceholder()
		ok, err := p.cache.SetNX(ctx, key, token, p.opts.LockTTL)
		if err != nil {
			// Without a placeholder a write could outlive an invalidation:
			// serve the load, store nothing.
			p.report(ctx, key, err)
			return produce(ctx)
		}
		if !ok {
			// Something is there: a value written since our miss, another
			// loader's placeholder, or a value that does not decode. The
			// SetNX dropped any local copy, so this read asks Redis.
			s, err := p.cache.Uncounted().GetString(ctx, key)
			b := []byte(s)
			switch {
			case errors.Is(err, store.ErrNotFound):
				continue // gone meanwhile: try again
			case err != nil:
				p.report(ctx, key, err)
				return produce(ctx)
			case isNegative(b):
				return flightResult{err: cachedNotFound(key)}
			case isPlaceholder(s) && time.Now().Before(deadline):
				if err := p.pause(ctx); err != nil {
					return flightResult{err: err}
				}
				continue
			case !isPlaceholder(s) && valid(b) && !cfg.overwrite:
				return flightResult{raw: b}
			}
			// A loader that is slow or gone (its placeholder outlived
			// LockWait), or a value to overwrite: take the key over with
			// our placeholder, unless it changed since we read it.
			if ok, err = p.cache.CompareAndSet(ctx, key, b, token, p.opts.LockTTL); err != nil {
				p.report(ctx, key, err)
				return produce(ctx)
			}
			if !ok {
				continue
			}
		}
		var invalidated bool
		res, invalidated = p.loadAndSwap(ctx, key, token, ttl, cfg, produce)
		if !invalidated || reloads == maxReloads {
			return res
		}
		reloads++
		cfg.overwrite = false
	}
}

// pause waits PollInterval, or until ctx ends.
func (p *Layer) pause(ctx context.Context) error {
	t := time.NewTimer(p.opts.PollInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// loadAndSwap runs the loader for key, which holds our placeholder token,
// and replaces the placeholder with what it produced: the value, or the
// negative marker for "not found" when asked to. invalidated reports that
// the placeholder was gone or replaced when the value was ready: something
// removed the key during the load, and the value may predate it.
func (p *Layer) loadAndSwap(ctx context.Context, key string, token []byte, ttl time.Duration, cfg asideConfig, produce func(context.Context) flightResult) (res flightResult, invalidated bool) {
	// A value that cost a load is worth writing even if every caller has
	// gone meanwhile; the store bounds the write by its own timeout.
	wctx := context.WithoutCancel(ctx)
	swapped := false
	defer func() {
		if !swapped {
			// The load failed, panicked or was not storable: the waiters
			// must not wait for the placeholder to expire.
			p.unlock(wctx, key, token)
		}
	}()
	res = produce(ctx)
	var value []byte
	var d time.Duration
	switch {
	case res.err == nil && res.raw != nil:
		value, d = res.raw, p.jitter(ttl)
	case cfg.negativeTTL > 0 && errors.Is(res.err, ErrNotFound):
		value, d = negativeMarker, p.jitter(cfg.negativeTTL)
	default:
		return res, false
	}
	ok, err := p.cache.CompareAndSet(wctx, key, token, value, d)
	if err != nil {
		p.report(ctx, key, err)
		return res, false
	}
	// Swapped, or the placeholder was gone: nothing of ours is left to remove.
	swapped = true
	if !ok {
		return res, true
	}
	if res.raw != nil {
		if w := cfg.window(p.effectiveTTL(ttl)); w > 0 {
			p.refresh.set(key, time.Now().Add(d-w))
		}
	}
	return res, false
}

func (p *Layer) unlock(ctx context.Context, lockKey string, token []byte) {
	// Released even when the load's callers are gone, or the others wait
	// for the lock to expire.
	if _, err := p.cache.DeleteIfValue(context.WithoutCancel(ctx), lockKey, token); err != nil {
		p.report(ctx, lockKey, err)
	}
}

// effectiveTTL is ttl with 0 read as the cache's default.
func (p *Layer) effectiveTTL(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		return p.cache.Config().DefaultTTL
	}
	return ttl
}
