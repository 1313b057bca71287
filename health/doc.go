// Package health serves the cache monitoring API under /api/cache/ on a
// gorilla/mux router: health, stats, a combined dashboard, Prometheus metrics,
// a live HTML page and an authenticated invalidation endpoint.
package health
