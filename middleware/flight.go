package middleware

import (
	"net/http"
	"slices"

	"github.com/emgcache/emgcache/internal/flight"
)

// Concurrent misses for one key run the handler once: they share a
// flight.Group's call, not an x/sync/singleflight one, because the leader
// publishes its result as soon as it knows it (before it writes the
// response to the store, and as soon as it gives up buffering a body too
// large to share), requests arriving until it has stored the response are
// served what it published, and a waiter stops waiting when its own
// request is cancelled.
type (
	flightGroup = flight.Group[*fillResult]
	fillFlight  = flight.Call[*fillResult]
)

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
