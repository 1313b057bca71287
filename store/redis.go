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

	"github.com/emgcache/emgcache/internal/clock"
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
	nodes   *nodeSet
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
	if opt.Sentinel.MasterSet != "" {
		// Besides the +switch-master events, ask the Sentinels now and then,
		// so that a missed event cannot bind the client to an old master.
		opt.Sentinel.TopologyRefreshInterval = cfg.TopologyInterval
	}
	if cfg.AdjustClientOption != nil {
		cfg.AdjustClientOption(&opt)
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
	addr := ""
	if len(opt.InitAddress) > 0 {
		addr = opt.InitAddress[0]
	}
	b.nodes = newNodeSet(b, cfg, addr)
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
	if b.cfg.WrapClient != nil {
		cl = b.cfg.WrapClient(cl)
	}
	if cl.Mode() == rueidis.ClientModeCluster {
		kind := "redis-cluster"
		b.kind.Store(&kind)
	}
	b.cached.Store(!opt.DisableCache)
	b.client.Store(&cl)
	b.followTopology(cl)
	return nil
}

// followTopology reads the primaries once and, for a cluster or a Sentinel
// set, keeps following them. Its goroutines are the node set's, started
// by spawn, so that close waits for them wherever connect runs from.
func (b *redisBackend) followTopology(cl rueidis.Client) {
	_ = b.nodes.refresh()
	b.nodes.spawn(b.nodes.heartbeat)
	if cl.Mode() != rueidis.ClientModeStandalone {
		b.nodes.spawn(b.nodes.watch)
	}
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

// local answers key from the client-side cache alone: found is false when
// no live connection holds a tracked entry for it.
// An entry is served only while its node has answered within maxSilence.
func (b *redisBackend) local(key string) (value string, found bool, err error) {
	if !b.cached.Load() {
		return "", false, nil
	}
	ns := clock.Nanos()
	v, found, err := b.caches.lookup(key, ns)
	if !found || !b.nodes.of(key).live(ns) {
		return "", false, nil
	}
	return v, true, err
}

// route returns the client for key's node and whether it is the node's own
// (whose MOVED replies are then retried through the cluster client).
func (b *redisBackend) route(key string) (cl, main rueidis.Client, direct bool, err error) {
	main, err = b.c()
	if err != nil {
		return nil, nil, false, err
	}
	n := b.nodes.of(key)
	if p := n.client.Load(); p != nil && n.direct.Load() {
		return *p, main, true, nil
	}
	return main, main, false, nil
}

// onKey runs call on key's node, and again through the cluster client when
// the node answers that the slot moved; the topology is then read again.
func (b *redisBackend) onKey(key string, call func(cl rueidis.Client) rueidis.RedisResult) (rueidis.RedisResult, error) {
	cl, main, direct, err := b.route(key)
	if err != nil {
		return rueidis.RedisResult{}, err
	}
	res := call(cl)
	if direct && redirected(res.Error()) {
		b.nodes.requestRefresh()
		res = call(main)
	}
	return res, nil
}

// redirected reports a reply saying another node serves the slot now.
func redirected(err error) bool {
	re, ok := rueidis.IsRedisErr(err)
	if !ok {
		return false
	}
	if _, moved := re.IsMoved(); moved {
		return true
	}
	_, ask := re.IsAsk()
	return ask || re.IsClusterDown() || re.IsTryAgain()
}

func (b *redisBackend) get(ctx context.Context, key string) (string, bool, error) {
	if v, found, err := b.local(key); found {
		return v, true, err
	}
	return b.getRemote(ctx, key)
}

// getRemote is a read that is not in the client-side cache.
func (b *redisBackend) getRemote(ctx context.Context, key string) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		// A caller that already gave up gets its answer without a round trip.
		return "", false, err
	}
	// A round trip: bound it here, where the context's cost is small next
	// to the network's.
	ctx, cancel := boundCtx(ctx, b.cfg.OpTimeout)
	defer cancel()
	ctx = hide(ctx)
	// Through the client-side cache only while the node is live: rueidis
	// would otherwise answer from an entry that local refused to serve.
	cached := b.cached.Load() && b.nodes.of(key).live(time.Now().UnixNano())
	res, err := b.onKey(key, func(cl rueidis.Client) rueidis.RedisResult {
		if cached {
			return cl.DoCache(ctx, cl.B().Get().Key(key).Cache(), b.cfg.ClientCacheTTL)
		}
		return cl.Do(ctx, cl.B().Get().Key(key).Build())
	})
	if err != nil {
		return "", false, err
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
	ctx = hide(ctx)
	res, err := b.onKey(key, func(cl rueidis.Client) rueidis.RedisResult {
		return cl.Do(ctx, cl.B().Set().Key(key).Value(rueidis.BinaryString(value)).Px(ttl).Build())
	})
	if err != nil {
		return err
	}
	b.caches.forget(key)
	return res.Error()
}

