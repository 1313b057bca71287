package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// These tests need Redis itself: invalidation from other clients, killed
// connections, a server that is down, paused or restarted, and a cluster.

func TestClientSideCacheIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	c := openCache(t, store.Config{URL: srv.URL(), KeyPrefix: "csc:"})

	require.NoError(t, c.Set(ctx, "k", []byte("v1"), 0))
	e, err := c.Lookup(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "v1", string(e.Value))
	e, err = c.Lookup(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, store.SourceLocal, e.Source, "a repeated read costs no round trip")

	cases := []struct {
		name   string
		change func(t *testing.T)
		want   string // "" means deleted
	}{
		{"other client sets", func(t *testing.T) {
			_, err := srv.Do(ctx, "SET", "csc:k", "v2")
			require.NoError(t, err)
		}, "v2"},
		{"other client deletes", func(t *testing.T) {
			_, err := srv.Do(ctx, "DEL", "csc:k")
			require.NoError(t, err)
		}, ""},
		{"connection killed, then changed", func(t *testing.T) {
			_, err := srv.Do(ctx, "SET", "csc:k", "v3")
			require.NoError(t, err)
			requireEventuallyValue(t, c, "k", "v3")
			_, err = srv.Do(ctx, "CLIENT", "KILL", "TYPE", "normal")
			require.NoError(t, err)
			_, err = srv.Do(ctx, "SET", "csc:k", "v4")
			require.NoError(t, err)
		}, "v4"},
		{"flushed", func(t *testing.T) {
			_, err := srv.Do(ctx, "FLUSHALL")
			require.NoError(t, err)
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Make sure the current value is held locally before it changes.
			_, _ = c.Get(ctx, "k")
			_, _ = c.Get(ctx, "k")
			tc.change(t)
			requireEventuallyValue(t, c, "k", tc.want)
		})
	}
}

// requireEventuallyValue waits up to the 1 s coherence bound for key to
// read as want ("" for not found).
func requireEventuallyValue(t *testing.T, c *store.Cache, key, want string) {
	t.Helper()
	require.Eventually(t, func() bool {
		v, err := c.Get(context.Background(), key)
		if want == "" {
			return errors.Is(err, store.ErrNotFound)
		}
		return err == nil && string(v) == want
	}, time.Second, 5*time.Millisecond, "key %q did not become %q within 1s", key, want)
}

func TestOpenWhileRedisDownIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	require.NoError(t, srv.Kill())
	ctx := context.Background()
	c := openCache(t, store.Config{URL: srv.URL(), Breaker: store.BreakerConfig{OpenTimeout: 100 * time.Millisecond}})

	_, err := c.Get(ctx, "k")
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.ErrorIs(t, c.Set(ctx, "k", []byte("v"), 0), store.ErrUnavailable)
	assert.False(t, c.Health(ctx).Healthy)

	require.NoError(t, srv.Restart(ctx))
	require.Eventually(t, func() bool { return c.Set(ctx, "k", []byte("v"), 0) == nil }, 10*time.Second, 20*time.Millisecond)
	v, err := c.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "v", string(v))
	assert.True(t, c.Health(ctx).Healthy)
}

func TestBreakerIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	c := openCache(t, store.Config{
		URL:       srv.URL(),
		OpTimeout: 200 * time.Millisecond,
		Breaker:   store.BreakerConfig{ConsecutiveFailures: 3, OpenTimeout: 200 * time.Millisecond},
	})
	require.NoError(t, c.Set(ctx, "k", []byte("v"), 0))

	// Misses and bad input are not failures: they must not open the breaker.
	for i := 0; i < 10; i++ {
		_, err := c.Get(ctx, fmt.Sprintf("missing-%d", i))
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, c.Set(ctx, "", nil, 0), store.ErrInvalidKey)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for i := 0; i < 5; i++ {
		_ = c.Set(cctx, "k", []byte("v"), 0)
	}
	s := c.Stats(ctx)
	require.Equal(t, store.BreakerClosed, s.Breaker)

	require.NoError(t, srv.Kill())
	require.Eventually(t, func() bool {
		_ = c.Set(ctx, "k", []byte("v"), 0)
		s := c.Stats(ctx)
		return s.Breaker == store.BreakerOpen
	}, 5*time.Second, 10*time.Millisecond)

	// While open, calls fail fast with ErrUnavailable.
	s = c.Stats(ctx)
	assert.False(t, s.Healthy, "Healthy means the INFO request of these stats was answered")
	assert.Zero(t, s.MemoryBytes)
	before := s.Errors
	_, err := c.Get(ctx, "other")
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.ErrorIs(t, c.Set(ctx, "k", []byte("v"), 0), store.ErrUnavailable)
	s = c.Stats(ctx)
	assert.Equal(t, before+2, s.Errors)
	assert.GreaterOrEqual(t, s.BreakerTrips, uint64(1))
	h := c.Health(ctx)
	assert.False(t, h.Healthy)
	// A ping has no key, and the error names none.
	assert.Regexp(t, `^ping: store: backend unavailable`, h.Error)

	// It closes by itself once Redis is back.
	require.NoError(t, srv.Restart(ctx))
	require.Eventually(t, func() bool {
		return c.Set(ctx, "k", []byte("back"), 0) == nil
	}, 10*time.Second, 20*time.Millisecond)
	s = c.Stats(ctx)
	assert.Equal(t, store.BreakerClosed, s.Breaker)
	assert.True(t, s.Healthy)
	assert.Positive(t, s.MemoryBytes)
	v, err := c.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "back", string(v))
}

func TestPausedRedisIsBoundedIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	c := openCache(t, store.Config{URL: srv.URL(), OpTimeout: 100 * time.Millisecond})
	require.NoError(t, c.Set(ctx, "k", []byte("v"), 0))
	require.NoError(t, srv.Pause())
	t.Cleanup(func() { _ = srv.Resume() })

	ops := []struct {
		name string
		call func() error
	}{
		{"get", func() error { _, err := c.Get(ctx, "uncached"); return err }},
		{"set", func() error { return c.Set(ctx, "k2", []byte("v"), 0) }},
		{"exists", func() error { _, err := c.Exists(ctx, "k"); return err }},
		{"delete", func() error { _, err := c.Delete(ctx, "k"); return err }},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { done <- op.call() }()
			select {
			case err := <-done:
				require.ErrorIs(t, err, store.ErrUnavailable)
			case <-time.After(10 * time.Second):
				t.Fatal("call to a paused Redis did not return")
			}
		})
	}
	require.NoError(t, srv.Resume())
	require.Eventually(t, func() bool { return c.Set(ctx, "k", []byte("v2"), 0) == nil }, 10*time.Second, 20*time.Millisecond)
}

func TestStaleCopyIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	c := openCache(t, store.Config{URL: srv.URL(), StaleBytes: 1 << 20, OpTimeout: 100 * time.Millisecond})
	off := openCache(t, store.Config{URL: srv.URL(), OpTimeout: 100 * time.Millisecond})
	require.NoError(t, c.Set(ctx, "k", []byte("v"), 0))
	e, err := c.Lookup(ctx, "k")
	require.NoError(t, err)
	assert.NotEqual(t, store.SourceStale, e.Source)

	require.NoError(t, srv.Kill())
	require.Eventually(t, func() bool {
		e, err := c.Lookup(ctx, "k")
		return err == nil && e.Source == store.SourceStale && string(e.Value) == "v"
	}, 5*time.Second, 10*time.Millisecond)
	_, err = c.Get(ctx, "never-read")
	require.ErrorIs(t, err, store.ErrUnavailable)
	// Still served once the breaker has opened.
	require.Eventually(t, func() bool {
		_ = c.Set(ctx, "w", []byte("x"), 0)
		s := c.Stats(ctx)
		return s.Breaker == store.BreakerOpen
	}, 5*time.Second, 10*time.Millisecond)
	e, err = c.Lookup(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, store.SourceStale, e.Source)
	assert.Equal(t, "v", string(e.Value))
	s := c.Stats(ctx)
	assert.Positive(t, s.StaleHits)

	// Off by default: the same read fails once Redis is gone.
	require.Eventually(t, func() bool {
		_, err := off.Get(ctx, "k")
		return errors.Is(err, store.ErrUnavailable)
	}, 5*time.Second, 10*time.Millisecond)
}

func TestLargeValueIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	c := openCache(t, store.Config{URL: srv.URL(), OpTimeout: 5 * time.Second})
	big := make([]byte, store.DefaultMaxEntryBytes)
	for i := range big {
		big[i] = byte(i)
	}
	require.NoError(t, c.Set(ctx, "big", big, time.Minute))
	got, err := c.Get(ctx, "big")
	require.NoError(t, err)
	require.Equal(t, len(big), len(got))
	require.True(t, string(big) == string(got))
	require.ErrorIs(t, c.Set(ctx, "bigger", make([]byte, store.DefaultMaxEntryBytes+1), 0), store.ErrTooLarge)
	_, err = c.Delete(ctx, "big")
	require.NoError(t, err)
}

func TestPatternConfinedToPrefixIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	c := openCache(t, store.Config{URL: srv.URL(), KeyPrefix: "app1:"})
	_, err := srv.Do(ctx, "SET", "app2:emg_analysis:1", "other app")
	require.NoError(t, err)
	_, err = srv.Do(ctx, "SET", "emg_analysis:2", "unprefixed")
	require.NoError(t, err)
	require.NoError(t, c.Set(ctx, "emg_analysis:3", []byte("mine"), 0))
	n, err := c.DeletePattern(ctx, "*")
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	for _, k := range []string{"app2:emg_analysis:1", "emg_analysis:2"} {
		v, err := srv.Do(ctx, "GET", k)
		require.NoError(t, err)
		assert.NotEmpty(t, v, "%s must survive", k)
	}

	// A prefix holding glob characters matches only itself.
	g := openCache(t, store.Config{URL: srv.URL(), KeyPrefix: "a*:"})
	_, err = srv.Do(ctx, "SET", "ab:x", "not mine")
	require.NoError(t, err)
	require.NoError(t, g.Set(ctx, "x", []byte("mine"), 0))
	n, err = g.DeletePattern(ctx, "*")
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	v, err := srv.Do(ctx, "GET", "ab:x")
	require.NoError(t, err)
	assert.Equal(t, "not mine", v)
}

func TestClusterIntegration(t *testing.T) {
	cl := storetest.NewCluster(t, 3)
	ctx := context.Background()
	c := openCache(t, store.Config{URL: cl.URL()})
	require.Equal(t, "redis-cluster", c.Backend())

	const n = 600
	items := make([]store.Item, n)
	keys := make([]string, n)
	for i := range items {
		keys[i] = fmt.Sprintf("emg_analysis:%04d", i)
		items[i] = store.Item{Key: keys[i], Value: []byte(keys[i])}
	}
	for i, err := range c.SetMany(ctx, items) {
		require.NoError(t, err, keys[i])
	}
	for i, r := range c.GetMany(ctx, keys) {
		require.NoError(t, r.Err)
		require.Equal(t, keys[i], string(r.Value))
	}
	// Keys landed on every master.
	for _, node := range cl.Nodes() {
		size, err := node.Do(ctx, "DBSIZE")
		require.NoError(t, err)
		assert.NotEqual(t, "0", size, node.Addr())
	}
	require.NoError(t, c.Set(ctx, "emg_metadata:keep", []byte("m"), 0))
	// Read-your-writes holds across nodes too.
	for i := 0; i < 50; i++ {
		want := fmt.Sprint(i)
		require.NoError(t, c.Set(ctx, keys[i], []byte(want), 0))
		got, err := c.Get(ctx, keys[i])
		require.NoError(t, err)
		require.Equal(t, want, string(got))
	}
	removed, err := c.DeletePattern(ctx, "emg_analysis:*")
	require.NoError(t, err)
	assert.Equal(t, int64(n), removed)
	for _, r := range c.GetMany(ctx, keys) {
		require.ErrorIs(t, r.Err, store.ErrNotFound)
	}
	v, err := c.Get(ctx, "emg_metadata:keep")
	require.NoError(t, err)
	assert.Equal(t, "m", string(v))
	s := c.Stats(ctx)
	assert.True(t, s.Healthy)
	assert.Positive(t, s.MemoryBytes)
}

