package health_test

import (
	"bytes"
	"math"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/health"
)

// scrape reads GET metrics through the router and parses it.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	res, body := do(t, h, http.MethodGet, "/api/cache/metrics", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "body: %s", body)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err, "metrics: %s", body)
	return families
}

func TestMetricsFollowConventions(t *testing.T) {
	cache := openMemory(t)
	readTraffic(t, cache, 2, 1)
	problems, err := testutil.CollectAndLint(health.New(cache, health.Options{}).Collector())
	require.NoError(t, err)
	assert.Empty(t, problems)
}

func TestMetricsCounters(t *testing.T) {
	cache := openMemory(t)
	readTraffic(t, cache, 3, 2)
	_, err := cache.Delete(t.Context(), "analysis:present")
	require.NoError(t, err)
	api := health.New(cache, health.Options{})

	const want = `
# HELP emgcache_cache_hits_total Reads that found a value, local and stale hits included.
# TYPE emgcache_cache_hits_total counter
emgcache_cache_hits_total 3
# HELP emgcache_cache_local_hits_total Hits served from process memory without a round trip.
# TYPE emgcache_cache_local_hits_total counter
emgcache_cache_local_hits_total 3
# HELP emgcache_cache_misses_total Reads that found no value.
# TYPE emgcache_cache_misses_total counter
emgcache_cache_misses_total 2
# HELP emgcache_cache_errors_total Calls that failed, including those refused by the open circuit breaker.
# TYPE emgcache_cache_errors_total counter
emgcache_cache_errors_total 0
# HELP emgcache_cache_writes_total Successful writes.
# TYPE emgcache_cache_writes_total counter
emgcache_cache_writes_total 1
# HELP emgcache_cache_deletes_total Successful deletes.
# TYPE emgcache_cache_deletes_total counter
emgcache_cache_deletes_total 1
# HELP emgcache_cache_breaker_state Circuit breaker state: 1 for the current state, 0 for the others.
# TYPE emgcache_cache_breaker_state gauge
emgcache_cache_breaker_state{state="closed"} 1
emgcache_cache_breaker_state{state="half-open"} 0
emgcache_cache_breaker_state{state="open"} 0
# HELP emgcache_cache_up Whether the cache backend answered just now (1) or not (0).
# TYPE emgcache_cache_up gauge
emgcache_cache_up 1
# HELP emgcache_cache_info The cache backend in use; the value is always 1.
# TYPE emgcache_cache_info gauge
emgcache_cache_info{backend="memory"} 1
`
	require.NoError(t, testutil.CollectAndCompare(api.Collector(), strings.NewReader(want),
		"emgcache_cache_hits_total", "emgcache_cache_local_hits_total", "emgcache_cache_misses_total",
		"emgcache_cache_errors_total", "emgcache_cache_writes_total", "emgcache_cache_deletes_total",
		"emgcache_cache_breaker_state", "emgcache_cache_up", "emgcache_cache_info"))
}

func TestMetricsIntegration(t *testing.T) {
	cache, srv := openRedis(t)
	readTraffic(t, cache, 20, 10)
	r := newRouter(cache, health.Options{})

	families := scrape(t, r)
	stats := cache.Stats(t.Context())

	t.Run("latency histogram", func(t *testing.T) {
		f := families["emgcache_cache_operation_duration_seconds"]
		require.NotNil(t, f)
		require.Equal(t, dto.MetricType_HISTOGRAM, f.GetType())
		h := f.GetMetric()[0].GetHistogram()
		assert.Equal(t, stats.Latency.Count, h.GetSampleCount())
		assert.Positive(t, h.GetSampleCount(), "the writes at least are timed")
		assert.InDelta(t, stats.Latency.Sum.Seconds(), h.GetSampleSum(), 1e-9)
		// The text format adds the +Inf bucket, which holds every sample.
		buckets := h.GetBucket()
		require.Len(t, buckets, len(stats.Latency.Buckets)+1)
		inf := buckets[len(buckets)-1]
		assert.True(t, math.IsInf(inf.GetUpperBound(), 1))
		assert.Equal(t, h.GetSampleCount(), inf.GetCumulativeCount())
		buckets = buckets[:len(buckets)-1]
		bounds := make([]float64, 0, len(buckets))
		for i, b := range buckets {
			bounds = append(bounds, b.GetUpperBound())
			assert.Equal(t, stats.Latency.Buckets[i].UpperBound.Seconds(), b.GetUpperBound())
			assert.Equal(t, stats.Latency.Buckets[i].Count, b.GetCumulativeCount())
		}
		assert.True(t, sort.Float64sAreSorted(bounds))
		assert.Less(t, bounds[0], 1e-5, "bounds are in seconds")
	})

	t.Run("memory", func(t *testing.T) {
		f := families["emgcache_cache_memory_bytes"]
		require.NotNil(t, f)
		assert.Equal(t, float64(stats.MemoryBytes), f.GetMetric()[0].GetGauge().GetValue())
		assert.Positive(t, f.GetMetric()[0].GetGauge().GetValue())
		limit := families["emgcache_cache_memory_limit_bytes"]
		require.NotNil(t, limit)
		assert.Equal(t, float64(stats.MaxMemoryBytes), limit.GetMetric()[0].GetGauge().GetValue())
	})

	t.Run("counters", func(t *testing.T) {
		for name, want := range map[string]uint64{
			"emgcache_cache_hits_total":   stats.Hits,
			"emgcache_cache_misses_total": stats.Misses,
			"emgcache_cache_errors_total": stats.Errors,
		} {
			f := families[name]
			require.NotNil(t, f, name)
			assert.Equal(t, dto.MetricType_COUNTER, f.GetType(), name)
			assert.Equal(t, float64(want), f.GetMetric()[0].GetCounter().GetValue(), name)
		}
		assert.Equal(t, uint64(20), stats.Hits)
		assert.Equal(t, uint64(10), stats.Misses)
	})

	require.NoError(t, srv.Kill())

	t.Run("backend down", func(t *testing.T) {
		families := scrape(t, r)
		assert.Equal(t, float64(0), families["emgcache_cache_up"].GetMetric()[0].GetGauge().GetValue())
		assert.NotContains(t, families, "emgcache_cache_memory_bytes", "unknown memory is left out, not reported as 0")
		assert.Contains(t, families, "emgcache_cache_hits_total", "the counters are still true")
	})
}
