package middleware

import (
	"net/http"
	"slices"
	"sync"
)

// flightGroup makes concurrent misses for one key run the handler once.
// Unlike golang.org/x/sync/singleflight, the leader publishes its result as
// soon as it knows it: before it writes the response to the store, and as
// soon as it gives up buffering a body too large to share. A waiter stops
// waiting when its own request is cancelled. The zero value is ready.
type flightGroup struct {
	mu sync.Mutex
	m  map[string]*flight
	// joined, if set, is called when a request joins a flight it did not
	// start: a hook for tests that order requests without sleeping.
	joined func(key string)
}

// flight is one handler run that requests for the same key can share.
type flight struct {
	done chan struct{}
	res  *fillResult // set before done is closed
}

// fillResult is what the leader of a flight hands to its waiters.
type fillResult struct {
	// entry is the response to share; nil when it must not be shared (not
	// storable, too large, the handler panicked), and the waiters run the
	// handler themselves.
	entry *entry
	// hit: entry was found in the store after all; the handler did not run.
	hit bool
	// stale: entry is a stale response standing in for a handler error
	// (stale-if-error).
	stale     bool
	stored    bool
	fwd       string
	fwdStatus int
	// The leader's request values of the headers the response varies on:
	// a waiter whose values differ must not get this response.
	varyNames  []string
	varyValues [][]string
}

var notShared = &fillResult{}

// join returns the flight for key, starting it if there is none; leader
// reports whether the caller started it and must publish its result and
// leave.
func (g *flightGroup) join(key string) (f *flight, leader bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f := g.m[key]; f != nil {
		if g.joined != nil {
			g.joined(key)
		}
		return f, false
	}
	if g.m == nil {
		g.m = make(map[string]*flight)
	}
	f = &flight{done: make(chan struct{})}
	g.m[key] = f
	return f, true
}

// lookup returns the flight for key, or nil.
func (g *flightGroup) lookup(key string) *flight {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.m[key]
}

// leave ends the leader's flight: requests arriving later start their own.
func (g *flightGroup) leave(key string, f *flight) {
	g.mu.Lock()
	if g.m[key] == f {
		delete(g.m, key)
	}
	g.mu.Unlock()
}

// publish hands res to the waiters. Only the first call counts.
func (f *flight) publish(res *fillResult) {
	if f.res == nil {
		f.res = res
		close(f.done)
	}
}

// published reports whether the result is already available, in which case
// a request joining now is served from memory without waiting: a hit.
func (f *flight) published() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// sharesWith reports whether a request with headers h may be served res.
func (res *fillResult) sharesWith(h http.Header) bool {
	if res.entry == nil {
		return false
	}
	for i, name := range res.varyNames {
		if !slices.Equal(h[name], res.varyValues[i]) {
			return false
		}
	}
	return true
}
