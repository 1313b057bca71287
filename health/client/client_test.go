package client_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/health"
	"github.com/emgcache/emgcache/health/client"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

const token = "client-test-token-0123456789"

// fast makes retries quick, so that tests of several attempts take
// milliseconds.
var fast = client.Options{Token: token, RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond}

func openCache(t *testing.T, cfg store.Config) *store.Cache {
	t.Helper()
	c, err := store.Open(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// counter counts the requests that reach a handler.
type counter struct{ n atomic.Int64 }

func (c *counter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.n.Add(1)
		h.ServeHTTP(w, r)
	})
}

// serve runs the real API of cache on a real listener, behind wrap.
func serve(t *testing.T, cache *store.Cache, opts health.Options, wrap func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := mux.NewRouter()
	health.New(cache, opts).Register(r)
	var h http.Handler = r
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t *testing.T, baseURL string, opts client.Options) *client.Client {
	t.Helper()
	c, err := client.New(baseURL, opts)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func TestClientReadsTheRealHandlers(t *testing.T) {
	cache := openCache(t, store.Config{KeyPrefix: "emg:"})
	ctx := t.Context()
	require.NoError(t, cache.Set(ctx, "analysis:1", []byte("a"), 0))
	require.NoError(t, cache.Set(ctx, "analysis:2", []byte("b"), 0))
	require.NoError(t, cache.Set(ctx, "metadata:1", []byte("c"), 0))
	for _, k := range []string{"analysis:1", "analysis:2", "analysis:3"} {
		_, _ = cache.Get(ctx, k)
	}
	srv := serve(t, cache, health.Options{AdminToken: token}, nil)
	c := newClient(t, srv.URL, fast)

	t.Run("health", func(t *testing.T) {
		h, err := c.Health(ctx)
		require.NoError(t, err)
		assert.True(t, h.Healthy)
		assert.Equal(t, "memory", h.Backend)
		assert.Equal(t, "closed", string(h.Breaker))
		assert.Empty(t, h.Error)
		assert.False(t, h.CheckedAt.IsZero())
	})

	t.Run("stats", func(t *testing.T) {
		s, err := c.Stats(ctx)
		require.NoError(t, err)
		want := cache.Stats(ctx)
		assert.True(t, s.Healthy)
		assert.Equal(t, uint64(2), s.Hits)
		assert.Equal(t, uint64(1), s.Misses)
		assert.Equal(t, uint64(3), s.TotalRequests)
		assert.InDelta(t, 2.0/3, s.HitRate, 1e-9)
		assert.Equal(t, want.LocalHits, s.LocalHits)
		assert.Equal(t, want.Writes, s.Writes)
		assert.Equal(t, want.MemoryBytes, s.MemoryBytes)
		assert.Equal(t, want.MemoryMB, s.MemoryMB)
		assert.Equal(t, want.Latency.Count, s.Latency.Count)
		assert.Equal(t, want.Latency.P99, s.Latency.P99)
		assert.Equal(t, string(want.Breaker), string(s.Breaker))
	})

	t.Run("dashboard", func(t *testing.T) {
		d, err := c.Dashboard(ctx)
		require.NoError(t, err)
		assert.True(t, d.Healthy)
		assert.True(t, d.Health.Healthy)
		assert.Equal(t, uint64(2), d.Stats.Hits)
		assert.Equal(t, "memory", d.Config.Backend)
		assert.Equal(t, "emg:", d.Config.KeyPrefix)
		assert.Equal(t, store.DefaultTTL, d.Config.DefaultTTL)
		assert.Equal(t, int64(store.DefaultMaxMemoryBytes), d.Config.MaxMemoryBytes)
		assert.Equal(t, client.InvalidationConfig{Enabled: true, Burst: health.DefaultInvalidateBurst, Interval: health.DefaultInvalidateInterval}, d.Config.Invalidation)
	})

	t.Run("invalidate", func(t *testing.T) {
		inv, err := c.Invalidate(ctx, "analysis:*")
		require.NoError(t, err)
		assert.Equal(t, client.Invalidation{Pattern: "analysis:*", Removed: 2}, inv)
		_, err = cache.Get(ctx, "analysis:1")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = cache.Get(ctx, "metadata:1")
		require.NoError(t, err)
	})
}

func TestClientErrorsAreTypedAndNotRetried(t *testing.T) {
	tests := []struct {
		name     string
		server   health.Options
		client   client.Options
		prefix   string
		pattern  string
		sentinel error
		status   int
		message  string
	}{
		{"wrong token", health.Options{AdminToken: token}, client.Options{Token: "wrong"}, "", "*", client.ErrUnauthorized, 401, "missing or invalid bearer token"},
		{"no token", health.Options{AdminToken: token}, client.Options{}, "", "*", client.ErrUnauthorized, 401, "missing or invalid bearer token"},
		{"disabled", health.Options{}, client.Options{Token: token}, "", "*", client.ErrForbidden, 403, "no admin token is configured"},
		{"empty pattern", health.Options{AdminToken: token}, client.Options{Token: token}, "", "", client.ErrBadRequest, 400, "empty pattern"},
		{"invalid pattern", health.Options{AdminToken: token}, client.Options{Token: token}, "", "analysis:[x", client.ErrBadRequest, 400, "invalid pattern"},
		{"wrong prefix", health.Options{AdminToken: token}, client.Options{Token: token}, "/api/cache/v2/", "*", client.ErrNotFound, 404, "no such endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n counter
			srv := serve(t, openCache(t, store.Config{}), tt.server, n.wrap)
			opts := tt.client
			opts.RetryWaitMin, opts.RetryWaitMax = time.Millisecond, time.Millisecond
			opts.PathPrefix = tt.prefix
			c := newClient(t, srv.URL, opts)

			_, err := c.Invalidate(t.Context(), tt.pattern)
			require.ErrorIs(t, err, tt.sentinel)
			var apiErr *client.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.Status)
			assert.Contains(t, apiErr.Message, tt.message)
			assert.Equal(t, int64(1), n.n.Load(), "a 4xx is never retried")
			for _, other := range []error{client.ErrUnauthorized, client.ErrForbidden, client.ErrBadRequest, client.ErrNotFound, client.ErrRateLimited, client.ErrUnavailable} {
				if other != tt.sentinel {
					assert.NotErrorIs(t, err, other)
				}
			}
		})
	}
}

