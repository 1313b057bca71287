// Package health serves the monitoring API of a store.Cache under
// /api/cache/ on a gorilla/mux router, for people, for monitors and for
// Prometheus:
//
//	GET  /api/cache/health      200 when the backend answers a ping, 503 when not
//	GET  /api/cache/stats       hits, misses, hit rate, memory, latency; always 200
//	GET  /api/cache/dashboard   health, stats and configuration in one answer
//	GET  /api/cache/metrics     Prometheus text format
//	GET  /api/cache/ui          a live HTML dashboard
//	POST /api/cache/invalidate?pattern=...   remove keys by glob pattern (admin)
//
// Mount it with
//
//	health.New(cache, health.Options{AdminToken: token}).Register(router)
//
// # Answers
//
// The stats JSON keeps the fields of the service this project replaces
// (healthy, memory_mb, hit_rate, hits, misses, total_requests) with their
// names and meanings, and adds what the store measures beyond them: local
// and stale hits, errors, writes, deletes, the circuit breaker's state and
// trips, and latency percentiles. Durations are in nanoseconds (fields end
// in _ns). Only health maps the backend's state to its status code, so that
// a load balancer can read the code alone; stats and dashboard answer 200
// and say healthy: false, because their figures stay true while Redis is
// down.
//
// Those are the store's reads, one per cacheable HTTP request. What became
// of the requests is the response caches' own count: with [Options.HTTP],
// stats and dashboard add "http", one [middleware.Stats] per layer (hits
// from the store, stale, collapsed into another request's fill, misses,
// bypasses, and the HTTP hit rate), the metrics add
// emgcache_http_requests_total{route,outcome}, and the dashboard's 90 %
// target applies to the HTTP hit rate.
//
// Every response carries Cache-Control: no-store, since the figures change
// with every request and an invalidation must never be replayed from a
// cache. Errors are JSON objects {"error": "..."}: 404 for any other path
// under the prefix, 405 with an Allow header for a wrong method.
//
// # Invalidation
//
// POST invalidate deletes data, so it is guarded. It needs
// "Authorization: Bearer <token>" matching Options.AdminToken, compared in
// constant time (401 otherwise). Without a configured token it answers 403 to
// everyone: a forgotten setting leaves it closed, never open. A token bucket
// (Options.InvalidateBurst, Options.InvalidateInterval) answers 429 with
// Retry-After when callers holding the token call too often, because every
// call walks the keyspace with SCAN; callers without the token are refused
// before they can spend that budget. A bad pattern is a 400. Every call is
// logged with log/slog: the remote address, a fingerprint of the token
// (never the token), the pattern, how many keys went and the outcome.
//
// # Metrics
//
// The metrics are read from one store.Stats snapshot per scrape by a
// custom collector, so they are exactly the store's counters and cost
// nothing between scrapes. API.Collector exposes it for programs with a
// registry of their own.
//
// # Dashboard page
//
// GET ui is one self-contained HTML page, embedded in the binary, with no
// external resource and no build step. It polls the dashboard JSON and draws
// hit rate, reads per second, memory and latency percentiles on canvases.
// Its Content-Security-Policy allows only its own inline script and style,
// by hash. Append ?refresh=<milliseconds> to change how often it polls
// (default 2000).
//
// Package health/client is a Go client for this API with retries and typed
// errors.
package health
