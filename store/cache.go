package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emgcache/emgcache/internal/ratelog"
)

// NoExpiry is what TTL returns for a key that never expires.
const NoExpiry time.Duration = -1

// Source says where a value returned by Lookup came from.
type Source uint8

// Sources of a value.
const (
	// SourceRemote: a round trip to Redis.
	SourceRemote Source = iota + 1
	// SourceLocal: process memory, current (the client-side cache kept
	// coherent by Redis, or the embedded backend).
	SourceLocal
	// SourceStale: the bounded stale copy, served because Redis is
	// unavailable; the value may be out of date. Only with Config.StaleBytes.
	SourceStale
)

func (s Source) String() string {
	switch s {
	case SourceRemote:
		return "remote"
	case SourceLocal:
		return "local"
	case SourceStale:
		return "stale"
	}
	return "unknown"
}

// Entry is a value with where it came from, as Lookup returns it.
type Entry struct {
	// Value is the caller's own copy.
	Value []byte
	// Source says whether the value cost a round trip, came from process
	// memory, or is a stale copy served while Redis is unavailable.
	Source Source
}

// Cache is a byte cache on Redis or on the embedded backend. Create it with
// Open; it is safe for concurrent use.
type Cache struct {
	cfg    Config
	be     backend
	rb     *redisBackend // nil for the embedded backend, which cannot fail
	stale  *memoryBackend
	stats  counters
	keys   *keyCache
	flog   *ratelog.Logger // nil without Config.Logger
	typed  typedTier
	closed atomic.Bool
}

// latencySampleMask makes reads time one call in eight: reading the clock
// twice would cost about as much as a read served from process memory.
const latencySampleMask = 7

// Open creates a Cache for cfg. It fails only when cfg is malformed
// (ErrInvalidConfig); a Redis that is down is not an error: Open returns a
// Cache that answers ErrUnavailable and connects in the background as soon
// as Redis is up.
func Open(ctx context.Context, cfg Config) (*Cache, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cache{cfg: cfg, keys: newKeyCache(cfg.KeyPrefix), flog: ratelog.New(cfg.Logger, FailureLogInterval)}
	if err := c.typed.init(cfg); err != nil {
		return nil, err
	}
	if cfg.URL == "" {
		c.be = newMemoryBackend(cfg.MaxMemoryBytes, true)
		return c, nil
	}
	if cfg.StaleBytes > 0 {
		c.stale = newMemoryBackend(cfg.StaleBytes, false)
	}
	rb, err := newRedisBackend(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c.be = rb
	c.rb = rb
	return c, nil
}

// Config returns the configuration in effect, with defaults filled in.
func (c *Cache) Config() Config { return c.cfg }

// Backend names the backend: "memory", "redis", "redis-cluster" or
// "redis-sentinel".
func (c *Cache) Backend() string { return c.be.name() }

func (c *Cache) checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	if len(key)+len(c.cfg.KeyPrefix) > MaxKeyBytes {
		return fmt.Errorf("%w: key longer than %d bytes", ErrInvalidKey, MaxKeyBytes)
	}
	return nil
}

func (c *Cache) checkValue(key string, v []byte) error {
	if len(v) > c.cfg.MaxEntryBytes {
		return fmt.Errorf("%w: %q is %d bytes, over the %d byte limit", ErrTooLarge, key, len(v), c.cfg.MaxEntryBytes)
	}
	if c.rb == nil && int64(len(v)+len(key))+entryOverhead > c.cfg.MaxMemoryBytes {
		return fmt.Errorf("%w: %q is %d bytes, over the %d byte memory limit", ErrTooLarge, key, len(v), c.cfg.MaxMemoryBytes)
	}
	return nil
}

func (c *Cache) ttlOrDefault(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		return c.cfg.DefaultTTL
	}
	return ttl
}