func TestClientRateLimited(t *testing.T) {
	var n counter
	srv := serve(t, openCache(t, store.Config{}), health.Options{AdminToken: token, InvalidateBurst: 1, InvalidateInterval: time.Hour}, n.wrap)
	c := newClient(t, srv.URL, fast)

	_, err := c.Invalidate(t.Context(), "a*")
	require.NoError(t, err)
	_, err = c.Invalidate(t.Context(), "a*")
	require.ErrorIs(t, err, client.ErrRateLimited)
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, time.Hour, apiErr.RetryAfter)
	assert.Equal(t, int64(2), n.n.Load(), "429 is not retried: hammering a limit only extends it")
}

// failFirst answers the first n requests with status and a JSON error,
// then passes requests on.
func failFirst(n int64, status int) func(http.Handler) http.Handler {
	var seen atomic.Int64
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if seen.Add(1) <= n {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = w.Write([]byte(`{"error":"flaky"}`))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func chain(wraps ...func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		for i := len(wraps) - 1; i >= 0; i-- {
			h = wraps[i](h)
		}
		return h
	}
}

func TestClientRetriesServerErrors(t *testing.T) {
	tests := []struct {
		name     string
		failures int64
		status   int
		retryMax int
		attempts int64
		wantErr  int // status of the final *APIError, 0 for success
	}{
		{"502 twice then fine", 2, http.StatusBadGateway, 0, 3, 0},
		{"500 three times then fine", 3, http.StatusInternalServerError, 0, 4, 0},
		{"500 more often than the retries", 10, http.StatusInternalServerError, 0, client.DefaultRetryMax + 1, 500},
		{"503 is retried for stats", 1, http.StatusServiceUnavailable, 0, 2, 0},
		{"retries turned off", 1, http.StatusBadGateway, -1, 1, 502},
		{"more retries", 5, http.StatusGatewayTimeout, 5, 6, 0},
		{"501 is final", 1, http.StatusNotImplemented, 0, 1, 501},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n counter
			cache := openCache(t, store.Config{})
			srv := serve(t, cache, health.Options{}, chain(n.wrap, failFirst(tt.failures, tt.status)))
			opts := fast
			opts.RetryMax = tt.retryMax
			c := newClient(t, srv.URL, opts)

			s, err := c.Stats(t.Context())
			assert.Equal(t, tt.attempts, n.n.Load(), "attempts")
			if tt.wantErr == 0 {
				require.NoError(t, err)
				assert.True(t, s.Healthy)
				return
			}
			var apiErr *client.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.wantErr, apiErr.Status)
			assert.Equal(t, "flaky", apiErr.Message)
		})
	}
}

