package patterns

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emgcache/emgcache/store"
)

const (
	// maxRefreshKeys bounds the keys whose refresh time a Patterns
	// remembers. Past it the book starts over, which costs each hot key one
	// background TTL call.
	maxRefreshKeys = 1 << 16
	// refreshRetry is how long a key whose refresh failed, or was being done
	// by another process, is left alone before a hit looks at it again.
	refreshRetry = time.Second
)

// refreshBook remembers, for the keys read with refresh-ahead, when to look
// at them next, so that a hit costs a map read and no round trip.
type refreshBook struct {
	next sync.Map // key → time.Time
	n    atomic.Int64
}

// due reports whether key should be looked at now, and if so claims it for
// claim, so that the hits that follow do not start a second refresh.
func (b *refreshBook) due(key string, now time.Time, claim time.Duration) bool {
	v, ok := b.next.Load(key)
	if ok && now.Before(v.(time.Time)) {
		return false
	}
	until := now.Add(claim)
	if !ok {
		if v, ok = b.next.LoadOrStore(key, until); !ok {
			b.grew()
			return true
		}
		if now.Before(v.(time.Time)) {
			return false
		}
	}
	return b.next.CompareAndSwap(key, v, until)
}

// set records when key is next due.
func (b *refreshBook) set(key string, at time.Time) {
	if _, loaded := b.next.Swap(key, at); !loaded {
		b.grew()
	}
}

func (b *refreshBook) forget(key string) {
	if _, loaded := b.next.LoadAndDelete(key); loaded {
		b.n.Add(-1)
	}
}

func (b *refreshBook) grew() {
	if b.n.Add(1) > maxRefreshKeys {
		b.next.Clear()
		b.n.Store(0)
	}
}

// startRefresh reloads key in the background, for a hit that found it due.
func (p *Patterns) startRefresh(ctx context.Context, key string, ttl time.Duration, cfg asideConfig, produce func(context.Context) flightResult) {
	// The request is over long before the reload; keep its values (trace
	// ids), not its cancellation. Close ends the reload instead.
	parent := context.WithoutCancel(ctx)
	started := p.spawn(func() {
		rctx, cancel := context.WithCancel(parent)
		stop := context.AfterFunc(p.ctx, cancel)
		defer func() {
			stop()
			cancel()
		}()
		p.refreshKey(rctx, key, ttl, cfg, produce)
	})
	if !started {
		p.refresh.forget(key)
	}
}

// refreshKey reloads key if it is within its refresh window, unless
// another process is already doing so.
func (p *Patterns) refreshKey(ctx context.Context, key string, ttl time.Duration, cfg asideConfig, produce func(context.Context) flightResult) {
	retry := func(err error) {
		p.refresh.set(key, time.Now().Add(refreshRetry))
		p.report(ctx, key, err)
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
	token := []byte(rand.Text())
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
	res := p.loadAndStore(ctx, key, ttl, cfg, produce)
	switch {
	case res.err != nil:
		retry(fmt.Errorf("refresh %q: %w", key, res.err))
	case res.raw == nil:
		// Not encodable, so not stored: loadAndStore did not reschedule.
		p.refresh.set(key, now.Add(refreshRetry))
	}
}
