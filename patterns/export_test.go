package patterns

// NewPlaceholder is what a load writes into a missing key before it starts,
// for tests that play another process in the middle of a load.
func NewPlaceholder() []byte { return newPlaceholder() }

// SetRand replaces the randomness of p's TTL jitter, before p is used.
func SetRand(p *Layer, rand func() float64) { p.rand = rand }

// QueuedRefreshes is how many refresh-ahead reloads wait for a worker.
func QueuedRefreshes(p *Layer) int { return len(p.pool.jobs) }