func (b *redisBackend) setNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	ctx = hide(ctx)
	res, err := b.onKey(key, func(cl rueidis.Client) rueidis.RedisResult {
		return cl.Do(ctx, cl.B().Set().Key(key).Value(rueidis.BinaryString(value)).Nx().Px(ttl).Build())
	})
	if err != nil {
		return false, err
	}
	b.caches.forget(key)
	err = res.Error()
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	return err == nil, err
}

func (b *redisBackend) del(ctx context.Context, keys []string) (int64, error) {
	n, errs := b.delEach(ctx, keys)
	for _, err := range errs {
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// delEach removes keys and returns how many held a value and, per key, the
// error of its UNLINK.
func (b *redisBackend) delEach(ctx context.Context, keys []string) (int64, []error) {
	errs := make([]error, len(keys))
	res, err := b.perNode(keys, func(cl rueidis.Client, idx []int) []rueidis.RedisResult {
		cmds := make(rueidis.Commands, len(idx))
		for j, i := range idx {
			cmds[j] = cl.B().Unlink().Key(keys[i]).Build()
		}
		return cl.DoMulti(hide(ctx), cmds...)
	})
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return 0, errs
	}
	for _, k := range keys {
		b.caches.forget(k)
	}
	var n int64
	for i, r := range res {
		v, err := r.AsInt64()
		if err != nil {
			errs[i] = err
			continue
		}
		n += v
	}
	return n, errs
}

// perNode sends the commands for keys grouped by node, every group on its
// node's own client at once, and sends again through the cluster client
// those a node redirected. send builds and runs the commands for the keys
// at idx on cl, returning one result per index.
func (b *redisBackend) perNode(keys []string, send func(cl rueidis.Client, idx []int) []rueidis.RedisResult) ([]rueidis.RedisResult, error) {
	main, err := b.c()
	if err != nil {
		return nil, err
	}
	out := make([]rueidis.RedisResult, len(keys))
	topo := b.nodes.topo.Load()
	if topo.single != nil {
		all := make([]int, len(keys))
		for i := range all {
			all[i] = i
		}
		copy(out, send(main, all))
		return out, nil
	}
	type group struct {
		cl     rueidis.Client
		direct bool
		idx    []int
	}
	groups := make(map[*node]*group)
	var order []*group
	for i, k := range keys {
		n := topo.of(k)
		g := groups[n]
		if g == nil {
			g = &group{cl: main}
			if p := n.client.Load(); p != nil && n.direct.Load() {
				g.cl, g.direct = *p, true
			}
			groups[n] = g
			order = append(order, g)
		}
		g.idx = append(g.idx, i)
	}
	var wg sync.WaitGroup
	for _, g := range order {
		wg.Go(func() {
			for j, r := range send(g.cl, g.idx) {
				out[g.idx[j]] = r
			}
		})
	}
	wg.Wait()
	var again []int
	for _, g := range order {
		if !g.direct {
			continue
		}
		for _, i := range g.idx {
			if redirected(out[i].Error()) {
				again = append(again, i)
			}
		}
	}
	if len(again) > 0 {
		b.nodes.requestRefresh()
		for j, r := range send(main, again) {
			out[again[j]] = r
		}
	}
	return out, nil
}

func (b *redisBackend) delIfValue(ctx context.Context, key string, value []byte) (bool, error) {
	ctx = hide(ctx)
	res, err := b.onKey(key, func(cl rueidis.Client) rueidis.RedisResult {
		return delIfValueScript.Exec(ctx, cl, []string{key}, []string{string(value)})
	})
	if err != nil {
		return false, err
	}
	b.caches.forget(key)
	n, err := res.AsInt64()
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

func (b *redisBackend) exists(ctx context.Context, key string) (bool, error) {
	ctx = hide(ctx)
	res, err := b.onKey(key, func(cl rueidis.Client) rueidis.RedisResult {
		return cl.Do(ctx, cl.B().Exists().Key(key).Build())
	})
	if err != nil {
		return false, err
	}
	n, err := res.AsInt64()
	return n > 0, err
}

func (b *redisBackend) ttl(ctx context.Context, key string) (time.Duration, error) {
	ctx = hide(ctx)
	res, err := b.onKey(key, func(cl rueidis.Client) rueidis.RedisResult {
		return cl.Do(ctx, cl.B().Pttl().Key(key).Build())
	})
	if err != nil {
		return 0, err
	}
	ms, err := res.AsInt64()
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
	ctx = hide(ctx)
	// Keys held locally are answered without building a command; only the
	// rest go to Redis, pipelined per node.
	cached := b.cached.Load()
	remote := make([]string, 0, len(keys))
	at := make([]int, 0, len(keys))
	now := time.Now().UnixNano()
	for i, k := range keys {
		if cached {
			if v, found, err := b.caches.lookup(k, now); found && b.nodes.of(k).live(now) {
				out[i] = rawResult{value: v, local: true, err: err}
				continue
			}
		}
		remote = append(remote, k)
		at = append(at, i)
	}
	if len(remote) == 0 {
		return out
	}
	res, err := b.perNode(remote, func(cl rueidis.Client, idx []int) []rueidis.RedisResult {
		// The keys of one group share a node; a silent node's are read
		// around the client-side cache, as in getRemote.
		if !cached || !b.nodes.of(remote[idx[0]]).live(time.Now().UnixNano()) {
			cmds := make(rueidis.Commands, len(idx))
			for j, i := range idx {
				cmds[j] = cl.B().Get().Key(remote[i]).Build()
			}
			return cl.DoMulti(ctx, cmds...)
		}
		cmds := make([]rueidis.CacheableTTL, len(idx))
		for j, i := range idx {
			cmds[j] = rueidis.CT(cl.B().Get().Key(remote[i]).Cache(), b.cfg.ClientCacheTTL)
		}
		return cl.DoMultiCache(ctx, cmds...)
	})
	for j, i := range at {
		if err != nil {
			out[i].err = err
			continue
		}
		v, local, rerr := readValue(res[j])
		out[i] = rawResult{value: v, local: local, err: rerr}
	}
	return out
}

func (b *redisBackend) setMany(ctx context.Context, items []Item) []error {
	errs := make([]error, len(items))
	ctx = hide(ctx)
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = it.Key
	}
	res, err := b.perNode(keys, func(cl rueidis.Client, idx []int) []rueidis.RedisResult {
		cmds := make(rueidis.Commands, len(idx))
		for j, i := range idx {
			it := items[i]
			cmds[j] = cl.B().Set().Key(it.Key).Value(rueidis.BinaryString(it.Value)).Px(it.TTL).Build()
		}
		return cl.DoMulti(ctx, cmds...)
	})
	for i, it := range items {
		if err != nil {
			errs[i] = err
			continue
		}
		b.caches.forget(it.Key)
		errs[i] = res[i].Error()
	}
	return errs
}

// primaries returns every primary node as the topology has it now.
func (b *redisBackend) primaries() ([]*node, error) {
	if _, err := b.c(); err != nil {
		return nil, err
	}
	return b.nodes.topo.Load().primaries, nil
}

func (b *redisBackend) scan(ctx context.Context, match string, fn func(keys []string) error) error {
	nodes, err := b.primaries()
	if err != nil {
		return err
	}
	failed := make(map[string]error)
	for _, n := range nodes {
		if err := b.walk(ctx, n, func(cl rueidis.Client) error {
			return b.scanNode(ctx, cl, match, fn)
		}); err != nil {
			var fe *fnError
			if errors.As(err, &fe) {
				return fe.err
			}
			if isCallerDone(err) || ctx.Err() != nil {
				return err
			}
			failed[n.addr] = err
		}
	}
	return nodesErr("scan", failed)
}

// fnError carries an error of the caller's function out of a walk, so that
// it is told apart from the node failing.
type fnError struct{ err error }

func (e *fnError) Error() string { return e.err.Error() }

// walk runs a walk of one node's keyspace through its breaker: a node whose
// breaker is open is not walked, and the walk's outcome counts for it.
func (b *redisBackend) walk(ctx context.Context, n *node, fn func(cl rueidis.Client) error) error {
	br := n.breaker()
	done, err := br.allow()
	if err != nil {
		return err
	}
	cl := b.nodes.clientOf(n)
	if cl == nil {
		done(nil)
		return fmt.Errorf("%w: not connected", ErrUnavailable)
	}
	err = callerOwns(ctx, fn(cl))
	var fe *fnError
	if errors.As(err, &fe) {
		done(nil)
	} else {
		done(err)
	}
	return err
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
				return &fnError{err: err}
			}
		}
		if cursor = e.Cursor; cursor == 0 {
			return nil
		}
	}
}

