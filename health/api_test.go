package health_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/health"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

const testToken = "test-admin-token-0123456789"

// openMemory opens a cache on the embedded backend, closed at the end of
// the test.
func openMemory(t *testing.T) *store.Cache {
	t.Helper()
	return openCache(t, store.Config{})
}

// openRedis opens a cache on a redis-server of its own.
func openRedis(t *testing.T) (*store.Cache, *storetest.Server) {
	t.Helper()
	srv := storetest.NewServer(t)
	return openCache(t, store.Config{URL: srv.URL()}), srv
}

func openCache(t *testing.T, cfg store.Config) *store.Cache {
	t.Helper()
	c, err := store.Open(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newRouter mounts a new API on a new router.
func newRouter(cache *store.Cache, opts health.Options) *mux.Router {
	r := mux.NewRouter()
	health.New(cache, opts).Register(r)
	return r
}

// do serves one request without a listener and returns the response with
// its body read.
func do(t *testing.T, h http.Handler, method, target string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, body
}

// decode unmarshals body into a new T, failing the test if it is not JSON.
func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(body, &v), "body: %s", body)
	return v
}

func TestRoutes(t *testing.T) {
	cache := openMemory(t)
	r := newRouter(cache, health.Options{AdminToken: testToken, Logger: discardLogger()})
	// A route of the program's own must keep working next to the API.
	r.HandleFunc("/api/other", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "mine") })

	tests := []struct {
		name        string
		method      string
		path        string
		status      int
		contentType string
		allow       string // expected Allow header for 405
	}{
		{"health", http.MethodGet, "/api/cache/health", 200, "application/json", ""},
		{"health head", http.MethodHead, "/api/cache/health", 200, "application/json", ""},
		{"stats", http.MethodGet, "/api/cache/stats", 200, "application/json", ""},
		{"dashboard", http.MethodGet, "/api/cache/dashboard", 200, "application/json", ""},
		{"metrics", http.MethodGet, "/api/cache/metrics", 200, "text/plain", ""},
		{"ui", http.MethodGet, "/api/cache/ui", 200, "text/html", ""},
		{"post to health", http.MethodPost, "/api/cache/health", 405, "application/json", "GET, HEAD"},
		{"delete stats", http.MethodDelete, "/api/cache/stats", 405, "application/json", "GET, HEAD"},
		{"put dashboard", http.MethodPut, "/api/cache/dashboard", 405, "application/json", "GET, HEAD"},
		{"post metrics", http.MethodPost, "/api/cache/metrics", 405, "application/json", "GET, HEAD"},
		{"post ui", http.MethodPost, "/api/cache/ui", 405, "application/json", "GET, HEAD"},
		{"get invalidate", http.MethodGet, "/api/cache/invalidate?pattern=*", 405, "application/json", "POST"},
		{"delete invalidate", http.MethodDelete, "/api/cache/invalidate?pattern=*", 405, "application/json", "POST"},
		{"unknown endpoint", http.MethodGet, "/api/cache/nope", 404, "application/json", ""},
		{"prefix alone", http.MethodGet, "/api/cache/", 404, "application/json", ""},
		{"trailing slash", http.MethodGet, "/api/cache/health/", 404, "application/json", ""},
		{"deeper path", http.MethodPost, "/api/cache/stats/extra", 404, "application/json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := do(t, r, tt.method, tt.path, nil)
			assert.Equal(t, tt.status, res.StatusCode, "body: %s", body)
			assert.True(t, strings.HasPrefix(res.Header.Get("Content-Type"), tt.contentType), "Content-Type %q", res.Header.Get("Content-Type"))
			assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
			assert.Equal(t, tt.allow, res.Header.Get("Allow"))
			if tt.status >= 400 {
				e := decode[map[string]string](t, body)
				assert.NotEmpty(t, e["error"], "error body: %s", body)
				assert.Len(t, e, 1, "an error body holds only the message")
			}
		})
	}

	t.Run("other routes untouched", func(t *testing.T) {
		res, body := do(t, r, http.MethodGet, "/api/other", nil)
		assert.Equal(t, 200, res.StatusCode)
		assert.Equal(t, "mine", string(body))
		assert.Empty(t, res.Header.Get("Cache-Control"))
	})
}

func TestNewRejectsNegativeOptions(t *testing.T) {
	cache := openMemory(t)
	tests := []struct {
		name string
		opts health.Options
	}{
		{"burst", health.Options{InvalidateBurst: -1}},
		{"interval", health.Options{InvalidateInterval: -1}},
		{"timeout", health.Options{InvalidateTimeout: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.PanicsWithValue(t, "health: negative Options.Invalidate"+strings.ToUpper(tt.name[:1])+tt.name[1:],
				func() { health.New(cache, tt.opts) })
		})
	}
	assert.Panics(t, func() { health.New(nil, health.Options{}) })
}