// Get returns the value of key, or ErrNotFound. The returned slice is the
// caller's own: writing into it cannot change the cache. Any other error
// (ErrUnavailable, ErrInvalidKey, the context's) means "load from the
// origin". With Config.StaleBytes set, a stale value may be returned while
// Redis is unavailable; use Lookup to tell.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	v, _, err := c.lookup(ctx, key, true)
	if err != nil {
		return nil, err
	}
	return []byte(v), nil
}

// GetString is Get without the copy: a string is immutable, so it can be
// the cached value itself, and a hit served from process memory allocates
// nothing. Prefer it for values that are only read, such as JSON to decode
// or bytes to write to a response.
func (c *Cache) GetString(ctx context.Context, key string) (string, error) {
	v, _, err := c.lookup(ctx, key, true)
	return v, err
}

// Lookup is Get that also reports where the value came from: the read
// for a caller that treats a stale value (Config.StaleBytes) or a round
// trip differently from a local hit.
func (c *Cache) Lookup(ctx context.Context, key string) (Entry, error) {
	v, src, err := c.lookup(ctx, key, true)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Value: []byte(v), Source: src}, nil
}

// Uncounted returns a reader of c whose reads are not counted in Stats'
// hits and misses, so that those describe the reads of cached data that
// callers asked for. It is for a layer's further reads of one request,
// whose first read was counted (the middleware's read of the variant a
// vary record points to, or its second look as a fill begins), and for
// bookkeeping keys (a lock being polled, a placeholder, a namespace's
// version). Failures still count as errors. The reader is c itself:
// getting one allocates nothing.
func (c *Cache) Uncounted() UncountedReader { return UncountedReader{c: c} }

// UncountedReader reads a Cache without being counted in its Stats' hits
// and misses; get one from Cache.Uncounted.
type UncountedReader struct{ c *Cache }

// GetString is Cache.GetString, not counted in hits and misses: the same
// value, errors and guarantees, and a hit served from process memory
// allocates nothing.
func (r UncountedReader) GetString(ctx context.Context, key string) (string, error) {
	v, _, err := r.c.lookup(ctx, key, false)
	return v, err
}

// lookup is read, told to Hooks.Read when there is one.
func (c *Cache) lookup(ctx context.Context, key string, counted bool) (string, Source, error) {
	if c.cfg.Hooks.Read != nil {
		return c.readObserved(ctx, key, counted)
	}
	return c.read(ctx, key, counted)
}

// read is every single-key read; counted says whether it is a read of
// cached data (counted in hits and misses) or a bookkeeping one.
func (c *Cache) read(ctx context.Context, key string, counted bool) (string, Source, error) {
	if err := c.checkKey(key); err != nil {
		return "", 0, err
	}
	if c.closed.Load() {
		return "", 0, ErrClosed
	}
	full := c.keys.full(key)
	var start time.Time
	if counted && rand.Uint32()&latencySampleMask == 0 {
		start = time.Now()
	}
	if v, src, ok, err := c.fromMemory(ctx, full, start, counted); ok {
		return v, src, err
	}
	if ctx.Err() != nil {
		return c.finishGet(ctx, full, "", false, callerOwns(ctx, ctx.Err()), start, counted)
	}
	n := c.rb.nodes.of(full)
	br := n.breaker()
	if br.closed() {
		v, local, err := c.getRemote(ctx, n, full)
		br.record(err)
		return c.finishGet(ctx, full, v, local, err, start, counted)
	}
	done, err := br.allow()
	if err != nil {
		if c.stale != nil && counted {
			return c.finishGet(ctx, full, "", false, err, start, counted)
		}
		c.stats.errors.Add(1)
		return "", 0, err
	}
	v, local, err := c.getRemote(ctx, n, full)
	done(err)
	return c.finishGet(ctx, full, v, local, err, start, counted)
}

