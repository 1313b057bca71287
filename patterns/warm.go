package patterns

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/emgcache/emgcache/store"
)

// WarmItem is one key to preload.
type WarmItem struct {
	Key string
	// Load produces the value, stored with the cache's codec (JSON by
	// default, where a json.RawMessage stores bytes that are JSON already).
	Load func(ctx context.Context) (any, error)
	// Priority orders the work: higher first; equal priorities keep their
	// order in the slice.
	Priority int
	// TTL is the entry's lifetime (0: the cache's default TTL), spread by
	// Options.Jitter.
	TTL time.Duration
}

// WarmStatus is what became of one WarmItem.
type WarmStatus uint8

// Outcomes of a WarmItem.
const (
	// WarmLoaded: loaded and stored.
	WarmLoaded WarmStatus = iota + 1
	// WarmSkipped: the key was cached already and WarmOptions.Force was
	// off; the loader did not run.
	WarmSkipped
	// WarmFailed: see WarmResult.Err.
	WarmFailed
)

func (s WarmStatus) String() string {
	switch s {
	case WarmLoaded:
		return "loaded"
	case WarmSkipped:
		return "skipped"
	case WarmFailed:
		return "failed"
	}
	return "unknown"
}

// WarmResult is the outcome of one WarmItem.
type WarmResult struct {
	Key      string
	Priority int
	Status   WarmStatus
	// Err says why the item failed: its loader's error, a value that
	// cannot be encoded, a cache failure, or the context's error for an
	// item not started before ctx ended.
	Err error
	// Elapsed is how long the item took, loader and writes included.
	Elapsed time.Duration
}

// WarmOptions configures Warm. Its zero value means the documented
// defaults.
type WarmOptions struct {
	// Concurrency bounds how many loaders run at once. Zero means
	// DefaultWarmConcurrency; 1 loads strictly in priority order.
	Concurrency int
	// Force reloads keys that are cached already.
	Force bool
	// Progress, if set, is called once per item as it finishes, with done
	// counting from 1 to total. Calls come one at a time, so it needs no
	// locking, but from Warm's workers: it should return quickly.
	Progress func(done, total int, item WarmResult)
}

// WarmReport is the outcome of Warm.
type WarmReport struct {
	// Items holds one result per WarmItem, in the order they were given.
	Items                   []WarmResult
	Loaded, Skipped, Failed int
}

// Err joins the errors of the failed items, each naming its key, or is nil
// when none failed.
func (r WarmReport) Err() error {
	var errs []error
	for _, it := range r.Items {
		if it.Status == WarmFailed {
			errs = append(errs, fmt.Errorf("warm %q: %w", it.Key, it.Err))
		}
	}
	return errors.Join(errs...)
}

// Warm preloads items into the cache, higher priority first, at most
// opts.Concurrency at a time. Keys already cached are skipped unless
// opts.Force is set. Warm returns when every item has an outcome; when ctx
// ends, the items not yet started fail with its error. A failing item does
// not stop the others.
func (p *Layer) Warm(ctx context.Context, items []WarmItem, opts WarmOptions) WarmReport {
	report := WarmReport{Items: make([]WarmResult, len(items))}
	if len(items) == 0 {
		return report
	}
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(items[b].Priority, items[a].Priority) })

	var mu sync.Mutex
	done := 0
	record := func(i int, r WarmResult) {
		mu.Lock()
		defer mu.Unlock()
		report.Items[i] = r
		switch r.Status {
		case WarmLoaded:
			report.Loaded++
		case WarmSkipped:
			report.Skipped++
		default:
			report.Failed++
		}
		done++
		if opts.Progress != nil {
			opts.Progress(done, len(items), r)
		}
	}

	workers := opts.Concurrency
	if workers <= 0 {
		workers = DefaultWarmConcurrency
	}
	workers = min(workers, len(items))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				record(i, p.warmOne(ctx, items[i], opts.Force))
			}
		})
	}
	sent := 0
