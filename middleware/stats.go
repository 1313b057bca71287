package middleware

import (
	"context"
	"sync"
	"sync/atomic"
)

// Stats counts what a ResponseCache did with the requests it saw, as HTTP
// outcomes: the store's own Stats count reads of the store, one per
// cacheable request, and cannot tell a response served from the store
// from one that joined another request's fill.
type Stats struct {
	// Route is Options.Route: which routes these numbers are about.
	Route string `json:"route"`
	// Hits counts responses served fresh from the store.
	Hits uint64 `json:"hits"`
	// Stale counts stored responses served stale: while revalidating
	// (stale-while-revalidate) or in place of a handler error
	// (stale-if-error; such a request also counts as a miss).
	Stale uint64 `json:"stale"`
	// Collapsed counts requests that waited for another request's fill
	// and were served its response from memory.
	Collapsed uint64 `json:"collapsed"`
	// Misses counts GET and HEAD requests that went to the handler.
	Misses uint64 `json:"misses"`
	// Bypasses counts requests the cache did not take part in: other
	// methods, and requests with credentials, bypass headers, an empty
	// KeyFunc value or Cache-Control: no-store.
	Bypasses uint64 `json:"bypasses"`
	// Requests is Hits + Stale + Collapsed + Misses, minus the requests
	// counted both as a miss and as stale: the requests the cache could
	// have answered.
	Requests uint64 `json:"requests"`
	// HitRate is (Hits + Stale) / Requests, 0 without requests: the share
	// of cacheable requests the store answered without the handler.
	HitRate float64 `json:"hit_rate"`
}

type counters struct {
	hits, stale, collapsed, misses, bypasses atomic.Uint64
	// staleMisses are the stale-if-error responses, counted twice.
	staleMisses atomic.Uint64
}

// Stats returns the counters since NewResponseCache. It is cheap (atomic
// loads) and safe to call concurrently with requests; the fields are read
// one by one, so they may be a few requests apart.
func (m *ResponseCache) Stats() Stats {
	s := Stats{
		Route:     m.cfg.route,
		Hits:      m.stats.hits.Load(),
		Stale:     m.stats.stale.Load(),
		Collapsed: m.stats.collapsed.Load(),
		Misses:    m.stats.misses.Load(),
		Bypasses:  m.stats.bypasses.Load(),
	}
	s.Requests = s.Hits + s.Stale + s.Collapsed + s.Misses - min(m.stats.staleMisses.Load(), s.Misses)
	if s.Requests > 0 {
		s.HitRate = float64(s.Hits+s.Stale) / float64(s.Requests)
	}
	return s
}

// background bounds and tracks the revalidations that outlive their
// request.
type background struct {
	slots  chan struct{} // one per revalidation running
	mu     sync.Mutex    // orders acquire against Close
	closed bool
	wg     sync.WaitGroup
}

// acquire reserves a slot for a revalidation, or reports that none is
// free or that Close was called.
func (b *background) acquire() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	select {
	case b.slots <- struct{}{}:
		b.wg.Add(1)
		return true
	default:
		return false
	}
}

func (b *background) release() {
	<-b.slots
	b.wg.Done()
}

// Close stops new background revalidations (stale responses are still
// served, just not refreshed) and waits for the running ones to finish,
// or for ctx to end, whose error it then returns. Requests in progress
// are not affected: stop the server first (http.Server.Shutdown), then
// Close the middleware, then close the store it writes to. Close is
// idempotent; the middleware keeps serving after it.
func (m *ResponseCache) Close(ctx context.Context) error {
	m.bg.mu.Lock()
	m.bg.closed = true
	m.bg.mu.Unlock()
	done := make(chan struct{})
	go func() {
		m.bg.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