// fromMemory is the part of read that process memory answers, for the key
// full (with the prefix): ok is false when the answer takes a round trip.
// The Local reads share it with read, so that a hit is the same hit, counted
// the same way, whichever of them served it.
func (c *Cache) fromMemory(ctx context.Context, full string, start time.Time, counted bool) (string, Source, bool, error) {
	if c.rb == nil {
		// The embedded backend's memory is the store: it always answers.
		raw, local, err := c.be.get(ctx, full)
		v, src, err := c.finishGet(ctx, full, raw, local, err, start, counted)
		return v, src, true, err
	}
	// A value the client-side cache holds is current whatever any breaker
	// says: its connection is alive and Redis tracks the key for it.
	raw, found, err := c.rb.local(full)
	if !found {
		return "", 0, false, nil
	}
	v, src, err := c.finishGet(ctx, full, raw, true, err, start, counted)
	return v, src, true, err
}

// getRemote is one round trip for a read, bounded by OpTimeout and the
// request's budget, its error as the caller and the breaker should see it.
func (c *Cache) getRemote(ctx context.Context, n *node, full string) (string, bool, error) {
	bctx, finish, err := bound(ctx, c.cfg.OpTimeout)
	if err != nil {
		return "", false, err
	}
	sent := time.Now()
	v, local, err := c.rb.getRemote(bctx, full)
	if !local && (err == nil || errors.Is(err, ErrNotFound)) {
		// A real answer; one rueidis took from its cache proves nothing.
		n.answered(sent)
	}
	return v, local, callerOwns(ctx, finish(err))
}

func (c *Cache) finishGet(ctx context.Context, full, v string, local bool, err error, start time.Time, counted bool) (string, Source, error) {
	if !start.IsZero() {
		c.stats.latency.observe(time.Since(start))
	}
	switch {
	case err == nil:
		if counted {
			c.stats.hits.Add(1)
		}
		if local {
			if counted {
				c.stats.localHits.Add(1)
			}
			return v, SourceLocal, nil
		}
		if c.stale != nil && counted {
			c.stale.store(full, v, c.cfg.ClientCacheTTL, false)
		}
		return v, SourceRemote, nil
	case errors.Is(err, ErrNotFound):
		if counted {
			c.stats.misses.Add(1)
		}
		return "", 0, ErrNotFound
	}
	if c.stale != nil && counted && !isCallerDone(err) {
		if sv, _, serr := c.stale.get(ctx, full); serr == nil {
			c.stats.hits.Add(1)
			c.stats.staleHits.Add(1)
			return sv, SourceStale, nil
		}
	}
	c.stats.errors.Add(1)
	return "", 0, c.wrapErr("get", full, err)
}

// wrapErr turns a backend failure into an error that matches
// ErrUnavailable, keeps the cause, and names the operation and key.
func (c *Cache) wrapErr(op, full string, err error) error {
	if err == nil || errors.Is(err, ErrNotFound) {
		return err
	}
	// Calls of no key (a ping) are named by their operation alone.
	subject := op
	if full != "" {
		subject = fmt.Sprintf("%s %q", op, strings.TrimPrefix(full, c.cfg.KeyPrefix))
	}
	var ce *callerDoneError
	if errors.As(err, &ce) {
		return fmt.Errorf("%s: %w", subject, ce.err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, ErrClosed) {
		return fmt.Errorf("%s: %w", subject, err)
	}
	if errors.Is(err, ErrUnavailable) {
		err = fmt.Errorf("%s: %w", subject, err)
	} else {
		err = fmt.Errorf("%s: %w: %w", subject, ErrUnavailable, err)
	}
	c.logFailure(op, err)
	return err
}

// callerDoneError marks a failure that happened after the caller's own
// context ended: it says nothing about Redis, so the breaker ignores it and
// the caller gets its context's error back, not ErrUnavailable.
type callerDoneError struct{ err error }

func (e *callerDoneError) Error() string { return e.err.Error() }
func (e *callerDoneError) Unwrap() error { return e.err }

// callerOwns returns err as the caller's when ctx (the caller's context,
// before the store bounded it by its own timeouts) has ended. A deadline of
// the store's own, OpTimeout, leaves ctx alive and err a Redis failure.
func callerOwns(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, ErrNotFound) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		return &callerDoneError{err: cerr}
	}
	return err
}

