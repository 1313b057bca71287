package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/examples/internal/recordstore"
	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
)

// newTestHandler returns the server's router over an in-memory database
// and the embedded cache.
func newTestHandler(t *testing.T) http.Handler {
	t.Helper()
	return newTestServer(t, slog.New(slog.DiscardHandler)).routes()
}

// newTestServer returns the server over an in-memory database and the
// embedded cache, logging to log.
func newTestServer(t *testing.T, log *slog.Logger) *server {
	t.Helper()
	repo, err := recordstore.Open(t.Context(), ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { _ = repo.Close() })
	cache, err := store.Open(t.Context(), store.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cache.Close() })
	p := patterns.New(cache, patterns.Options{})
	t.Cleanup(func() { _ = p.Close() })
	s := &server{
		repo: repo, cache: cache, patterns: p, readers: readers(), log: log,
		cacheLog: newCacheErrorLog(log), maxUpload: 1 << 20, adminToken: "routes-test-token",
	}
	s.analysisCache = newAnalysisCache(cache, s.cacheLog, nil)
	return s
}

func serveOnce(t *testing.T, h http.Handler, method, target string) (*http.Response, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), method, target, nil))
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, body
}

func TestMethodNotAllowedNamesTheAllowedMethods(t *testing.T) {
	h := newTestHandler(t)
	const hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		method, path, allow string
	}{
		{http.MethodGet, "/api/emg/files", "POST"},
		{http.MethodDelete, "/api/emg/files/" + hash, "GET, HEAD"},
		{http.MethodPost, "/api/emg/analysis/" + hash, "GET, HEAD"},
		{http.MethodDelete, "/api/users/u1/preferences", "GET, HEAD, PUT"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			res, body := serveOnce(t, h, tt.method, tt.path)
			require.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
			assert.Equal(t, tt.allow, res.Header.Get("Allow"))
			var e struct{ Error string }
			require.NoError(t, json.Unmarshal(body, &e), "a JSON body: %s", body)
			assert.Contains(t, e.Error, "allowed: "+tt.allow)
		})
	}
}

func TestIndexPointsToTheDashboard(t *testing.T) {
	h := newTestHandler(t)
	res, body := serveOnce(t, h, http.MethodGet, "/")
	assert.Equal(t, http.StatusFound, res.StatusCode)
	assert.Equal(t, "/api/cache/ui", res.Header.Get("Location"))
	var got struct {
		Dashboard string   `json:"dashboard"`
		Endpoints []string `json:"endpoints"`
	}
	require.NoError(t, json.Unmarshal(body, &got))
	assert.Equal(t, "/api/cache/ui", got.Dashboard)
	assert.NotEmpty(t, got.Endpoints)

	res, _ = serveOnce(t, h, http.MethodGet, res.Header.Get("Location"))
	assert.Equal(t, http.StatusOK, res.StatusCode, "the dashboard is where / points")

	res, _ = serveOnce(t, h, http.MethodGet, "/nothing-here")
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "only / itself redirects")
}
