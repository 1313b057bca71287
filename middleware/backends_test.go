package middleware_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store"
)

// backend opens a cache for one test: the embedded backend, or the
// package's Redis under a key prefix of the test's own.
type backend struct {
	name string
	open func(t testing.TB) *store.Cache
}

var prefixes atomic.Int64

func backends() []backend {
	return []backend{
		{"memory", func(t testing.TB) *store.Cache { return openCache(t, store.Config{}) }},
		{"redis", func(t testing.TB) *store.Cache {
			return openCache(t, store.Config{URL: redisURL, KeyPrefix: fmt.Sprintf("mwtest%d:", prefixes.Add(1))})
		}},
	}
}

func openCache(t testing.TB, cfg store.Config) *store.Cache {
	t.Helper()
	c, err := store.Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// forEachBackend runs fn as a subtest per backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, cache *store.Cache)) {
	t.Helper()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { fn(t, b.open(t)) })
	}
}

// clock is a time source tests move by hand.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := new(clock)
	c.ns.Store(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