func isCallerDone(err error) bool {
	var ce *callerDoneError
	return errors.As(err, &ce)
}

// do runs one non-read call through the breaker, the operation timeout
// and the error counters.
func (c *Cache) do(ctx context.Context, op, full string, fn func(ctx context.Context) error) error {
	return c.run(ctx, op, full, true, fn)
}

// run is do with the per-call timeout optional: walks of the keyspace grow
// with the data, so their backends bound each round trip instead. Unbounded
// calls span every node and go through each node's breaker on the way;
// bounded ones go through the breaker of full's node.
func (c *Cache) run(ctx context.Context, op, full string, bounded bool, fn func(ctx context.Context) error) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if ctx.Err() != nil {
		// The caller gave up before the call began: nothing to send.
		c.stats.errors.Add(1)
		return c.wrapErr(op, full, callerOwns(ctx, ctx.Err()))
	}
	start := time.Now()
	var done func(error)
	var n *node
	if c.rb != nil && bounded {
		n = c.rb.nodes.of(full)
		var err error
		if done, err = n.breaker().allow(); err != nil {
			c.stats.errors.Add(1)
			c.logFailure(op, err)
			return err
		}
	}
	var err error
	if bounded {
		bctx, finish, berr := bound(ctx, c.cfg.OpTimeout)
		if err = berr; err == nil {
			err = finish(fn(bctx))
		}
	} else {
		err = fn(ctx)
	}
	err = callerOwns(ctx, err)
	if n != nil && (err == nil || errors.Is(err, ErrNotFound)) {
		n.answered(start)
	}
	if done != nil {
		done(err)
	}
	c.stats.latency.observe(time.Since(start))
	if err != nil && !errors.Is(err, ErrNotFound) {
		c.stats.errors.Add(1)
		return c.wrapErr(op, full, err)
	}
	return err
}

// batchTimeout is the bound of a pipelined batch: OpTimeout, and as much
// again for every thousand keys, since a large batch moves more data.
func (c *Cache) batchTimeout(n int) time.Duration {
	return c.cfg.OpTimeout * time.Duration(1+n/1000)
}

// Set stores value under key for ttl (0: Config.DefaultTTL). A value over
// Config.MaxEntryBytes gets ErrTooLarge and nothing is sent. The cache keeps
// its own copy, so the caller may reuse value. After Set returns, this
// process's reads of key see value.
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := c.checkKey(key); err != nil {
		return err
	}
	if err := c.checkValue(key, value); err != nil {
		return err
	}
	full := c.cfg.KeyPrefix + key
	ttl = c.ttlOrDefault(ttl)
	err := c.do(ctx, "set", full, func(ctx context.Context) error { return c.be.set(ctx, full, value, ttl) })
	if err == nil {
		c.stats.writes.Add(1)
		if c.stale != nil {
			c.stale.store(full, string(value), c.cfg.ClientCacheTTL, false)
		}
	}
	return err
}

// SetNX stores value under key only if key holds nothing, and reports
// whether it did. It is the primitive for short locks: take one with a
// random token as value, release it with DeleteIfValue.
func (c *Cache) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if err := c.checkKey(key); err != nil {
		return false, err
	}
	if err := c.checkValue(key, value); err != nil {
		return false, err
	}
	full := c.cfg.KeyPrefix + key
	ttl = c.ttlOrDefault(ttl)
	var ok bool
	err := c.do(ctx, "setnx", full, func(ctx context.Context) (err error) {
		ok, err = c.be.setNX(ctx, full, value, ttl)
		return err
	})
	if ok {
		c.stats.writes.Add(1)
	}
	return ok, err
}

