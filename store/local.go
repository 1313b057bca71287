package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// ErrNotLocal means that process memory holds no current copy of a key, so
// that answering would take a round trip. Only the Local reads return it;
// the caller then reads as usual (GetString, NamespaceVersion), under the
// request's cache budget.
var ErrNotLocal = errors.New("store: not in process memory")

// LocalString is GetString answered from process memory alone: the value
// of the client-side cache, which Redis keeps coherent, or of the embedded
// backend. It needs no context and no cache budget, since it never waits:
// a layer that reads many hot keys per request creates the request's
// budget (WithBudget) only once a read returns ErrNotLocal. Values,
// guarantees and errors are GetString's, plus ErrNotLocal; a read that
// answers is counted in Stats as GetString's is, one that returns
// ErrNotLocal is not counted at all, so that the GetString that follows
// it is the request's only counted read.
func (c *Cache) LocalString(key string) (string, error) {
	if err := c.checkKey(key); err != nil {
		return "", err
	}
	return c.lookupLocal(key, c.keys.full(key), true)
}

// LocalNamespaceVersion is NamespaceVersion answered from process memory
// alone, like LocalString: ErrNotLocal when the version is not there, or
// when the namespace has none yet (NamespaceVersion draws it). Not counted
// in hits and misses, like NamespaceVersion.
func (c *Cache) LocalNamespaceVersion(ns string) (string, error) {
	key, err := namespaceKey(ns)
	if err != nil {
		return "", err
	}
	if err := c.checkKey(key); err != nil {
		return "", err
	}
	v, err := c.lookupLocal(key, c.keys.full(key), false)
	if errors.Is(err, ErrNotFound) {
		return "", ErrNotLocal
	}
	return v, err
}

// readLocal is read for the key full (with the prefix) without the round
// trip: ErrNotLocal where read would send one. No context is needed: the
// embedded backend never looks at it, and finishGet's stale tier, which
// does, is consulted only after a failed round trip.
func (c *Cache) readLocal(full string, counted bool) (string, error) {
	if c.closed.Load() {
		return "", ErrClosed
	}
	var start time.Time
	if counted && rand.Uint32()&latencySampleMask == 0 {
		start = time.Now()
	}
	v, _, ok, err := c.fromMemory(context.Background(), full, start, counted)
	if !ok {
		return "", ErrNotLocal
	}
	return v, err
}
