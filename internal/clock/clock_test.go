package clock

import (
	"testing"
	"time"
)

// wallNanos is the wall clock: between two readings of time.Now, give or
// take what NTP may have slewed the two clocks apart since the last base
// (microseconds; a millisecond is allowed).
func TestWallNanosIsTheWallClock(t *testing.T) {
	const slack = int64(time.Millisecond)
	for range 1000 {
		before := time.Now().UnixNano()
		got := wallNanos()
		after := time.Now().UnixNano()
		if got < before-slack || got > after+slack {
			t.Fatalf("wallNanos() = %d, outside [%d, %d]", got, before, after)
		}
	}
}

// A base older than clockResync is replaced by a new one: a step of the
// wall clock (here, a base an hour off) is followed.
func TestWallNanosFollowsAStepOfTheWallClock(t *testing.T) {
	saved := clock.Load()
	t.Cleanup(func() { clock.Store(saved) })
	now := time.Now()
	clock.Store(&clockBase{wall: now.Add(time.Hour).UnixNano(), mono: now.Add(-clockResync)})
	before := time.Now().UnixNano()
	got := wallNanos()
	if got < before || got > time.Now().UnixNano() {
		t.Fatalf("wallNanos() = %d kept the stepped base; want the wall clock, about %d", got, before)
	}
	if clock.Load().wall > time.Now().UnixNano() {
		t.Fatal("the stepped base was not replaced")
	}
}

// Nanos never hands out the time its goroutine set before it stopped:
// a read while it is stopped reads the clock, and starts it again, and the
// goroutine stops by itself once nobody reads.
func TestNanosIsNeverStale(t *testing.T) {
	for round := range 3 {
		waitCoarseStopped(t)
		coarse.nanos.Store(time.Now().Add(-time.Hour).UnixNano())
		before := time.Now().UnixNano()
		if got := Nanos(); got < before-int64(time.Millisecond) {
			t.Fatalf("round %d: Nanos() = %d, the stopped clock's time; want about %d", round, got, before)
		}
		if got := Nanos(); got < before-int64(time.Millisecond) {
			t.Fatalf("round %d: the restarted clock says %d, before %d", round, got, before)
		}
	}
	waitCoarseStopped(t)
}

// waitCoarseStopped waits for the coarse clock's goroutine to stop, as it
// does coarseIdleTicks after the last read.
func waitCoarseStopped(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for coarse.starting.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the coarse clock's goroutine did not stop while nothing read it")
		}
		time.Sleep(coarseTick)
	}
}

// Now is the coarse clock: never the time of a stopped goroutine.
func TestNowIsTheCoarseClock(t *testing.T) {
	waitCoarseStopped(t)
	coarse.nanos.Store(time.Now().Add(-time.Hour).UnixNano())
	before := time.Now().Add(-time.Millisecond)
	if got := Now(); got.Before(before) {
		t.Fatalf("Now() = %v, before %v", got, before)
	}
	waitCoarseStopped(t)
}
