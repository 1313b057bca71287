package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store"
)

// Two file hashes of the lengths the EMG keys accept.
const (
	fileA = "0123456789abcdef0123456789abcdef"
	fileB = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
)

// origin is the handler behind the middleware: it counts its calls and
// answers with respond, by default 200 and a body naming the call.
type origin struct {
	calls   atomic.Int64
	respond func(w http.ResponseWriter, r *http.Request, call int64)
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := o.calls.Add(1)
	if o.respond != nil {
		o.respond(w, r, n)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"call":` + strconv.FormatInt(n, 10) + `}`))
}

// fileRoute serves the wrapped handler the way a service registers it.
func fileRoute(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/emg/analysis/{file_hash}", h)
	mux.Handle("/api/emg/analysis/{file_hash}/{rest...}", h)
	return mux
}

// get sends a request through h; headers are name, value pairs.
func get(h http.Handler, method, target string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func analysis(hash string) string { return "/api/emg/analysis/" + hash }

// assertStatus checks the parameters of this cache's Cache-Status entry,
// such as "fwd=uri-miss; fwd-status=200; stored"; a want ending in "*"
// is a prefix ("hit*").
func assertStatus(t *testing.T, w *httptest.ResponseRecorder, want string) {
	t.Helper()
	got := w.Header().Values("Cache-Status")
	if !assert.NotEmpty(t, got, "no Cache-Status") {
		return
	}
	last := strings.TrimPrefix(got[len(got)-1], "emgcache; ")
	if prefix, ok := strings.CutSuffix(want, "*"); ok {
		assert.True(t, strings.HasPrefix(last, prefix), "Cache-Status %q, want %s", last, want)
		return
	}
	assert.Equal(t, want, last, "Cache-Status")
}

// storedKeys lists every key in the cache but tombstones.
func storedKeys(t *testing.T, cache *store.Cache) []string {
	t.Helper()
	var keys []string
	require.NoError(t, cache.Scan(t.Context(), "*", func(ks []string) error {
		for _, k := range ks {
			// The namespace versions are bookkeeping, not responses.
			if !strings.HasPrefix(k, store.NamespacePrefix) {
				keys = append(keys, k)
			}
		}
		return nil
	}))
	return keys
}
