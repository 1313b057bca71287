package health_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/health"
	"github.com/emgcache/emgcache/middleware"
)

// The HTTP layers' outcomes are shown beside the store's reads: a miss
// and three hits through the middleware are 75 % for HTTP, whatever the
// store counted.
func TestHTTPLayerStats(t *testing.T) {
	cache := openMemory(t)
	mw := middleware.NewResponseCache(cache, middleware.Options{Route: "analysis"})
	mux := http.NewServeMux()
	mux.Handle("/api/emg/analysis/{file_hash}", mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"rms":1}`))
	})))
	for range 4 {
		mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/emg/analysis/0123456789abcdef0123456789abcdef", nil))
	}
	h := newRouter(cache, health.Options{HTTP: []health.HTTPLayer{mw}})
	want := middleware.Stats{Route: "analysis", Hits: 3, Misses: 1, Requests: 4, HitRate: 0.75}

	res, body := do(t, h, http.MethodGet, "/api/cache/stats", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	var stats struct {
		HitRate float64            `json:"hit_rate"`
		Total   uint64             `json:"total_requests"`
		HTTP    []middleware.Stats `json:"http"`
	}
	require.NoError(t, json.Unmarshal(body, &stats))
	assert.Equal(t, []middleware.Stats{want}, stats.HTTP)
	assert.EqualValues(t, 4, stats.Total, "one store read per request")
	assert.InDelta(t, 0.75, stats.HitRate, 1e-9)

	res, body = do(t, h, http.MethodGet, "/api/cache/dashboard", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	var dash struct {
		HTTP []middleware.Stats `json:"http"`
	}
	require.NoError(t, json.Unmarshal(body, &dash))
	assert.Equal(t, []middleware.Stats{want}, dash.HTTP)

	const metrics = `
# HELP emgcache_http_requests_total Requests a response cache saw, by route and outcome: hit (from the store), stale, collapsed (joined another request's fill), miss (the handler ran), bypass.
# TYPE emgcache_http_requests_total counter
emgcache_http_requests_total{outcome="bypass",route="analysis"} 0
emgcache_http_requests_total{outcome="collapsed",route="analysis"} 0
emgcache_http_requests_total{outcome="hit",route="analysis"} 3
emgcache_http_requests_total{outcome="miss",route="analysis"} 1
emgcache_http_requests_total{outcome="stale",route="analysis"} 0
`
	api := health.New(cache, health.Options{HTTP: []health.HTTPLayer{mw}})
	require.NoError(t, testutil.CollectAndCompare(api.Collector(), strings.NewReader(metrics), "emgcache_http_requests_total"))
	problems, err := testutil.CollectAndLint(api.Collector())
	require.NoError(t, err)
	assert.Empty(t, problems)

	// Without HTTP layers the dashboard says so with an empty list.
	_, body = do(t, newRouter(cache, health.Options{}), http.MethodGet, "/api/cache/dashboard", nil)
	assert.Contains(t, string(body), `"http":[]`)
}
