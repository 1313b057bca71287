package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// unlinkBatch is how many keys one pipelined UNLINK round trip removes.
const unlinkBatch = 1000

// redisBackend talks to Redis through rueidis. Until the first connection
// succeeds it answers ErrUnavailable and keeps dialling in the background,
// so that a Redis that is down at start does not fail the service.
type redisBackend struct {
	cfg    Config
	opt    rueidis.ClientOption
	kind   atomic.Pointer[string]
	client atomic.Pointer[rueidis.Client]
	// cached reports whether client-side caching is on (it is off when
	// configured so, or when the server cannot do RESP3 tracking).
	cached  atomic.Bool
	lastErr atomic.Pointer[error]
	caches  *clientCaches
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

var delIfValueScript = rueidis.NewLuaScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("UNLINK", KEYS[1]) end return 0`)

func newRedisBackend(ctx context.Context, cfg Config) (*redisBackend, error) {
	opt, err := rueidis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: url: %s", ErrInvalidConfig, redactErr(err, cfg.URL))
	}
	opt.Dialer.Timeout = cfg.DialTimeout
	if cfg.TLSConfig != nil {
		opt.TLSConfig = cfg.TLSConfig.Clone()
	}
	// The connection's own health check, apart from the per-call OpTimeout:
	// a call that times out gives up alone, while its connection (and the
	// client-side cache that lives and dies with it) survives a stall
	// shorter than this.
	opt.ConnWriteTimeout = cfg.ConnWriteTimeout
	opt.DisableCache = cfg.ClientCacheBytes < 0
	caches := newClientCaches()
	if !opt.DisableCache {
		opt.CacheSizeEachConn = cfg.ClientCacheBytes
		opt.NewCacheStoreFn = caches.newStore
	}
	// rueidis retries reads forever while a context has no deadline; two
	// quick retries cover a killed connection, the breaker covers the rest.
	opt.RetryDelay = func(attempts int, _ rueidis.Completed, _ error) time.Duration {
		if attempts > 2 {
			return -1
		}
		return time.Duration(attempts) * 5 * time.Millisecond
	}
	b := &redisBackend{cfg: cfg, opt: opt, caches: caches, stop: make(chan struct{}), done: make(chan struct{})}
	kind := "redis"
	switch {
	case opt.Sentinel.MasterSet != "":
		kind = "redis-sentinel"
	case len(opt.InitAddress) > 1:
		kind = "redis-cluster"
	}
	b.kind.Store(&kind)
	if err := b.connect(ctx); err != nil {
		b.setErr(err)
		go b.connectLoop()
	} else {
		close(b.done)
	}
	return b, nil
}

func (b *redisBackend) setErr(err error) { b.lastErr.Store(&err) }

// connect makes one attempt to create the client.
func (b *redisBackend) connect(ctx context.Context) error {
	opt := b.opt
	cl, err := rueidis.NewClient(opt)
	if errors.Is(err, rueidis.ErrNoCache) {
		// A server without RESP3 still serves as a cache, one round trip a read.
		opt.DisableCache = true
		cl, err = rueidis.NewClient(opt)
	}
	if err != nil {
		return err
	}
	if cl.Mode() == rueidis.ClientModeCluster {
		kind := "redis-cluster"
		b.kind.Store(&kind)
	}
	b.cached.Store(!opt.DisableCache)
	b.client.Store(&cl)
	return nil
}

func (b *redisBackend) connectLoop() {
	defer close(b.done)
	delay := 50 * time.Millisecond
	for {
		select {
		case <-b.stop:
			return
		case <-time.After(delay):
		}
		if err := b.connect(context.Background()); err != nil {
			b.setErr(err)
			delay = min(delay*2, 2*time.Second)
			continue
		}
		return
	}
}

// c returns the client, or ErrUnavailable while not yet connected.
func (b *redisBackend) c() (rueidis.Client, error) {
	if p := b.client.Load(); p != nil {
		return *p, nil
	}
	if e := b.lastErr.Load(); e != nil {
		return nil, fmt.Errorf("%w: not connected: %w", ErrUnavailable, *e)
	}
	return nil, fmt.Errorf("%w: not connected", ErrUnavailable)
}

func (b *redisBackend) name() string { return *b.kind.Load() }

func (b *redisBackend) get(ctx context.Context, key string) (string, bool, error) {
	cl, err := b.c()
	if err != nil {
		return "", false, err
	}
	cached := b.cached.Load()
	if cached {
		if v, found, err := b.caches.lookup(key, time.Now()); found {
			return v, true, err
		}
	}
	if err := ctx.Err(); err != nil {
		// A caller that already gave up gets its answer without a round trip.
		return "", false, err
	}
	// A round trip: bound it here, where the context's cost is small next
	// to the network's.
	ctx, cancel := boundCtx(ctx, b.cfg.OpTimeout)
	defer cancel()
	var res rueidis.RedisResult
	if cached {
		res = cl.DoCache(hide(ctx), cl.B().Get().Key(key).Cache(), b.cfg.ClientCacheTTL)
	} else {
		res = cl.Do(hide(ctx), cl.B().Get().Key(key).Build())
	}
	return readValue(res)
}

// boundCtx bounds ctx by d unless it already ends sooner.
func boundCtx(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// noDeadline is a context whose deadline rueidis cannot see. On a
// connection without client-side caching, a call alone on it with a
// deadline is sent synchronously with that deadline on the socket, and when
// it passes rueidis closes the connection, failing every call behind it. Without a
// visible deadline the call is pipelined and its context's end abandons
// only the call; the connection's health is ConnWriteTimeout's business.
type noDeadline struct{ context.Context }

func (noDeadline) Deadline() (time.Time, bool) { return time.Time{}, false }

// hide is ctx for rueidis: its end still ends the call, its deadline is not
// put on the socket.
func hide(ctx context.Context) context.Context {
	if _, ok := ctx.Deadline(); !ok {
		return ctx
	}
	return noDeadline{ctx}
}

// readValue takes the value out of a reply as a string: for a client-side
// cache hit it is the cached copy itself, which no caller can write into.
func readValue(res rueidis.RedisResult) (string, bool, error) {
	s, err := res.ToString()
	if err != nil {
		if rueidis.IsRedisNil(err) {
			return "", res.IsCacheHit(), ErrNotFound
		}
		return "", false, err
	}
	return s, res.IsCacheHit(), nil
}

func (b *redisBackend) set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	cl, err := b.c()
	if err != nil {
		return err
	}
	err = cl.Do(hide(ctx), cl.B().Set().Key(key).Value(rueidis.BinaryString(value)).Px(ttl).Build()).Error()
	b.caches.forget(key)
	return err
}

func (b *redisBackend) setNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	cl, err := b.c()
	if err != nil {
		return false, err
	}
	err = cl.Do(hide(ctx), cl.B().Set().Key(key).Value(rueidis.BinaryString(value)).Nx().Px(ttl).Build()).Error()
	b.caches.forget(key)
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	return err == nil, err
}

func (b *redisBackend) del(ctx context.Context, keys []string) (int64, error) {
	cl, err := b.c()
	if err != nil {
		return 0, err
	}
	return b.unlink(ctx, cl, keys)
}

// unlink removes keys with one UNLINK per key, so that a cluster routes
// each to its own node, all in one pipelined round trip.
func (b *redisBackend) unlink(ctx context.Context, cl rueidis.Client, keys []string) (int64, error) {
	cmds := make(rueidis.Commands, 0, len(keys))
	for _, k := range keys {
		cmds = append(cmds, cl.B().Unlink().Key(k).Build())
	}
	res := cl.DoMulti(hide(ctx), cmds...)
	for _, k := range keys {
		b.caches.forget(k)
	}
	var n int64
	var firstErr error
	for _, r := range res {
		v, err := r.AsInt64()
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		n += v
	}
	return n, firstErr
}

func (b *redisBackend) delIfValue(ctx context.Context, key string, value []byte) (bool, error) {
	cl, err := b.c()
	if err != nil {
		return false, err
	}
	n, err := delIfValueScript.Exec(hide(ctx), cl, []string{key}, []string{string(value)}).AsInt64()
	b.caches.forget(key)
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

func (b *redisBackend) exists(ctx context.Context, key string) (bool, error) {
	cl, err := b.c()
	if err != nil {
		return false, err
	}
	n, err := cl.Do(hide(ctx), cl.B().Exists().Key(key).Build()).AsInt64()
	return n > 0, err
}

func (b *redisBackend) ttl(ctx context.Context, key string) (time.Duration, error) {
	cl, err := b.c()
	if err != nil {
		return 0, err
	}
	ms, err := cl.Do(hide(ctx), cl.B().Pttl().Key(key).Build()).AsInt64()
	switch {
	case err != nil:
		return 0, err
	case ms == -2:
		return 0, ErrNotFound
	case ms == -1:
		return NoExpiry, nil
	}
	return time.Duration(ms) * time.Millisecond, nil
}

func (b *redisBackend) getMany(ctx context.Context, keys []string) []rawResult {
	out := make([]rawResult, len(keys))
	cl, err := b.c()
	if err != nil {
		for i := range out {
			out[i].err = err
		}
		return out
	}
	if !b.cached.Load() {
		cmds := make(rueidis.Commands, len(keys))
		for i, k := range keys {
			cmds[i] = cl.B().Get().Key(k).Build()
		}
		for i, r := range cl.DoMulti(hide(ctx), cmds...) {
			v, local, err := readValue(r)
			out[i] = rawResult{value: v, local: local, err: err}
		}
		return out
	}
	// Keys held locally are answered without building a command; only the
	// rest go to Redis, pipelined per node.
	now := time.Now()
	var cmds []rueidis.CacheableTTL
	var remote []int
	for i, k := range keys {
		if v, found, err := b.caches.lookup(k, now); found {
			out[i] = rawResult{value: v, local: true, err: err}
			continue
		}
		cmds = append(cmds, rueidis.CT(cl.B().Get().Key(k).Cache(), b.cfg.ClientCacheTTL))
		remote = append(remote, i)
	}
	if len(cmds) == 0 {
		return out
	}
	for j, r := range cl.DoMultiCache(hide(ctx), cmds...) {
		v, local, err := readValue(r)
		out[remote[j]] = rawResult{value: v, local: local, err: err}
	}
	return out
}

func (b *redisBackend) setMany(ctx context.Context, items []Item) []error {
	errs := make([]error, len(items))
	cl, err := b.c()
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	cmds := make(rueidis.Commands, 0, len(items))
	for _, it := range items {
		cmds = append(cmds, cl.B().Set().Key(it.Key).Value(rueidis.BinaryString(it.Value)).Px(it.TTL).Build())
	}
	res := cl.DoMulti(hide(ctx), cmds...)
	for i, it := range items {
		b.caches.forget(it.Key)
		errs[i] = res[i].Error()
	}
	return errs
}

// primaries returns a client for every primary node: the one server of a
// standalone or Sentinel setup, each master of a cluster.
func (b *redisBackend) primaries(ctx context.Context) ([]rueidis.Client, error) {
	cl, err := b.c()
	if err != nil {
		return nil, err
	}
	nodes := cl.Nodes()
	if len(nodes) == 1 {
		for _, n := range nodes {
			return []rueidis.Client{n}, nil
		}
	}
	out := make([]rueidis.Client, 0, len(nodes))
	for addr, n := range nodes {
		rctx, cancel := context.WithTimeout(ctx, b.cfg.OpTimeout)
		role, err := n.Do(hide(rctx), n.B().Role().Build()).ToArray()
		cancel()
		if err != nil {
			return nil, fmt.Errorf("role of %s: %w", addr, err)
		}
		if len(role) > 0 {
			if r, _ := role[0].ToString(); r == "master" {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

func (b *redisBackend) scan(ctx context.Context, match string, fn func(keys []string) error) error {
	nodes, err := b.primaries(ctx)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if err := b.scanNode(ctx, n, match, fn); err != nil {
			return err
		}
	}
	return nil
}

// scanNode walks one node's keyspace; each SCAN round trip is bounded by
// OpTimeout, the walk as a whole only by ctx.
func (b *redisBackend) scanNode(ctx context.Context, n rueidis.Client, match string, fn func(keys []string) error) error {
	var cursor uint64
	for {
		rctx, cancel := context.WithTimeout(ctx, b.cfg.OpTimeout)
		e, err := n.Do(hide(rctx), n.B().Scan().Cursor(cursor).Match(match).Count(unlinkBatch).Build()).AsScanEntry()
		cancel()
		if err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		if len(e.Elements) > 0 {
			if err := fn(e.Elements); err != nil {
				return err
			}
		}
		if cursor = e.Cursor; cursor == 0 {
			return nil
		}
	}
}

// deleteMatching walks every primary at once, since each walk waits on its
// own node; removal speed grows with the number of primaries.
func (b *redisBackend) deleteMatching(ctx context.Context, match string) (int64, error) {
	cl, err := b.c()
	if err != nil {
		return 0, err
	}
	nodes, err := b.primaries(ctx)
	if err != nil {
		return 0, err
	}
	var total atomic.Int64
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = b.scanNode(ctx, n, match, func(keys []string) error {
				// The keys of one SCAN reply live on one node, so the
				// pipeline below is one round trip to it.
				rctx, cancel := context.WithTimeout(ctx, b.cfg.OpTimeout)
				removed, err := b.unlink(rctx, cl, keys)
				cancel()
				total.Add(removed)
				return err
			})
		}()
	}
	wg.Wait()
	return total.Load(), errors.Join(errs...)
}

func (b *redisBackend) ping(ctx context.Context) error {
	cl, err := b.c()
	if err != nil {
		return err
	}
	return cl.Do(hide(ctx), cl.B().Ping().Build()).Error()
}

func (b *redisBackend) memory(ctx context.Context) (used, limit int64, err error) {
	nodes, err := b.primaries(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, n := range nodes {
		info, err := n.Do(hide(ctx), n.B().Info().Section("memory").Build()).ToString()
		if err != nil {
			return 0, 0, err
		}
		u, l := parseMemoryInfo(info)
		used += u
		limit += l
	}
	return used, limit, nil
}

// parseMemoryInfo reads used_memory and maxmemory from INFO memory.
func parseMemoryInfo(info string) (used, limit int64) {
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch k {
		case "used_memory":
			used, _ = strconv.ParseInt(v, 10, 64)
		case "maxmemory":
			limit, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return used, limit
}

func (b *redisBackend) close() error {
	b.once.Do(func() {
		close(b.stop)
		<-b.done
		if p := b.client.Load(); p != nil {
			(*p).Close()
		}
	})
	return nil
}
