package patterns

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/emgcache/emgcache/internal/list"
	"github.com/emgcache/emgcache/store"
)

const (
	// maxRefreshKeys bounds the keys whose refresh time a Layer
	// remembers; past it the least recently read is forgotten, which costs
	// it one background TTL call when it is read again.
	maxRefreshKeys = 1 << 16
	// refreshRetry is how long a key whose refresh failed, or was being done
	// by another process, is left alone before a hit looks at it again.
	refreshRetry = time.Second
	// refreshWorkers is how many refreshes run at once, per Layer:
	// refreshes are reloads from the origin, and a burst of keys reaching
	// their window together must not become a burst of loads.
	refreshWorkers = 4
	// refreshQueue is how many due keys wait for a worker; a hit that finds
	// the queue full leaves its key to a later hit.
	refreshQueue = 256
)

// refreshBook remembers, for the keys read with refresh-ahead, when to look
// at them next, so that a hit costs a map read and no round trip. It is an
// LRU bounded by maxRefreshKeys.
type refreshBook struct {
	mu    sync.Mutex
	items map[string]*list.Element[refreshEntry]
	order list.List[refreshEntry] // front: most recently touched
}

type refreshEntry struct {
	key  string
	next time.Time
}

// entry returns key's entry, creating it with a zero time, and marks
// it recently used. The lock must be held.
func (b *refreshBook) entry(key string) *refreshEntry {
	if b.items == nil {
		b.items = make(map[string]*list.Element[refreshEntry])
	}
	if e := b.items[key]; e != nil {
		b.order.MoveToFront(e)
		return &e.Value
	}
	e := &list.Element[refreshEntry]{Value: refreshEntry{key: key}}
	b.order.PushFront(e)
	b.items[key] = e
	if b.order.Len() > maxRefreshKeys {
		last := b.order.Back()
		b.order.Remove(last)
		delete(b.items, last.Value.key)
	}
	return &e.Value
}

// due reports whether key should be looked at now, and if so claims it for
// claim, so that the hits that follow do not start a second refresh.
func (b *refreshBook) due(key string, now time.Time, claim time.Duration) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	re := b.entry(key)
	if now.Before(re.next) {
		return false
	}
	re.next = now.Add(claim)
	return true
}

// set records when key is next due.
func (b *refreshBook) set(key string, at time.Time) {
	b.mu.Lock()
	b.entry(key).next = at
	b.mu.Unlock()
}

func (b *refreshBook) forget(key string) {
	b.mu.Lock()
	if e := b.items[key]; e != nil {
		b.order.Remove(e)
		delete(b.items, key)
	}
	b.mu.Unlock()
}

func (b *refreshBook) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.order.Len()
}

// refreshPool runs refreshes on refreshWorkers goroutines, started on
// first use and stopped by Close.
type refreshPool struct {
	once sync.Once
	jobs chan func()
}

// startRefresh queues a background reload of key, for a hit that found it
// due. A full queue, or a Layer being closed, drops it: the key is
// still cached, and a later hit asks again.
func (p *Layer) startRefresh(ctx context.Context, key string, ttl time.Duration, cfg asideConfig, produce func(context.Context) flightResult) {
	p.pool.once.Do(func() {
		p.pool.jobs = make(chan func(), refreshQueue)
		for range refreshWorkers {
			p.spawn(func() {
				for {
					select {
					case <-p.ctx.Done():
						return
					case job := <-p.pool.jobs:
						job()
					}
				}
			})
		}
	})
	// The request is over long before the reload; keep its values (trace
	// ids), not its cancellation. Close ends the reload instead.
	parent := context.WithoutCancel(ctx)
	job := func() {
		rctx, cancel := context.WithCancel(parent)
		stop := context.AfterFunc(p.ctx, cancel)
		defer func() {
			stop()
			cancel()
		}()
		p.refreshKey(rctx, key, ttl, cfg, produce)
	}
	if p.ctx.Err() != nil {
		p.refresh.forget(key)
		return
	}
	select {
	case p.pool.jobs <- job:
	default:
		p.refresh.forget(key)
	}
}

// refreshKey reloads key if it is within its refresh window, unless
// another process is already doing so. The reload replaces the value it
// read before loading, and only that (store.Cache.CompareAndSet): if the
// key was invalidated or rewritten meanwhile, the reload is dropped.
func (p *Layer) refreshKey(ctx context.Context, key string, ttl time.Duration, cfg asideConfig, produce func(context.Context) flightResult) {
	retry := func(err error) {
		p.refresh.set(key, time.Now().Add(refreshRetry))
		p.reportAs(ctx, opRefresh, key, err)
	}
	defer func() {
		// There is no caller to re-raise it in, and a panic here would take
		// the whole process down for the sake of a cache refresh.
		if r := recover(); r != nil {
			retry(fmt.Errorf("refresh %q: loader panicked: %v", key, r))
		}
	}()
	full := p.effectiveTTL(ttl)
	window := cfg.window(full)
	left, err := p.cache.TTL(ctx, key)
	now := time.Now()
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Gone: the next read misses and loads it the ordinary way.
		p.refresh.forget(key)
		return
	case err != nil:
		retry(fmt.Errorf("refresh %q: %w", key, err))
		return
	case left == store.NoExpiry:
		p.refresh.set(key, now.Add(full))
		return
	case left > window:
		p.refresh.set(key, now.Add(left-window))
		return
	}
	lockKey := LockPrefix + key
	token := newPlaceholder()
	ok, err := p.cache.SetNX(ctx, lockKey, token, p.opts.LockTTL)
	switch {
	case err != nil:
		retry(fmt.Errorf("refresh %q: %w", key, err))
		return
	case !ok:
		p.refresh.set(key, now.Add(refreshRetry))
		return
	}
	defer p.unlock(ctx, lockKey, token)
	old, err := p.cache.Uncounted().GetString(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		p.refresh.forget(key)
		return
	case err != nil:
		retry(fmt.Errorf("refresh %q: %w", key, err))
		return
	case isPlaceholder(old) || isNegative([]byte(old)):
		// Being loaded, or cached as absent: not a value to refresh.
		p.refresh.forget(key)
		return
	}
	res := produce(ctx)
	switch {
	case res.err != nil:
		retry(fmt.Errorf("refresh %q: %w", key, res.err))
		return
	case res.raw == nil:
		// Not encodable, so not stored.
		p.refresh.set(key, now.Add(refreshRetry))
		return
	}
	d := p.jitter(ttl)
	ok, err = p.cache.CompareAndSet(context.WithoutCancel(ctx), key, []byte(old), res.raw, d)
	switch {
	case err != nil:
		retry(fmt.Errorf("refresh %q: %w", key, err))
	case !ok:
		// Invalidated or rewritten during the reload, which may predate that.
		p.refresh.forget(key)
	case window > 0:
		p.refresh.set(key, time.Now().Add(d-window))
	}
}
