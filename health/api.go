package health

import (
	"crypto/sha256"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/emgcache/emgcache/store"
)

// PathPrefix is where Register mounts the API.
const PathPrefix = "/api/cache/"

// API serves the monitoring endpoints of one store.Cache. Create it with
// New and mount it with Register. It is safe for concurrent use.
type API struct {
	cache       *store.Cache
	opts        Options
	invalidator Invalidator
	// tokenSum is the SHA-256 of the admin token; presented tokens are
	// hashed too, so the constant-time comparison does not leak the length.
	tokenSum  [sha256.Size]byte
	limiter   *tokenBucket
	collector *collector
	metrics   http.Handler
}

// New returns the API of cache. It panics if opts holds a negative limit.
func New(cache *store.Cache, opts Options) *API {
	return newAPI(cache, opts, time.Now)
}

// newAPI is New with the clock of the rate limit, which tests replace to
// move time without sleeping.
func newAPI(cache *store.Cache, opts Options, now func() time.Time) *API {
	if cache == nil {
		panic("health: New with a nil cache")
	}
	opts = opts.withDefaults()
	a := &API{
		cache:       cache,
		opts:        opts,
		invalidator: opts.Invalidator,
		tokenSum:    sha256.Sum256([]byte(opts.AdminToken)),
		limiter:     newTokenBucket(opts.InvalidateBurst, opts.InvalidateInterval, now),
		collector:   newCollector(cache, opts.HTTP),
	}
	if a.invalidator == nil {
		a.invalidator = cacheInvalidator{cache: cache}
	}
	// A registry of its own, so that mounting the API twice, or next to a
	// program's own metrics, never fails with duplicate registrations.
	reg := prometheus.NewRegistry()
	reg.MustRegister(a.collector)
	a.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return a
}

// Register mounts the endpoints under PathPrefix on r:
//
//	GET  /api/cache/health      200 healthy, 503 not
//	GET  /api/cache/stats       counters, hit rate, memory, latency
//	GET  /api/cache/dashboard   health, stats and configuration together
//	GET  /api/cache/metrics     Prometheus text format
//	GET  /api/cache/ui          the live HTML dashboard
//	POST /api/cache/invalidate?pattern=...   admin: remove keys by pattern
//
// Every response carries Cache-Control: no-store; errors are JSON objects
// {"error": "..."}, including 404 for any other path under the prefix and
// 405, with an Allow header, for a wrong method.
func (a *API) Register(r *mux.Router) {
	sub := r.PathPrefix(PathPrefix).Subrouter()
	sub.Use(commonHeaders)
	sub.Handle("/health", allow(http.HandlerFunc(a.serveHealth), http.MethodGet, http.MethodHead))
	sub.Handle("/stats", allow(http.HandlerFunc(a.serveStats), http.MethodGet, http.MethodHead))
	sub.Handle("/dashboard", allow(http.HandlerFunc(a.serveDashboard), http.MethodGet, http.MethodHead))
	sub.Handle("/metrics", allow(a.metrics, http.MethodGet, http.MethodHead))
	sub.Handle("/ui", allow(http.HandlerFunc(serveUI), http.MethodGet, http.MethodHead))
	// invalidate checks its own method so that a wrong one is logged like
	// every other call of the admin endpoint.
	sub.Handle("/invalidate", http.HandlerFunc(a.serveInvalidate))
	// Registered last: mux tries routes in order, so this only catches what
	// nothing above matched.
	sub.PathPrefix("/").HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	})
}

// Collector returns the Prometheus collector behind GET metrics, for
// programs that export the cache metrics through a registry of their own.
func (a *API) Collector() prometheus.Collector { return a.collector }
