package store

import (
	"context"
	"errors"
	"time"
)

// GetMany reads keys in one round trip per Redis node (pipelined; keys in
// the client-side cache cost none) and returns one Result per key, in
// order. A failure is reported per key; a key that is invalid gets
// ErrInvalidKey in its own Result without failing the others.
func (c *Cache) GetMany(ctx context.Context, keys []string) []Result {
	out := make([]Result, len(keys))
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
	var res []rawResult
	var done func(error)
	if c.br != nil {
		var err error
		if done, err = c.br.allow(); err != nil {
			res = make([]rawResult, len(full))
			for i := range res {
				res[i].err = err
			}
		}
	}
	if res == nil {
		caller := ctx
		ctx, cancel := c.batchTimeout(ctx, len(full))
		res = c.be.getMany(ctx, full)
		cancel()
		for i := range res {
			res[i].err = callerOwns(caller, res[i].err)
		}
		if done != nil {
			done(firstFailure(res))
		}
	}
	c.stats.latency.observe(time.Since(start))
	for j, r := range res {
		v, src, err := c.finishGet(ctx, full[j], r.value, r.local, r.err, time.Time{}, true)
		if err != nil {
			out[idx[j]] = Result{Err: err}
			continue
		}
		out[idx[j]] = Result{Value: []byte(v), Local: src == SourceLocal}
	}
	return out
}

// firstFailure is the error the breaker should hear about for a batch.
func firstFailure(res []rawResult) error {
	for _, r := range res {
		if r.err != nil && !errors.Is(r.err, ErrNotFound) {
			return r.err
		}
	}
	return nil
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
	if c.br != nil {
		done, err := c.br.allow()
		if err != nil {
			res = make([]error, len(send))
			for i := range res {
				res[i] = err
			}
		} else {
			caller := ctx
			ctx, cancel := c.batchTimeout(ctx, len(send))
			res = c.be.setMany(ctx, send)
			cancel()
			for i := range res {
				res[i] = callerOwns(caller, res[i])
			}
			done(firstErr(res))
		}
	} else {
		res = c.be.setMany(ctx, send)
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

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
