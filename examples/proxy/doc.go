// Command proxy is a caching reverse proxy: emgcache's middleware in its
// SharedCache semantics in front of net/http/httputil.ReverseProxy, for an
// origin you do not own, such as an EMG service that predates emgcache.
//
//	go run ./examples/proxy -listen :8081 -origin http://127.0.0.1:8080
//
// REDIS_URL selects Redis (shared by every proxy process); without it the
// embedded in-memory backend is used. -stale-if-error and
// -stale-while-revalidate (durations, off by default) let a response be
// served stale when the origin fails or while it is refreshed, unless its
// own directives forbid it. What is stored and for how long is
// decided by the origin's headers alone, as RFC 9111 says for a shared
// cache: Cache-Control (s-maxage, max-age, no-store, no-cache, private,
// must-revalidate, proxy-revalidate), the targeted Emgcache-Cache-Control
// and CDN-Cache-Control (RFC 9213), Expires, and Last-Modified for heuristic
// freshness. Stale responses with an ETag or Last-Modified are revalidated
// with a conditional request. docs/http-caching.md walks the RFC clause by
// clause.
//
// Keys never depend on the client's Host header: every key names the
// origin's host, so a client cannot fill the cache with entries of its own
// making. The request sent to the origin carries the origin's Host and none
// of the client's X-Forwarded-* headers (ReverseProxy's Rewrite drops
// them), so nothing a client sends there can reach a stored body except
// through the URL, which is in the key, or through headers the origin names
// in Vary.
//
// Requests that carry Cookie or Proxy-Authorization, or a header of
// middleware.DefaultBypassHeaders that ReverseProxy passes on
// (X-Forwarded-Prefix, X-Original-URL...), go to the origin uncached, as
// they do in Varnish's default configuration: a response to them may be
// somebody's own, or built from what the client claimed.
package main
