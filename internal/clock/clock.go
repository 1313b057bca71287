// Package clock is the wall clock of the reads served from process memory:
// the store's checks of expiry and liveness, and the middleware's age of a
// response, read it on every hit, where time.Now would be a third of the
// read.
package clock

import (
	"sync/atomic"
	"time"
)

// The reads served from process memory check expiry and a node's liveness
// against the clock, and time.Now reads two clocks (wall and monotonic):
// on the virtual machines this runs on, about 70 ns, a third of such a
// read. wallNanos reads the monotonic clock alone and adds it to a wall
// time taken at a base, which it takes again every clockResync, so that a
// step of the wall clock (a correction by NTP) is followed within that.
// Nanos, for the reads themselves, is coarser still: it loads a time a
// goroutine sets every millisecond while reads are frequent.

// clockResync is how often wallNanos reads the wall clock itself.
const clockResync = time.Second

// clockBase is a wall time and the monotonic reading taken with it.
type clockBase struct {
	wall int64     // Unix nanoseconds
	mono time.Time // the same instant, with its monotonic reading
}

var clock atomic.Pointer[clockBase]

func init() { clock.Store(newClockBase()) }

func newClockBase() *clockBase {
	now := time.Now()
	return &clockBase{wall: now.UnixNano(), mono: now}
}

// wallNanos returns the current wall time in Unix nanoseconds, as
// time.Now().UnixNano() does but for a step of the wall clock in the last
// clockResync.
func wallNanos() int64 {
	b := clock.Load()
	// time.Since of a time with a monotonic reading reads only the
	// monotonic clock.
	d := time.Since(b.mono)
	if d >= clockResync || d < 0 {
		nb := newClockBase()
		clock.Store(nb)
		return nb.wall
	}
	return b.wall + int64(d)
}

// The reads served from memory need no more than a millisecond, so while
// they are frequent a goroutine sets the time every coarseTick and they
// load it: a load instead of a clock read. The goroutine stops once no read
// asked for the time during coarseIdleTicks ticks, so that an idle process
// does not wake up a thousand times a second; the next read starts it
// again, and reads the clock itself meanwhile.
const (
	coarseTick      = time.Millisecond
	coarseIdleTicks = 50
)

var coarse struct {
	nanos atomic.Int64
	// running says nanos is being kept current; it is set only after nanos
	// was, and cleared before the goroutine stops updating it.
	running atomic.Bool
	// starting is held from a start of the goroutine until it stops.
	starting atomic.Bool
	// used says a read asked for the time since the last tick.
	used atomic.Bool
}

// Nanos returns the current wall time in Unix nanoseconds, within about a
// millisecond while it is read often (more when the process is starved of
// CPU, as every clock of a starved process is late), without reading the
// clock then: for expiry, freshness and liveness checks on every read, not
// for measuring durations.
func Nanos() int64 {
	if !coarse.used.Load() {
		coarse.used.Store(true)
	}
	if coarse.running.Load() {
		return coarse.nanos.Load()
	}
	n := wallNanos()
	if coarse.starting.CompareAndSwap(false, true) {
		coarse.nanos.Store(n)
		coarse.running.Store(true)
		go tickCoarse()
	}
	return n
}

func tickCoarse() {
	t := time.NewTicker(coarseTick)
	defer t.Stop()
	for idle := 0; idle < coarseIdleTicks; {
		<-t.C
		coarse.nanos.Store(time.Now().UnixNano())
		if coarse.used.Swap(false) {
			idle = 0
		} else {
			idle++
		}
	}
	coarse.running.Store(false)
	coarse.starting.Store(false)
}

// Now is Nanos as a time.Time, without a monotonic reading.
func Now() time.Time { return time.Unix(0, Nanos()) }