// deleteMatching walks every primary at once, since each walk waits on its
// own node; removal speed grows with the number of primaries. A primary
// that cannot be walked (its breaker is open, or it fails on the way) is
// reported in a *NodesError, and the others are still walked. The
// client-side cache stops serving matching keys of those nodes, so this
// process does not serve what it was asked to remove.
func (b *redisBackend) deleteMatching(ctx context.Context, match string) (int64, error) {
	nodes, err := b.primaries()
	if err != nil {
		return 0, err
	}
	var total atomic.Int64
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			errs[i] = b.walk(ctx, n, func(cl rueidis.Client) error {
				return b.scanNode(ctx, cl, match, func(keys []string) error {
					// The keys of one SCAN reply live on this node, so
					// this is one round trip to it.
					rctx, cancel := context.WithTimeout(ctx, b.cfg.OpTimeout)
					defer cancel()
					cmds := make(rueidis.Commands, len(keys))
					for j, k := range keys {
						cmds[j] = cl.B().Unlink().Key(k).Build()
					}
					res := cl.DoMulti(hide(rctx), cmds...)
					for _, k := range keys {
						b.caches.forget(k)
					}
					for _, r := range res {
						v, err := r.AsInt64()
						if err != nil {
							return err
						}
						total.Add(v)
					}
					return nil
				})
			})
		})
	}
	wg.Wait()
	failed := make(map[string]error)
	for i, err := range errs {
		var fe *fnError
		if errors.As(err, &fe) {
			err = fe.err
		}
		if err == nil {
			continue
		}
		if isCallerDone(err) {
			return total.Load(), err
		}
		failed[nodes[i].addr] = err
	}
	if len(failed) > 0 {
		b.caches.forgetWhere(func(key string) bool { return globMatch(match, key) })
	}
	return total.Load(), nodesErr("delete-pattern", failed)
}

func (b *redisBackend) ping(ctx context.Context) error {
	cl, err := b.c()
	if err != nil {
		return err
	}
	return cl.Do(hide(ctx), cl.B().Ping().Build()).Error()
}

func (b *redisBackend) memory(ctx context.Context) (used, limit int64, err error) {
	nodes, err := b.primaries()
	if err != nil {
		return 0, 0, err
	}
	for _, n := range nodes {
		cl := b.nodes.clientOf(n)
		if cl == nil {
			return 0, 0, fmt.Errorf("%w: not connected", ErrUnavailable)
		}
		info, err := cl.Do(hide(ctx), cl.B().Info().Section("memory").Build()).ToString()
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
		b.nodes.close()
		if p := b.client.Load(); p != nil {
			(*p).Close()
		}
	})
	return nil
}
