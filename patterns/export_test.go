package patterns

import "time"

// NewPlaceholder is what a load writes into a missing key before it starts,
// for tests that play another process in the middle of a load.
func NewPlaceholder() []byte { return newPlaceholder() }

// SetRand replaces the randomness of p's TTL jitter, before p is used.
func SetRand(p *Layer, rand func() float64) { p.rand = rand }

// QueuedRefreshes is how many refresh-ahead reloads wait for a worker.
func QueuedRefreshes(p *Layer) int { return len(p.pool.jobs) }

// OnJoin sets a hook called (under a lock: it must not block) whenever an
// Aside call joins a load another call of this process started.
func OnJoin(p *Layer, fn func(key string)) { p.flights.OnJoin = fn }

// SetLogClock replaces the clock that rate-limits Options.Logger.
func SetLogClock(p *Layer, now func() time.Time) { p.flog.Now = now }