feed:
	for _, i := range order {
		select {
		case next <- i:
			sent++
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	for _, i := range order[sent:] {
		it := items[i]
		record(i, WarmResult{Key: it.Key, Priority: it.Priority, Status: WarmFailed, Err: ctx.Err()})
	}
	return report
}

// errWarmOvertaken is why an item fails whose key kept being invalidated
// or rewritten while it loaded: what it loaded may be older than that.
var errWarmOvertaken = errors.New("patterns: the key changed during every load; nothing stored")

func (p *Layer) warmOne(ctx context.Context, it WarmItem, force bool) (r WarmResult) {
	start := time.Now()
	r = WarmResult{Key: it.Key, Priority: it.Priority, Status: WarmFailed}
	defer func() { r.Elapsed = time.Since(start) }()
	if err := ctx.Err(); err != nil {
		r.Err = err
		return r
	}
	if it.Load == nil {
		r.Err = errors.New("patterns: warm item has no loader")
		return r
	}
	load := func(ctx context.Context) ([]byte, error) {
		v, err := it.Load(ctx)
		if err != nil {
			return nil, err
		}
		b, err := p.cache.Codec().Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode %q: %w", it.Key, err)
		}
		return b, nil
	}
	if p.opts.Hooks.Load != nil {
		unobserved := load
		load = func(ctx context.Context) (b []byte, err error) {
			err = p.observeLoad(ctx, LoadInfo{Key: it.Key, Kind: LoadWarm}, func(ctx context.Context) error {
				b, err = unobserved(ctx)
				return err
			})
			return b, err
		}
	}
	for range maxReloads + 1 {
		status, err := p.warmAttempt(ctx, it, force, load)
		if !errors.Is(err, errWarmOvertaken) {
			r.Status, r.Err = status, err
			return r
		}
	}
	r.Err = errWarmOvertaken
	return r
}

// warmAttempt loads and stores one item under the cross-process lock Aside
// uses: a placeholder in the key when it is missing, LockPrefix+key and a
// compare-and-set against the value it replaces when forced over one. So
// a warm never overwrites a newer value, nor one an invalidation removed
// during its load (errWarmOvertaken then).
func (p *Layer) warmAttempt(ctx context.Context, it WarmItem, force bool, load func(context.Context) ([]byte, error)) (WarmStatus, error) {
	// A cache that cannot answer cannot be warmed either: fail the item
	// rather than run a loader for nothing.
	token := newPlaceholder()
	ok, err := p.cache.SetNX(ctx, it.Key, token, p.opts.LockTTL)
	if err != nil {
		return WarmFailed, err
	}
	wctx := context.WithoutCancel(ctx)
	if ok {
		swapped := false
		defer func() {
			if !swapped {
				p.unlock(wctx, it.Key, token)
			}
		}()
		b, err := load(ctx)
		if err != nil {
			return WarmFailed, err
		}
		ok, err := p.cache.CompareAndSet(wctx, it.Key, token, b, p.jitter(it.TTL))
		if err != nil {
			return WarmFailed, err
		}
		// Swapped, or the placeholder was gone: nothing of ours is left
		// to remove.
		swapped = true
		if !ok {
			return WarmFailed, errWarmOvertaken
		}
		return WarmLoaded, nil
	}
	if !force {
		// Cached already, or being loaded by someone else.
		return WarmSkipped, nil
	}
	old, err := p.cache.Uncounted().GetString(ctx, it.Key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return WarmFailed, errWarmOvertaken // gone meanwhile: start over
	case err != nil:
		return WarmFailed, err
	case isPlaceholder(old):
		// Someone is loading it right now: their value is as new as ours.
		return WarmSkipped, nil
	}
	lockKey := LockPrefix + it.Key
	ok, err = p.cache.SetNX(ctx, lockKey, token, p.opts.LockTTL)
	switch {
	case err != nil:
		return WarmFailed, err
	case !ok:
		return WarmSkipped, nil // another process is reloading it
	}
	defer p.unlock(wctx, lockKey, token)
	b, err := load(ctx)
	if err != nil {
		return WarmFailed, err
	}
	ok, err = p.cache.CompareAndSet(wctx, it.Key, []byte(old), b, p.jitter(it.TTL))
	switch {
	case err != nil:
		return WarmFailed, err
	case !ok:
		return WarmFailed, errWarmOvertaken
	}
	return WarmLoaded, nil
}