// DeleteIfValue removes key only if it still holds value, atomically, and
// reports whether it did. It releases a lock taken with SetNX without
// removing a lock that expired and was taken by someone else.
func (c *Cache) DeleteIfValue(ctx context.Context, key string, value []byte) (bool, error) {
	if err := c.checkKey(key); err != nil {
		return false, err
	}
	full := c.cfg.KeyPrefix + key
	var ok bool
	err := c.do(ctx, "delete-if-value", full, func(ctx context.Context) (err error) {
		ok, err = c.be.delIfValue(ctx, full, value)
		return err
	})
	if ok {
		c.stats.deletes.Add(1)
		c.dropStale(full)
	}
	return ok, err
}

// Delete removes key and reports whether it held a value.
func (c *Cache) Delete(ctx context.Context, key string) (bool, error) {
	n, err := c.DeleteMany(ctx, key)
	return n > 0, err
}

// DeleteMany removes keys and returns how many held a value. On a cluster
// the keys may live on different nodes.
func (c *Cache) DeleteMany(ctx context.Context, keys ...string) (int64, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		if err := c.checkKey(k); err != nil {
			return 0, err
		}
		full[i] = c.cfg.KeyPrefix + k
	}
	var n int64
	var err error
	if c.rb != nil && len(full) > 1 {
		n, err = c.deleteOnNodes(ctx, full)
	} else {
		err = c.do(ctx, "delete", full[0], func(ctx context.Context) (err error) {
			n, err = c.be.del(ctx, full)
			return err
		})
	}
	if err == nil {
		c.stats.deletes.Add(uint64(n))
		for _, k := range full {
			c.dropStale(k)
		}
	}
	return n, err
}

// deleteOnNodes is DeleteMany over several nodes: each node's keys go
// through its own breaker, and only failing nodes' keys make it fail.
func (c *Cache) deleteOnNodes(ctx context.Context, full []string) (int64, error) {
	if c.closed.Load() {
		return 0, ErrClosed
	}
	start := time.Now()
	refused, finish := c.admit(ctx, full)
	errs := make([]error, len(full))
	var send []string
	var at []int
	for i, err := range refused {
		if err != nil {
			errs[i] = err
			continue
		}
		send = append(send, full[i])
		at = append(at, i)
	}
	var n int64
	if len(send) > 0 {
		got := make([]error, len(send))
		bctx, bfinish, berr := bound(ctx, c.batchTimeout(len(send)))
		if berr == nil {
			n, got = c.rb.delEach(bctx, send)
		}
		for j, i := range at {
			if berr != nil {
				errs[i] = berr
				continue
			}
			errs[i] = callerOwns(ctx, bfinish(got[j]))
		}
	}
	finish(func(i int) error { return errs[i] })
	c.stats.latency.observe(time.Since(start))
	for i, err := range errs {
		if err != nil {
			c.stats.errors.Add(1)
			return n, c.wrapErr("delete", full[i], err)
		}
	}
	return n, nil
}

func (c *Cache) dropStale(full string) {
	if c.stale != nil {
		_, _ = c.stale.del(context.Background(), []string{full})
	}
}

// Exists reports whether key holds a value.
func (c *Cache) Exists(ctx context.Context, key string) (bool, error) {
	if err := c.checkKey(key); err != nil {
		return false, err
	}
	full := c.cfg.KeyPrefix + key
	var ok bool
	err := c.do(ctx, "exists", full, func(ctx context.Context) (err error) {
		ok, err = c.be.exists(ctx, full)
		return err
	})
	return ok, err
}

// TTL returns the remaining lifetime of key, NoExpiry for a key without
// one, or ErrNotFound.
func (c *Cache) TTL(ctx context.Context, key string) (time.Duration, error) {
	if err := c.checkKey(key); err != nil {
		return 0, err
	}
	full := c.cfg.KeyPrefix + key
	var d time.Duration
	err := c.do(ctx, "ttl", full, func(ctx context.Context) (err error) {
		d, err = c.be.ttl(ctx, full)
		return err
	})
	return d, err
}

// Close releases the connections and background work. Calls after Close
// return ErrClosed. Close is idempotent.
func (c *Cache) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	if c.stale != nil {
		_ = c.stale.close()
	}
	return c.be.close()
}
