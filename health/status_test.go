package health_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/health"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// readTraffic makes hits hits and misses misses on cache.
func readTraffic(t *testing.T, cache *store.Cache, hits, misses int) {
	t.Helper()
	require.NoError(t, cache.Set(t.Context(), "analysis:present", []byte(`{"rms":1}`), 0))
	for range hits {
		_, err := cache.Get(t.Context(), "analysis:present")
		require.NoError(t, err)
	}
	for range misses {
		_, err := cache.Get(t.Context(), "analysis:absent")
		require.ErrorIs(t, err, store.ErrNotFound)
	}
}

func TestStatsHasTheSeedFields(t *testing.T) {
	cache := openMemory(t)
	readTraffic(t, cache, 3, 1)
	r := newRouter(cache, health.Options{})

	res, body := do(t, r, http.MethodGet, "/api/cache/stats", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	got := decode[map[string]any](t, body)

	// The fields of the original service, with its names and meanings.
	seed := map[string]any{
		"healthy":        true,
		"hits":           float64(3),
		"misses":         float64(1),
		"total_requests": float64(4),
		"hit_rate":       0.75,
	}
	for k, want := range seed {
		assert.Equal(t, want, got[k], "field %s", k)
	}
	assert.IsType(t, float64(0), got["memory_mb"], "memory_mb is a number")
	assert.Greater(t, got["memory_bytes"], float64(0), "memory_mb rounds a few bytes to 0, memory_bytes does not")

	// And what the store measures beyond them.
	for _, k := range []string{"local_hits", "errors", "breaker_state", "latency", "memory_bytes", "backend"} {
		assert.Contains(t, got, k)
	}
	assert.Equal(t, float64(3), got["local_hits"], "the embedded backend serves every hit from memory")
	assert.Equal(t, float64(0), got["errors"])
	assert.Equal(t, "closed", got["breaker_state"])
	latency, ok := got["latency"].(map[string]any)
	require.True(t, ok, "latency is an object: %v", got["latency"])
	for _, k := range []string{"count", "mean_ns", "p50_ns", "p90_ns", "p99_ns", "max_ns"} {
		assert.Contains(t, latency, k)
	}
}

func TestHealthIntegration(t *testing.T) {
	cache, srv := openRedis(t)
	r := newRouter(cache, health.Options{})

	res, body := do(t, r, http.MethodGet, "/api/cache/health", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "body: %s", body)
	h := decode[store.Health](t, body)
	assert.True(t, h.Healthy)
	assert.Equal(t, "redis", h.Backend)
	assert.Equal(t, store.BreakerClosed, h.Breaker)
	assert.Positive(t, h.Latency)
	assert.Empty(t, h.Error)

	require.NoError(t, srv.Kill())

	t.Run("down", func(t *testing.T) {
		res, body := do(t, r, http.MethodGet, "/api/cache/health", nil)
		assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
		h := decode[store.Health](t, body)
		assert.False(t, h.Healthy)
		assert.NotEmpty(t, h.Error)

		// Stats and the dashboard still answer: the counters are true, and
		// healthy tells the rest.
		res, body = do(t, r, http.MethodGet, "/api/cache/stats", nil)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		s := decode[store.Stats](t, body)
		assert.False(t, s.Healthy)

		res, body = do(t, r, http.MethodGet, "/api/cache/dashboard", nil)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		d := decode[map[string]any](t, body)
		assert.Equal(t, false, d["healthy"])
	})

	require.NoError(t, srv.Restart(t.Context()))

	t.Run("back", func(t *testing.T) {
		// The store reconnects in the background; wait for it rather than
		// guess how long it takes.
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			res, _ := do(t, r, http.MethodGet, "/api/cache/health", nil)
			assert.Equal(c, http.StatusOK, res.StatusCode)
		}, 20*time.Second, 50*time.Millisecond)
	})
}

// dashboardBody is the body of GET dashboard, with the configuration left
// as a map so that tests see exactly which fields are there.
type dashboardBody struct {
	Healthy bool           `json:"healthy"`
	Health  store.Health   `json:"health"`
	Stats   store.Stats    `json:"stats"`
	Config  map[string]any `json:"config"`
}

func TestDashboardIntegration(t *testing.T) {
	const password = "dashboard-secret-pw"
	srv := storetest.NewServer(t, storetest.Options{Password: password})
	require.Contains(t, srv.URL(), password, "the test needs a URL with the password in it")
	cache := openCache(t, store.Config{URL: srv.URL(), KeyPrefix: "emg:", DefaultTTL: 90 * time.Second})
	readTraffic(t, cache, 2, 2)
	r := newRouter(cache, health.Options{AdminToken: testToken, InvalidateBurst: 3, InvalidateInterval: time.Minute})

	res, body := do(t, r, http.MethodGet, "/api/cache/dashboard", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "body: %s", body)
	assert.NotContains(t, string(body), password, "the dashboard must not show the Redis password")
	assert.NotContains(t, string(body), testToken, "the dashboard must not show the admin token")

	d := decode[dashboardBody](t, body)
	assert.True(t, d.Healthy)
	assert.True(t, d.Health.Healthy)
	assert.Equal(t, uint64(2), d.Stats.Hits)
	assert.Equal(t, uint64(2), d.Stats.Misses)
	assert.InDelta(t, 0.5, d.Stats.HitRate, 1e-9)

	c := d.Config
	assert.Equal(t, "redis", c["backend"])
	assert.Equal(t, "emg:", c["key_prefix"])
	assert.Equal(t, float64(90*time.Second), c["default_ttl_ns"])
	assert.Equal(t, float64(store.DefaultMaxEntryBytes), c["max_entry_bytes"])
	assert.Equal(t, float64(store.DefaultOpTimeout), c["op_timeout_ns"])
	assert.Equal(t, float64(store.DefaultBreakerFailures), c["breaker_failures"])
	assert.NotContains(t, c, "max_memory_bytes", "the embedded backend's limit means nothing for Redis")
	url, _ := c["url"].(string)
	assert.True(t, strings.HasPrefix(url, "redis://"), "url %q", url)
	assert.Contains(t, url, "xxxxx", "the password is shown redacted")
	assert.Equal(t, map[string]any{"enabled": true, "burst": float64(3), "interval_ns": float64(time.Minute)}, c["invalidation"])
}

func TestDashboardEmbedded(t *testing.T) {
	cache := openMemory(t)
	r := newRouter(cache, health.Options{})
	res, body := do(t, r, http.MethodGet, "/api/cache/dashboard", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	c := decode[dashboardBody](t, body).Config
	assert.Equal(t, "memory", c["backend"])
	assert.NotContains(t, c, "url")
	assert.Equal(t, float64(store.DefaultMaxMemoryBytes), c["max_memory_bytes"])
	assert.NotContains(t, c, "op_timeout_ns", "Redis settings are left out for the embedded backend")
	assert.Equal(t, false, c["invalidation"].(map[string]any)["enabled"], "no token, no invalidation")
}
