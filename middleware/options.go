package middleware

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/emgcache/emgcache/store"
)

// Defaults applied by New to zero fields of Options.
const (
	// DefaultTTL is the longest a response stays fresh when Options.TTL is 0:
	// one hour, the lifetime of an EMG analysis result in the cache.
	DefaultTTL = time.Hour

	// DefaultMaxBodyBytes is the largest body stored when Options.MaxBodyBytes
	// is 0: 8 MiB, lowered to the cache's MaxEntryBytes when that is smaller.
	DefaultMaxBodyBytes = 8 << 20

	// DefaultPathValue is the ServeMux wildcard read by the default KeyFunc,
	// as in "GET /api/emg/analysis/{file_hash}".
	DefaultPathValue = "file_hash"

	// DefaultName is how this cache names itself in the Cache-Status header
	// (RFC 9211).
	DefaultName = "emgcache"
)

// KeyFunc returns the file hash a request is about, as the router captured
// it: r.PathValue("file_hash") for a ServeMux, mux.Vars(r)["file_hash"] for
// gorilla/mux, chi.URLParam(r, "file_hash") for chi. The middleware checks
// the hash with store.ValidateFileHash; a request whose hash is not a hex
// digest (or is empty) goes to the handler uncached.
type KeyFunc func(r *http.Request) string

// PathValue returns a KeyFunc that reads the named wildcard of a ServeMux
// pattern. It only sees the wildcard when the middleware wraps the handler
// registered on the mux, not the mux itself: the mux sets path values just
// before it calls the handler.
func PathValue(name string) KeyFunc {
	return func(r *http.Request) string { return r.PathValue(name) }
}

// DefaultBypassHeaders returns the request headers used when
// Options.BypassHeaders is nil: the ones front ends and frameworks read to
// rebuild the request's URL, host, scheme or method. A handler that reflects
// one of them into its body (an absolute link built from X-Forwarded-Host,
// say) would otherwise let one request poison the cached response for
// everybody. X-Forwarded-For and X-Real-IP are not listed: proxies add them
// to every request, and a handler that reflects the client's address cannot
// be cached by any shared cache.
func DefaultBypassHeaders() []string {
	return []string{
		"Forwarded",
		"X-Forwarded-Host",
		"X-Forwarded-Port",
		"X-Forwarded-Prefix",
		"X-Forwarded-Proto",
		"X-Forwarded-Scheme",
		"X-Forwarded-Server",
		"X-Host",
		"X-Http-Method",
		"X-Http-Method-Override",
		"X-Method-Override",
		"X-Original-Url",
		"X-Rewrite-Url",
	}
}

// credentialHeaders always make a request bypass the cache unless they are
// in Options.KeyHeaders: a response to them is somebody's own.
var credentialHeaders = []string{"Authorization", "Cookie", "Proxy-Authorization"}

// cacheableStatuses are the statuses RFC 9110 §15.1 lets a cache store
// without explicit freshness ("heuristically cacheable"), without 206: a
// partial response is not a response to the next request.
var cacheableStatuses = []int{
	http.StatusOK,
	http.StatusNonAuthoritativeInfo,
	http.StatusNoContent,
	http.StatusMultipleChoices,
	http.StatusMovedPermanently,
	http.StatusPermanentRedirect,
	http.StatusNotFound,
	http.StatusMethodNotAllowed,
	http.StatusGone,
	http.StatusRequestURITooLong,
	http.StatusNotImplemented,
}

// Options configure New. The zero value is a working configuration: the
// file hash from the "file_hash" path value, a one-hour TTL, bodies up to
// 8 MiB, no stale serving.
type Options struct {
	// KeyFunc returns the file hash of a request. Nil means
	// PathValue(DefaultPathValue).
	KeyFunc KeyFunc

	// TTL is the longest a stored response is fresh. A response's
	// Cache-Control s-maxage or max-age (or its Expires) can make it
	// shorter, never longer. Zero means DefaultTTL.
	TTL time.Duration

	// StaleWhileRevalidate lets a response that has been stale for less than
	// this be served at once while the handler runs in the background to
	// refresh it (RFC 5861). A response's own stale-while-revalidate
	// directive takes precedence. Zero, the default, turns it off.
	StaleWhileRevalidate time.Duration

	// StaleIfError lets a response that has been stale for less than this be
	// served when the handler answers 500, 502, 503 or 504 (RFC 5861). A
	// response's own stale-if-error directive takes precedence. Zero, the
	// default, turns it off.
	//
	// Neither stale option applies to a response marked must-revalidate or
	// proxy-revalidate, nor to one with s-maxage unless it carries its own
	// stale directives. Stale responses are kept in the store for the
	// longer of the two windows past their freshness.
	StaleIfError time.Duration

	// MaxBodyBytes is the largest body stored. A longer body is streamed to
	// the client as the handler writes it and is not stored, so a request
	// never holds more than this in memory. Zero means DefaultMaxBodyBytes,
	// or the cache's MaxEntryBytes if that is smaller; a value above the
	// cache's MaxEntryBytes panics.
	MaxBodyBytes int

	// Statuses are the response statuses that may be stored. Nil means every
	// status RFC 9110 calls heuristically cacheable except 206: 200, 203,
	// 204, 300, 301, 308, 404, 405, 410, 414 and 501. Others panic: a cache
	// that stores a 500 or a 302 without being told to is a bug.
	Statuses []int

	// KeyHeaders are request headers that are always part of the key, in
	// addition to those a response names in Vary. A header named here is no
	// longer a reason to bypass: listing Authorization or Cookie caches
	// responses per credential, on purpose; listing X-Forwarded-Host and
	// X-Forwarded-Proto is what a service behind a reverse proxy that always
	// sets them needs.
	KeyHeaders []string

	// BypassHeaders are request headers whose presence sends the request to
	// the handler uncached, unless they are in KeyHeaders. Nil means
	// DefaultBypassHeaders(); a non-nil empty slice means none.
	// Authorization, Cookie and Proxy-Authorization always bypass unless
	// they are in KeyHeaders.
	BypassHeaders []string

	// Name is this cache's name in the Cache-Status header. Empty means
	// DefaultName. It must be an HTTP token.
	Name string

	// OnError, when set, is called when the store fails (a lookup, a write,
	// an unreadable entry) or a background revalidation panics. The request
	// is served anyway: the store is never the reason a request fails.
	OnError func(r *http.Request, err error)
}

