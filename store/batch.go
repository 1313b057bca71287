package store

import (
	"context"
	"errors"
	"time"
)

// GetMany reads keys in one round trip per Redis node (pipelined; keys in
// the client-side cache cost none) and returns one GetResult per key, in
// order. A failure is reported per key; a key that is invalid gets
// ErrInvalidKey in its own GetResult without failing the others.
func (c *Cache) GetMany(ctx context.Context, keys []string) []GetResult {
	if c.cfg.Hooks.Read != nil {
		return c.getManyObserved(ctx, keys)
	}
	return c.readMany(ctx, keys)
}

// readMany is GetMany without Hooks.Read.
func (c *Cache) readMany(ctx context.Context, keys []string) []GetResult {
	out := make([]GetResult, len(keys))
	if len(keys) == 0 {
		return out
	}
	if c.closed.Load() {
		for i := range out {
			out[i].Err = ErrClosed
		}
		return out
	}
	full := make([]string, 0, len(keys))
	idx := make([]int, 0, len(keys))
	for i, k := range keys {
		if err := c.checkKey(k); err != nil {
			out[i].Err = err
			continue
		}
		full = append(full, c.cfg.KeyPrefix+k)
		idx = append(idx, i)
	}
	if len(full) == 0 {
		return out
	}
	start := time.Now()
	res := make([]rawResult, len(full))
	if c.rb == nil {
		res = c.be.getMany(ctx, full)
	} else {
		// Local hits first, whatever the breakers say; then one call per
		// node whose breaker lets it through.
		var ask []int
		for j, k := range full {
			if v, found, err := c.rb.local(k); found {
				res[j] = rawResult{value: v, local: true, err: err}
				continue
			}
			ask = append(ask, j)
		}
		if len(ask) > 0 {
			keys := make([]string, len(ask))
			for j, i := range ask {
				keys[j] = full[i]
			}
			refused, finish := c.admit(ctx, keys)
			var send []int
			for j, err := range refused {
				if err != nil {
					res[ask[j]].err = err
					continue
				}
				send = append(send, j)
			}
			if len(send) > 0 {
				sk := make([]string, len(send))
				for j, i := range send {
					sk[j] = keys[i]
				}
				bctx, bfinish, berr := bound(ctx, c.batchTimeout(len(sk)))
				var got []rawResult
				if berr == nil {
					got = c.rb.getMany(bctx, sk)
				}
				for j, i := range send {
					if berr != nil {
						res[ask[i]].err = berr
						continue
					}
					got[j].err = callerOwns(ctx, bfinish(got[j].err))
					res[ask[i]] = got[j]
				}
			}
			finish(func(j int) error { return res[ask[j]].err })
		}
	}
	c.stats.latency.observe(time.Since(start))
	for j, r := range res {
		v, src, err := c.finishGet(ctx, full[j], r.value, r.local, r.err, time.Time{}, true)
		if err != nil {
			out[idx[j]] = GetResult{Err: err}
			continue
		}
		out[idx[j]] = GetResult{Value: []byte(v), Local: src == SourceLocal}
	}
	return out
}

// admit asks the breaker of each key's node, once per node, to let one call
// through. refused holds, per key, the refusal of its node's breaker (nil
// where the key may be sent). finish reports to each admitted node the
// first failure among its keys' outcomes, which errOf gives by index. A
// caller whose context has already ended is refused everywhere, without
// asking any breaker.
func (c *Cache) admit(ctx context.Context, keys []string) (refused []error, finish func(errOf func(i int) error)) {
	refused = make([]error, len(keys))
	if ctx.Err() != nil {
		err := callerOwns(ctx, ctx.Err())
		for i := range refused {
			refused[i] = err
		}
		return refused, func(func(int) error) {}
	}
	type admitted struct {
		done func(error)
		err  error
		idx  []int
	}
	topo := c.rb.nodes.topo.Load()
	byNode := make(map[*node]*admitted, len(topo.primaries))
	for i, k := range keys {
		n := topo.of(k)
		a := byNode[n]
		if a == nil {
			a = &admitted{}
			a.done, a.err = n.breaker().allow()
			byNode[n] = a
		}
		if a.err != nil {
			refused[i] = a.err
			continue
		}
		a.idx = append(a.idx, i)
	}
	return refused, func(errOf func(i int) error) {
		for _, a := range byNode {
			if a.err != nil {
				continue
			}
			var first error
			for _, i := range a.idx {
				if err := errOf(i); err != nil && !errors.Is(err, ErrNotFound) {
					first = err
					break
				}
			}
			a.done(first)
		}
	}
}

// SetMany writes items in one round trip per Redis node and returns one
// error per item, in order (nil where it was stored). Items over
// MaxEntryBytes get ErrTooLarge and are not sent; the others still are.
// After SetMany returns, this process's reads see the stored values.
func (c *Cache) SetMany(ctx context.Context, items []Item) []error {
	errs := make([]error, len(items))
	if len(items) == 0 {
		return errs
	}
	if c.closed.Load() {
		for i := range errs {
			errs[i] = ErrClosed
		}
		return errs
	}
	send := make([]Item, 0, len(items))
	idx := make([]int, 0, len(items))
	for i, it := range items {
		if err := c.checkKey(it.Key); err != nil {
			errs[i] = err
			continue
		}
		if err := c.checkValue(it.Key, it.Value); err != nil {
			errs[i] = err
			continue
		}
		send = append(send, Item{Key: c.cfg.KeyPrefix + it.Key, Value: it.Value, TTL: c.ttlOrDefault(it.TTL)})
		idx = append(idx, i)
	}
	if len(send) == 0 {
		return errs
	}
	start := time.Now()
	var res []error
	if c.rb == nil {
		res = c.be.setMany(ctx, send)
	} else {
		res = make([]error, len(send))
		keys := make([]string, len(send))
		for i, it := range send {
			keys[i] = it.Key
		}
		refused, finish := c.admit(ctx, keys)
		var ok []Item
		var at []int
		for i, err := range refused {
			if err != nil {
				res[i] = err
				continue
			}
			ok = append(ok, send[i])
			at = append(at, i)
		}
		if len(ok) > 0 {
			bctx, bfinish, berr := bound(ctx, c.batchTimeout(len(ok)))
			var got []error
			if berr == nil {
				got = c.rb.setMany(bctx, ok)
			}
			for j, i := range at {
				if berr != nil {
					res[i] = berr
					continue
				}
				res[i] = callerOwns(ctx, bfinish(got[j]))
			}
		}
		finish(func(i int) error { return res[i] })
	}
	c.stats.latency.observe(time.Since(start))
	for j, err := range res {
		if err != nil {
			c.stats.errors.Add(1)
			errs[idx[j]] = c.wrapErr("set", send[j].Key, err)
			continue
		}
		c.stats.writes.Add(1)
		if c.stale != nil {
			c.stale.store(send[j].Key, string(send[j].Value), c.cfg.ClientCacheTTL, false)
		}
	}
	return errs
}
