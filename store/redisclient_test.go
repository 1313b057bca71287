package store_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// countingClient counts the commands sent through Do.
type countingClient struct {
	rueidis.Client
	n atomic.Int64
}

func (c *countingClient) Do(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResult {
	c.n.Add(1)
	return c.Client.Do(ctx, cmd)
}

func TestEscapeHatchesIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	var wrapped atomic.Pointer[countingClient]
	c, err := store.Open(t.Context(), store.Config{
		URL:                srv.URL(),
		AdjustClientOption: func(o *rueidis.ClientOption) { o.ClientName = "escape-hatch-test" },
		WrapClient: func(cl rueidis.Client) rueidis.Client {
			w := &countingClient{Client: cl}
			wrapped.Store(w)
			return w
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.True(t, c.Health(t.Context()).Healthy)

	cl, ok := c.RedisClient()
	require.True(t, ok)
	info, err := cl.Do(t.Context(), cl.B().ClientInfo().Build()).ToString()
	require.NoError(t, err)
	assert.Contains(t, info, "name=escape-hatch-test", "the adjusted option reached the connection")

	counting := wrapped.Load()
	require.NotNil(t, counting, "the client was wrapped")
	before := counting.n.Load()
	require.NoError(t, c.Set(t.Context(), "k", []byte("v"), 0))
	assert.Greater(t, counting.n.Load(), before, "the store's calls go through the wrapper")

	mem, err := store.Open(t.Context(), store.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = mem.Close() })
	_, ok = mem.RedisClient()
	assert.False(t, ok, "the embedded backend has no Redis client")
}

// syncBuffer is a bytes.Buffer for a logger used by several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLoggerRecordsFailuresOnceIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	var logs syncBuffer
	c, err := store.Open(t.Context(), store.Config{URL: srv.URL(), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, err = c.Get(t.Context(), "absent")
	require.ErrorIs(t, err, store.ErrNotFound)
	assert.Empty(t, logs.String(), "a miss is no failure")

	require.NoError(t, srv.Kill())
	for range 20 {
		_, err := c.Get(t.Context(), "k")
		require.ErrorIs(t, err, store.ErrUnavailable)
	}
	out := logs.String()
	assert.Equal(t, 1, strings.Count(out, "op=get"), "one record for twenty failures:\n%s", out)
	assert.Contains(t, out, "level=WARN")
	assert.Contains(t, out, "backend unavailable")
}
