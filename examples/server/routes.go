package main

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/emgcache/emgcache/emg"
	"github.com/emgcache/emgcache/emgkey"
	"github.com/emgcache/emgcache/examples/internal/recordstore"
	"github.com/emgcache/emgcache/health"
	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
)

// Cache lifetimes. A recording is stored under its content hash and never
// changes, so its metadata and analyses could live forever; the TTLs only
// bound the memory that files nobody reads keep.
const (
	metadataTTL = 24 * time.Hour
	analysisTTL = time.Hour
	// preferencesTTL is short because preferences change: it bounds how
	// long a value written while the cache was unreachable can be
	// outdated once it is back.
	preferencesTTL = 10 * time.Minute
)

// server holds what the handlers share. Its methods are the handlers.
type server struct {
	repo     *recordstore.Repository
	cache    *store.Cache
	patterns *patterns.Layer
	// analysisCache is the response cache of the analysis route; serve
	// closes it at shutdown.
	analysisCache *middleware.ResponseCache
	readers       map[string]emg.Reader
	log           *slog.Logger
	cacheLog      *cacheErrorLog
	maxUpload     int64
	adminToken    string
	// telemetry is EMGCACHE_OTEL's: off unless it is set.
	telemetry *telemetry
}

// newAnalysisCache returns the response cache of the analysis route. Its
// default statuses store successes only: the 404 of an unknown hash carries
// no explicit freshness, so "not uploaded yet" is never cached past the
// upload.
func newAnalysisCache(cache *store.Cache, cacheLog *cacheErrorLog, tel *telemetry) *middleware.ResponseCache {
	opts := middleware.Options{
		KeyFunc: analysisKeyValue,
		TTL:     analysisTTL,
		Route:   "analysis",
		OnError: func(r *http.Request, err error) {
			cacheLog.absorbed(r.Context(), "", err)
		},
	}
	if tel.on() {
		opts.Hooks = tel.inst.MiddlewareHooks()
	}
	return middleware.NewResponseCache(cache, opts)
}

// analysisKeyValue is the analysis route's KeyFunc: the file hash in lower
// case, so that both spellings share the file's responses and its
// namespace emg_file:{file_hash} (the middleware's default prefixes), or the
// route's value as it is when it is not a hash (the handler answers 400,
// which is not stored).
func analysisKeyValue(r *http.Request) string {
	v := pathValue(r, "file_hash")
	if h, err := emgkey.FileHash(v); err == nil {
		return h
	}
	return v
}

// readers returns the upload formats by name.
func readers() map[string]emg.Reader {
	csv, c3d := emg.CSVReader{}, emg.C3DReader{}
	return map[string]emg.Reader{csv.Format(): csv, c3d.Format(): c3d}
}

// routes returns the router:
//
//	POST /api/emg/files[?sample_rate=HZ]      upload a CSV or C3D recording: 201 (200 if stored before)
//	GET  /api/emg/files/{file_hash}           its metadata, cache-aside
//	GET  /api/emg/analysis/{file_hash}        its analysis, through the response cache
//	GET  /api/users/{user_id}/preferences     read through the cache
//	PUT  /api/users/{user_id}/preferences     written to the database, then the cache
//	     /api/cache/...                       the monitoring API (package health)
//	GET  /                                    a redirect to the dashboard, /api/cache/ui
//
// The analysis route, the one a cache hit takes, is routed by http.ServeMux
// in front of gorilla/mux, which tries its routes one by one with regular
// expressions: about a third of a cached hit's time in process
// (BenchmarkCachedAnalysis). gorilla/mux keeps the other routes, their
// JSON 404s and 405s, and the monitoring API, which registers on it; it
// also keeps the analysis route, so that a wrong method there gets the
// same 405 as everywhere else.
func (s *server) routes() http.Handler {
	cached := s.analysisCache.Handler
	analysis := cached(http.HandlerFunc(s.getAnalysis))
	front := http.NewServeMux()
	tel := s.telemetry
	front.Handle("GET "+analysisRoute, s.logRequests(tel.handler(analysis, "GET "+analysisRoute), analysisRoute))
	front.Handle("/", tel.handler(s.router(analysis), ""))
	if tel.on() {
		front.Handle("GET "+metricsPath, tel.metrics)
	}
	return front
}

// analysisRoute is the template of the analysis route.
const analysisRoute = "/api/emg/analysis/{file_hash}"

// router returns the gorilla/mux router of every route, the analysis
// route serving analysis.
func (s *server) router(analysis http.Handler) *mux.Router {
	r := mux.NewRouter()
	r.Use(s.accessLog)
	health.New(s.cache, health.Options{
		AdminToken:  s.adminToken,
		Logger:      s.log,
		Invalidator: s.patterns,
		HTTP:        []health.HTTPLayer{s.analysisCache},
	}).Register(r)

	r.HandleFunc("/api/emg/files", s.uploadFile).Methods(http.MethodPost)
	r.HandleFunc("/api/emg/files/{file_hash}", s.getMetadata).Methods(http.MethodGet, http.MethodHead)
	r.Handle(analysisRoute, analysis).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/api/users/{user_id}/preferences", s.getPreferences).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/api/users/{user_id}/preferences", s.putPreferences).Methods(http.MethodPut)
	r.HandleFunc("/", index).Methods(http.MethodGet, http.MethodHead)

	// Middleware from Use runs only on matched routes; these are logged
	// too, since a stream of them is a misconfigured client.
	r.NotFoundHandler = s.accessLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	}))
	r.MethodNotAllowedHandler = s.accessLog(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		allowed := allowedMethods(r, req)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, http.StatusMethodNotAllowed, "method "+req.Method+" not allowed on "+req.URL.Path+
			"; allowed: "+strings.Join(allowed, ", "))
	}))
	return r
}

// index answers GET / for whoever opens the server's address: a redirect to
// the dashboard for browsers, and for curl a body saying where things are.
func index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Location", dashboardPath)
	writeJSON(w, http.StatusFound, map[string]any{
		"dashboard": dashboardPath,
		"endpoints": []string{
			"POST /api/emg/files?sample_rate=HZ",
			"GET /api/emg/files/{file_hash}",
			"GET /api/emg/analysis/{file_hash}",
			"GET|PUT /api/users/{user_id}/preferences",
			"GET /api/cache/health|stats|dashboard|metrics|ui",
			"POST /api/cache/invalidate?pattern=GLOB",
		},
	})
}

// dashboardPath is the monitoring page GET / points to.
const dashboardPath = health.PathPrefix + "ui"

// candidateMethods are the methods a 405's Allow header may name.
var candidateMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions,
}

// allowedMethods lists the methods some route of r serves at req's path,
// for the Allow header RFC 9110 requires on a 405.
func allowedMethods(r *mux.Router, req *http.Request) []string {
	var allowed []string
	for _, m := range candidateMethods {
		probe := req.Clone(req.Context())
		probe.Method = m
		var match mux.RouteMatch
		if r.Match(probe, &match) && match.MatchErr == nil {
			allowed = append(allowed, m)
		}
	}
	return allowed
}
