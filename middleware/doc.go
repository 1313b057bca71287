// Package middleware caches net/http handler responses in a [store.Cache],
// so that a service serves a repeated request from memory instead of
// recomputing it. Its zero [Options] fit the EMG service, whose analysis
// route is keyed by a file hash:
//
//	cache, err := store.Open(ctx, store.ConfigFromEnv())
//	...
//	mw := middleware.New(cache, middleware.Options{TTL: time.Hour})
//	mux.Handle("GET /api/emg/analysis/{file_hash}", mw(analysisHandler))
//
// [New] returns a plain func(http.Handler) http.Handler and imports no
// router; [NewResponseCache] returns the [ResponseCache] itself, for a
// service that invalidates, reads its Stats or closes it at shutdown. What a
// request is about comes from [Options.KeyFunc], any
// string; the default reads the file_hash wildcard of a ServeMux pattern,
// and a one-line KeyFunc adapts gorilla/mux (mux.Vars(r)["file_hash"]), chi
// (chi.URLParam(r, "file_hash")) or any other router.
//
// # Keys
//
// The key covers what makes two responses differ: the method family (HEAD is
// answered from the GET entry), scheme, host (the Host header, or
// [Options.CanonicalHost]), escaped path, the query parameters sorted by
// name, the headers in [Options.KeyHeaders], and the request headers the
// response names in Vary. As HTTP caches do, the base key of a URI whose
// responses carry Vary holds a small vary record listing those headers, and
// each set of their values has a key of its own. The [KeyFunc] value groups
// keys: {Options.KeyPrefix}{value}:{digest} (emg_analysis:{file_hash}:{digest}
// by default; a value that is long or holds unusual bytes is hashed first),
// and an empty one sends the request to the handler uncached. Every key of
// a group also covers the version of the value's namespace,
// {Options.NamespacePrefix}{value} (emg_file:{file_hash} by default, shared
// with the file's other cached data): [ResponseCache.Invalidate], and every
// successful POST, PUT, PATCH or DELETE through the middleware, replace it,
// which orphans every response of the group in one write, including one
// that a fill running at that moment stores afterwards.
//
// # Two semantics
//
// [OwnedHandler], the default, is for handlers you write: your TTL applies,
// and the response's directives can only shorten it. [SharedCache] is an
// RFC 9111 shared cache for origins you do not own (examples/proxy): the
// response alone decides, heuristic freshness included. Both compute Age as
// RFC 9111 §4.2.3 says, parse dates strictly, revalidate stale responses
// with their ETag or Last-Modified and merge a 304 into the stored response,
// obey the targeted fields of RFC 9213 (Emgcache-Cache-Control, then
// CDN-Cache-Control, before Cache-Control), and answer Range requests on
// hits with http.ServeContent. docs/http-caching.md compares the two and
// walks the RFC clause by clause.
//
// # What is stored
//
// In OwnedHandler semantics: only responses to GET, with a status
// [Options.Statuses] allows (by default 200, 203, 204, 300, 301 and 308,
// and 404, 405, 410, 414 and 501 only with explicit freshness), without
// Set-Cookie,
// Cache-Control no-store, no-cache or private, Vary: * or trailers, and with
// a body no larger than [Options.MaxBodyBytes]. A response stays fresh for
// [Options.TTL], or less if its Cache-Control s-maxage or max-age (or
// Expires) says so. The stored form is the status, the headers minus the
// hop-by-hop ones, the body and the time it was stored, in a compact binary
// encoding.
//
// A hit is served with Age and an RFC 9211 Cache-Status header, such as
// "emgcache; hit; ttl=3597"; a request that went to the handler says why
// ("emgcache; fwd=uri-miss; fwd-status=200; stored", "fwd=vary-miss",
// "fwd=stale", "fwd=request", "fwd=bypass; detail=header", "fwd=method").
// "hit" always means the response was read from the store; a request that
// waited for another request's handler run says "fwd=...; collapsed".
// [ResponseCache.Stats] counts these outcomes, beside the store's own Stats,
// which count one read per cacheable request.
// If-None-Match and If-Modified-Since are answered with 304 from the stored
// ETag and Last-Modified.
//
// Concurrent misses for one key run the handler once; the others get its
// response as soon as it is complete. A body that grows past the size limit,
// or a handler that flushes, is streamed to the client as it is written and
// not stored, so a request never buffers more than the limit.
//
// With [Options.StaleWhileRevalidate], a response that just went stale is
// served at once while the handler refreshes it in the background; with
// [Options.StaleIfError], a stale response stands in for a 500, 502, 503 or
// 504 from the handler (RFC 5861). A response's own stale-while-revalidate
// and stale-if-error directives take precedence.
//
// # Safety
//
// A shared cache must never give one client what was meant for another, nor
// let one request decide what everybody else gets:
//
//   - A request carrying Authorization, Cookie or Proxy-Authorization
//     bypasses the cache unless [Options.KeyHeaders] names the header, which
//     then caches per credential, on purpose. In [SharedCache] semantics
//     Authorization does not bypass: RFC 9111 §3.5 decides, storing the
//     response only when it says public, s-maxage or must-revalidate.
//   - A request carrying a header that front ends use to rebuild the URL
//     (X-Forwarded-Host, X-Forwarded-Proto, Forwarded, X-Original-URL...:
//     [DefaultBypassHeaders]) bypasses the cache unless that header is in the
//     key, because a handler reflecting it would otherwise poison the entry
//     for everybody. Behind a proxy that sets them on every request, put them
//     in [Options.KeyHeaders].
//   - Request Cache-Control no-store bypasses the cache; no-cache (or
//     Pragma: no-cache), and max-age when the stored response is older,
//     send the request to the handler and store the fresh response.
//   - The path's extension means nothing: /x.css is cached exactly when /x
//     would be, so there is no cache deception.
//   - A successful POST, PUT, PATCH or DELETE through the middleware removes
//     the stored response of its URI (RFC 9111 §4.4).
//
// # The store is never the reason a request fails
//
// When the store cannot be read or written (Redis down, slow, or the
// breaker open) the request goes to the handler and is served as if there
// were no cache; [Options.OnError] hears about it. The store's OpTimeout and
// breaker bound how long a broken Redis can delay a request.
package middleware
