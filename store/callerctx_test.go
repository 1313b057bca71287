package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// A caller that gives up is the caller's business: its context's error
// comes back as such, and no number of such calls opens the breaker.
func TestCallerContextIsNotARedisFailureIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	c := openCache(t, store.Config{
		URL:       srv.URL(),
		OpTimeout: 5 * time.Second,
		Breaker:   store.BreakerConfig{ConsecutiveFailures: 1},
	})
	require.NoError(t, c.Set(ctx, "cached", []byte("v"), 0))
	_, err := c.Get(ctx, "cached")
	require.NoError(t, err)

	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	calls := map[string]func(ctx context.Context) error{
		"get":      func(ctx context.Context) error { _, err := c.Get(ctx, "uncached"); return err },
		"set":      func(ctx context.Context) error { return c.Set(ctx, "k", []byte("v"), 0) },
		"exists":   func(ctx context.Context) error { _, err := c.Exists(ctx, "k"); return err },
		"get-many": func(ctx context.Context) error { return c.GetMany(ctx, []string{"a", "b"})[1].Err },
		"set-many": func(ctx context.Context) error {
			return c.SetMany(ctx, []store.Item{{Key: "a", Value: []byte("1")}})[0]
		},
		"delete-pattern": func(ctx context.Context) error { _, err := c.DeletePattern(ctx, "nothing:*"); return err },
	}
	for name, call := range calls {
		t.Run("expired/"+name, func(t *testing.T) {
			for range 5 {
				err := call(expired)
				require.ErrorIs(t, err, context.DeadlineExceeded)
				require.NotErrorIs(t, err, store.ErrUnavailable)
			}
		})
	}
	// A value held locally needs no round trip, so it is served even then.
	v, err := c.Get(expired, "cached")
	require.NoError(t, err)
	assert.Equal(t, "v", string(v))

	// Giving up in the middle of a call to a stalled server: the deadline
	// and the cancellation are the caller's, well inside OpTimeout.
	require.NoError(t, srv.Pause())
	t.Cleanup(func() { _ = srv.Resume() })
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	for name, call := range calls {
		if name == "delete-pattern" {
			continue // covered above; a walk of a paused server waits out OpTimeout per node
		}
		t.Run("stalled/"+name, func(t *testing.T) {
			err := call(short)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.NotErrorIs(t, err, store.ErrUnavailable)
			cctx, cancel := context.WithCancel(ctx)
			stop := time.AfterFunc(20*time.Millisecond, cancel)
			defer stop.Stop()
			err = call(cctx)
			require.ErrorIs(t, err, context.Canceled)
			require.NotErrorIs(t, err, store.ErrUnavailable)
		})
	}
	require.NoError(t, srv.Resume())
	s := c.Stats(ctx)
	assert.Equal(t, store.BreakerClosed, s.Breaker)
	assert.Zero(t, s.BreakerTrips, "the caller's own deadlines opened the breaker")
	require.NoError(t, c.Set(ctx, "k", []byte("v"), 0))

	// The store's own timeout is a Redis failure.
	own := openCache(t, store.Config{
		URL:       srv.URL(),
		OpTimeout: 100 * time.Millisecond,
		Breaker:   store.BreakerConfig{ConsecutiveFailures: 1},
	})
	require.NoError(t, srv.Pause())
	_, err = own.Get(ctx, "uncached")
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.NoError(t, srv.Resume())
	s = own.Stats(ctx)
	assert.Equal(t, uint64(1), s.BreakerTrips)
}
