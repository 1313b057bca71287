package patterns_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
)

// Keys reaching their refresh window together are reloaded by a bounded
// pool, not one goroutine (and one origin call) each at once.
func TestRefreshAheadIsBounded(t *testing.T) {
	const keys, workers = 12, 4
	ctx := context.Background()
	c := openCache(t, store.Config{})
	p := patterns.New(c, patterns.Options{Jitter: -1})
	started := make(chan struct{}, keys)
	release := make(chan struct{})
	var running, most atomic.Int32
	loader := func(context.Context) (string, error) {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		started <- struct{}{}
		<-release
		running.Add(-1)
		return "new", nil
	}
	for i := range keys {
		k := "k" + strconv.Itoa(i)
		require.NoError(t, store.SetJSON(ctx, c, k, "old", time.Minute))
		v, err := patterns.Aside(ctx, p, k, time.Hour, loader, patterns.WithRefreshAhead(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, "old", v)
	}
	for range workers {
		<-started
	}
	// Every worker holds a reload; the others wait in the queue instead of
	// running (a worker takes its job off the queue before it loads).
	assert.Equal(t, keys-workers, patterns.QueuedRefreshes(p))
	assert.EqualValues(t, workers, running.Load())
	close(release)
	for range keys - workers {
		<-started
	}
	require.NoError(t, p.Close())
	assert.LessOrEqual(t, most.Load(), int32(workers), "at most %d reloads at once", workers)
	for i := range keys {
		v, err := store.GetJSON[string](ctx, c, "k"+strconv.Itoa(i))
		require.NoError(t, err)
		assert.Equal(t, "new", v, "every queued reload ran")
	}
}
