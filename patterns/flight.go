package patterns

import (
	"errors"

	"github.com/emgcache/emgcache/internal/flight"
)

// flightResult is what a load produced: the value encoded with the cache's
// codec in raw, or, when it could not be encoded, the value itself in val;
// or an error.
//
// The loads of one key share a flight.Group's call, not an
// x/sync/singleflight one, for what a server needs: the load runs under a
// context of its own, detached from the caller that happened to start it,
// and is cancelled only when every caller waiting for it has given up, so
// that one client hanging up does not fail the requests of the others and
// a load nobody waits for stops; each waiter's context bounds its own wait.
type flightResult struct {
	raw []byte
	val any
	err error
}

type flightGroup = flight.Group[flightResult]

// errGoexit is what the callers waiting for a load get when its loader
// called runtime.Goexit (as t.FailNow does), so that they do not wait
// forever.
var errGoexit = errors.New("patterns: loader called runtime.Goexit")