// A call that outlives OpTimeout gives up alone: the connection, and the
// client-side cache that lives on it, survive a stall of Redis shorter
// than ConnWriteTimeout.
func TestSlowCallKeepsConnectionIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	c := openCache(t, store.Config{URL: srv.URL(), OpTimeout: 100 * time.Millisecond, // ConnWriteTimeout: the default
		Breaker: store.BreakerConfig{ConsecutiveFailures: 100}})
	require.NoError(t, c.Set(ctx, "k", []byte("v"), 0))
	_, err := c.Get(ctx, "k")
	require.NoError(t, err)
	e, err := c.Lookup(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, store.SourceLocal, e.Source)

	require.NoError(t, srv.Pause())
	t.Cleanup(func() { _ = srv.Resume() })
	for range 3 {
		_, err = c.Get(ctx, "uncached")
		require.ErrorIs(t, err, store.ErrUnavailable)
		require.ErrorIs(t, c.Set(ctx, "other", []byte("v"), 0), store.ErrUnavailable)
	}
	// A stall of a second, as a fork or a slow script may cause: longer
	// than any call waits, far shorter than the connection's timeout.
	time.Sleep(time.Second)
	require.NoError(t, srv.Resume())
	// Silent that long, the node's keys are not served from memory until it
	// has answered again; then the entries that survived are.
	_, err = c.Get(ctx, "uncached-after")
	require.ErrorIs(t, err, store.ErrNotFound)
	e, err = c.Lookup(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, store.SourceLocal, e.Source, "the timed-out calls closed the connection")
}

// A value held in the client-side cache is served while the breaker of its
// node is open: its connection lives and Redis tracks the key for it.
func TestLocalHitsWhateverTheBreakerIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	c := openCache(t, store.Config{URL: srv.URL(), OpTimeout: 50 * time.Millisecond,
		Breaker: store.BreakerConfig{ConsecutiveFailures: 2}})
	require.NoError(t, c.Set(ctx, "k", []byte("v"), 0))
	_, err := c.Get(ctx, "k")
	require.NoError(t, err)

	require.NoError(t, srv.Pause())
	t.Cleanup(func() { _ = srv.Resume() })
	for i := 0; ; i++ {
		_, err := c.Get(ctx, "uncached")
		require.ErrorIs(t, err, store.ErrUnavailable)
		if strings.Contains(err.Error(), "circuit breaker open") {
			break
		}
		require.Less(t, i, 10, "the breaker did not open")
	}
	for range 100 {
		e, err := c.Lookup(ctx, "k")
		require.NoError(t, err)
		require.Equal(t, store.SourceLocal, e.Source)
		require.Equal(t, "v", string(e.Value))
	}
	r := c.GetMany(ctx, []string{"k", "uncached"})
	require.NoError(t, r[0].Err)
	assert.True(t, r[0].Local)
	require.ErrorIs(t, r[1].Err, store.ErrUnavailable)
	require.NoError(t, srv.Resume())
}

// Recovery follows the node, not the clock: an open breaker PINGs its node
// and closes on the first answer, long before its OpenTimeout.
func TestBreakerProbeClosesIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	c := openCache(t, store.Config{URL: srv.URL(), OpTimeout: time.Second,
		Breaker: store.BreakerConfig{ConsecutiveFailures: 1, OpenTimeout: time.Hour, ProbeInterval: 20 * time.Millisecond}})
	require.NoError(t, srv.Kill())
	require.ErrorIs(t, c.Set(ctx, "k", []byte("v"), 0), store.ErrUnavailable)
	err := c.Set(ctx, "k", []byte("v"), 0)
	require.ErrorContains(t, err, "circuit breaker open")
	require.NoError(t, srv.Restart(ctx))
	// Without the probe this would wait out the hour.
	require.Eventually(t, func() bool { return c.Set(ctx, "k", []byte("v"), 0) == nil }, 10*time.Second, 10*time.Millisecond)
	s := c.Stats(ctx)
	assert.Equal(t, store.BreakerClosed, s.Breaker)
	assert.GreaterOrEqual(t, s.BreakerTrips, uint64(1))
	require.Len(t, s.Nodes, 1)
	assert.Equal(t, srv.Addr(), s.Nodes[0].Addr)
}