// config is Options resolved against the defaults and the cache.
type config struct {
	keyFunc       KeyFunc
	ttl, swr, sie time.Duration
	maxBody       int
	maxEntry      int
	statuses      [600]bool
	keyHeaders    []string          // canonical, sorted, unique
	bypass        map[string]string // request header → Cache-Status detail of the bypass
	status        statusStrings
	onError       func(*http.Request, error)
}

// newConfig validates opts and fills in the defaults. Bad configuration is a
// programming error found at start-up, so it panics, like chi.
func newConfig(cache *store.Cache, opts Options) config {
	if cache == nil {
		panic("middleware: nil cache")
	}
	for _, d := range []struct {
		v    time.Duration
		name string
	}{{opts.TTL, "TTL"}, {opts.StaleWhileRevalidate, "StaleWhileRevalidate"}, {opts.StaleIfError, "StaleIfError"}} {
		if d.v < 0 {
			panic(fmt.Sprintf("middleware: negative %s %v", d.name, d.v))
		}
	}
	c := config{
		keyFunc:  opts.KeyFunc,
		ttl:      opts.TTL,
		swr:      opts.StaleWhileRevalidate,
		sie:      opts.StaleIfError,
		maxEntry: cache.Config().MaxEntryBytes,
		onError:  opts.OnError,
	}
	if c.keyFunc == nil {
		c.keyFunc = PathValue(DefaultPathValue)
	}
	if c.ttl == 0 {
		c.ttl = DefaultTTL
	}
	switch {
	case opts.MaxBodyBytes < 0:
		panic(fmt.Sprintf("middleware: negative MaxBodyBytes %d", opts.MaxBodyBytes))
	case opts.MaxBodyBytes > c.maxEntry:
		panic(fmt.Sprintf("middleware: MaxBodyBytes %d is over the cache's MaxEntryBytes %d", opts.MaxBodyBytes, c.maxEntry))
	case opts.MaxBodyBytes > 0:
		c.maxBody = opts.MaxBodyBytes
	default:
		c.maxBody = min(DefaultMaxBodyBytes, c.maxEntry)
	}

	statuses := opts.Statuses
	if statuses == nil {
		statuses = cacheableStatuses
	}
	for _, s := range statuses {
		if !slices.Contains(cacheableStatuses, s) {
			panic(fmt.Sprintf("middleware: status %d is not heuristically cacheable (RFC 9110 §15.1)", s))
		}
		c.statuses[s] = true
	}

	for _, h := range opts.KeyHeaders {
		c.keyHeaders = append(c.keyHeaders, canonicalHeader("KeyHeaders", h))
	}
	slices.Sort(c.keyHeaders)
	c.keyHeaders = slices.Compact(c.keyHeaders)

	bypass := opts.BypassHeaders
	if bypass == nil {
		bypass = DefaultBypassHeaders()
	}
	c.bypass = map[string]string{
		"Upgrade": detailUpgrade,
		// Only a handler can evaluate these against its current state.
		"If-Match":            detailPrecondition,
		"If-Unmodified-Since": detailPrecondition,
	}
	for _, h := range append(slices.Clone(credentialHeaders), bypass...) {
		h = canonicalHeader("BypassHeaders", h)
		if !slices.Contains(c.keyHeaders, h) {
			c.bypass[h] = detailHeader
		}
	}

	name := opts.Name
	if name == "" {
		name = DefaultName
	}
	if !isToken(name) || !isAlpha(name[0]) && name[0] != '*' {
		panic(fmt.Sprintf("middleware: Name %q is not an HTTP token", name))
	}
	c.status = newStatusStrings(name)
	return c
}

// canonicalHeader checks that h is a header name and returns its canonical
// form, which is how net/http keys request headers.
func canonicalHeader(field, h string) string {
	if !isToken(h) {
		panic(fmt.Sprintf("middleware: %s: %q is not a header name", field, h))
	}
	return http.CanonicalHeaderKey(h)
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case isAlpha(c), c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
