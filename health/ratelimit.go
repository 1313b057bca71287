package health

import (
	"sync"
	"time"
)

// tokenBucket is a token bucket of burst tokens that gains one every
// interval; each allowed call takes one. It keeps the bucket as the time at
// which it will be full again (the generic cell rate algorithm), which is
// exact in integer nanoseconds where counting fractional tokens in floating
// point would drift. It is small enough not to justify a dependency, and it
// runs on an injectable clock.
type tokenBucket struct {
	now      func() time.Time
	interval time.Duration
	// tolerance is how far ahead of now full may run: a full bucket
	// allows burst calls at once.
	tolerance time.Duration

	mu sync.Mutex
	// full is when the bucket will hold burst tokens again, were no call
	// made meanwhile; it is in the past while the bucket is full.
	full time.Time
}

func newTokenBucket(burst int, interval time.Duration, now func() time.Time) *tokenBucket {
	return &tokenBucket{now: now, interval: interval, tolerance: time.Duration(burst-1) * interval}
}

// take takes one token if there is one. Otherwise it reports how long until
// there will be.
func (b *tokenBucket) take() (ok bool, retryAfter time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	full := b.full
	if full.Before(now) {
		full = now
	}
	if ahead := full.Sub(now); ahead > b.tolerance {
		return false, ahead - b.tolerance
	}
	b.full = full.Add(b.interval)
	return true, 0
}