func TestClientHealthUnhealthyIntegration(t *testing.T) {
	redis := storetest.NewServer(t)
	cache := openCache(t, store.Config{URL: redis.URL()})
	var n counter
	srv := serve(t, cache, health.Options{}, n.wrap)
	c := newClient(t, srv.URL, fast)

	h, err := c.Health(t.Context())
	require.NoError(t, err)
	require.True(t, h.Healthy)
	assert.Equal(t, "redis", h.Backend)
	assert.Positive(t, h.Latency)

	require.NoError(t, redis.Kill())
	n.n.Store(0)
	h, err = c.Health(t.Context())
	require.NoError(t, err, "unhealthy is an answer, not an error")
	assert.False(t, h.Healthy)
	assert.NotEmpty(t, h.Error)
	assert.Equal(t, int64(1), n.n.Load(), "the 503 report is returned at once, not retried")

	// Stats of a dead backend are still an answer, with a 200.
	s, err := c.Stats(t.Context())
	require.NoError(t, err)
	assert.False(t, s.Healthy)
}

func TestClientHealthRetriesA503FromAProxy(t *testing.T) {
	var n counter
	proxyDown := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "upstream restarting", http.StatusServiceUnavailable)
		})
	}
	srv := serve(t, openCache(t, store.Config{}), health.Options{}, chain(n.wrap, proxyDown))
	c := newClient(t, srv.URL, fast)

	_, err := c.Health(t.Context())
	require.ErrorIs(t, err, client.ErrUnavailable)
	assert.Equal(t, int64(client.DefaultRetryMax+1), n.n.Load(), "a 503 without a health report is retried")

	t.Run("json without a report", func(t *testing.T) {
		var n counter
		srv := serve(t, openCache(t, store.Config{}), health.Options{}, chain(n.wrap, failFirst(100, http.StatusServiceUnavailable)))
		c := newClient(t, srv.URL, client.Options{RetryMax: -1})
		_, err := c.Health(t.Context())
		require.ErrorIs(t, err, client.ErrUnavailable)
		var apiErr *client.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "flaky", apiErr.Message)
		assert.Equal(t, int64(1), n.n.Load())
	})
}

// countingTransport counts the attempts that reach the network.
type countingTransport struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func TestClientRetriesConnectionErrors(t *testing.T) {
	// A port that was free a moment ago: connecting is refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	tr := &countingTransport{next: &http.Transport{}}
	opts := fast
	opts.HTTPClient = &http.Client{Transport: tr}
	c := newClient(t, "http://"+addr, opts)

	_, err = c.Stats(t.Context())
	var opErr *net.OpError
	require.ErrorAs(t, err, &opErr, "the transport's error is kept: %v", err)
	assert.Equal(t, int64(client.DefaultRetryMax+1), tr.n.Load())
	var apiErr *client.APIError
	assert.False(t, errors.As(err, &apiErr), "no answer, no APIError")
}

func TestClientStopsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var n counter
	// The first answer is a 500, which would be retried; the caller gives
	// up meanwhile.
	cancelling := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			cancel()
			http.Error(w, "boom", http.StatusInternalServerError)
		})
	}
	srv := serve(t, openCache(t, store.Config{}), health.Options{}, chain(n.wrap, cancelling))
	c := newClient(t, srv.URL, client.Options{RetryWaitMin: time.Hour, RetryWaitMax: time.Hour})

	_, err := c.Dashboard(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, int64(1), n.n.Load())
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		baseURL string
		ok      bool
	}{
		{"host and port", "http://127.0.0.1:8080", true},
		{"https with a path", "https://cache.example/internal/", true},
		{"empty", "", false},
		{"no scheme", "localhost:8080", false},
		{"other scheme", "ftp://cache.example", false},
		{"no host", "http://", false},
		{"query", "http://cache.example/?x=1", false},
		{"unparsable", "http://[::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New(tt.baseURL, client.Options{})
			if tt.ok {
				require.NoError(t, err)
				c.CloseIdleConnections()
				return
			}
			require.Error(t, err)
			assert.Nil(t, c)
		})
	}
	_, err := client.New("http://x", client.Options{RetryWaitMin: -1})
	require.Error(t, err)
}

func TestClientUnderAPathPrefix(t *testing.T) {
	// Behind a proxy that mounts the program under /cachesvc.
	cache := openCache(t, store.Config{})
	r := mux.NewRouter()
	health.New(cache, health.Options{}).Register(r)
	srv := httptest.NewServer(http.StripPrefix("/cachesvc", r))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL+"/cachesvc/", fast)
	h, err := c.Health(t.Context())
	require.NoError(t, err)
	assert.True(t, h.Healthy)
}
