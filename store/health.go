package store

import (
	"context"
	"math"
	"time"
)

// DefaultHealthTimeout bounds the backend request of Health (a PING) and of
// Stats (INFO memory) when the caller's context has no earlier deadline.
const DefaultHealthTimeout = time.Second

// Health is the result of one health check.
type Health struct {
	// Healthy reports whether the backend answered a PING, around the
	// breakers (on a cluster one node answers it; Stats.Healthy asks every
	// primary).
	Healthy bool `json:"healthy"`
	// Backend is Cache.Backend.
	Backend string `json:"backend"`
	// Latency is how long the PING took, answered or not.
	Latency time.Duration `json:"latency_ns"`
	// Breaker is the worst state of the primaries' breakers, as in Stats.
	Breaker BreakerState `json:"breaker_state"`
	// Error says why the check failed; empty when healthy.
	Error     string    `json:"error,omitempty"`
	CheckedAt time.Time `json:"checked_at"`
}

// Health pings the backend, bounded by DefaultHealthTimeout (or ctx's
// earlier deadline), and reports the outcome. It goes around the breaker so
// that it tells the truth even while the breaker is open.
func (c *Cache) Health(ctx context.Context) Health {
	h := Health{Backend: c.be.name(), Breaker: BreakerClosed, CheckedAt: time.Now().UTC()}
	if c.rb != nil {
		_, h.Breaker = c.rb.nodes.states()
	}
	if c.closed.Load() {
		h.Error = ErrClosed.Error()
		return h
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultHealthTimeout)
		defer cancel()
	}
	start := time.Now()
	err := c.be.ping(ctx)
	h.Latency = time.Since(start)
	if err != nil {
		h.Error = c.wrapErr("ping", "", err).Error()
		return h
	}
	h.Healthy = true
	return h
}

// Stats returns the counters, the breaker state, the latency summary and
// the backend's memory use, which it asks the backend for (INFO memory of
// every primary on Redis), bounded by DefaultHealthTimeout or ctx's earlier
// deadline. It cannot fail: when that request does not succeed, the memory
// figures are zero and Healthy is false; the counters are this process's
// and always there.
func (c *Cache) Stats(ctx context.Context) Stats {
	s := Stats{
		Backend:   c.be.name(),
		Hits:      c.stats.hits.Load(),
		LocalHits: c.stats.localHits.Load(),
		StaleHits: c.stats.staleHits.Load(),
		Misses:    c.stats.misses.Load(),
		Errors:    c.stats.errors.Load(),
		Writes:    c.stats.writes.Load(),
		Deletes:   c.stats.deletes.Load(),
		Breaker:   BreakerClosed,
		Latency:   c.stats.latency.snapshot(),
	}
	s.TotalRequests = s.Hits + s.Misses
	if s.TotalRequests > 0 {
		s.HitRate = float64(s.Hits) / float64(s.TotalRequests)
	}
	if c.rb != nil {
		s.Nodes, s.Breaker = c.rb.nodes.states()
		s.BreakerTrips = c.rb.nodes.trips.Load()
	}
	if c.closed.Load() {
		return s
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultHealthTimeout)
		defer cancel()
	}
	used, limit, err := c.be.memory(ctx)
	if err == nil {
		s.Healthy = true
		s.MemoryBytes, s.MaxMemoryBytes = used, limit
		s.MemoryMB = math.Round(float64(used)/(1<<20)*100) / 100
	}
	return s
}
