package patterns

// NewPlaceholder is what a load writes into a missing key before it starts,
// for tests that play another process in the middle of a load.
func NewPlaceholder() []byte { return newPlaceholder() }

// QueuedRefreshes is how many refresh-ahead reloads wait for a worker.
func QueuedRefreshes(p *Patterns) int { return len(p.pool.jobs) }
