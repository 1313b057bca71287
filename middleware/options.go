package middleware

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/emgcache/emgcache/emgkey"
	"github.com/emgcache/emgcache/middleware/internal/httpcache"
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

	// DefaultKeyPrefix starts the keys of stored responses when
	// Options.KeyPrefix is "": the EMG analysis family, so that the
	// default layout is emg_analysis:{file_hash}:{digest}.
	DefaultKeyPrefix = emgkey.AnalysisPrefix

	// DefaultNamespacePrefix starts the namespace of a KeyFunc value when
	// Options.NamespacePrefix is "": the EMG file namespace,
	// emg_file:{file_hash}, which a file's other cached data shares.
	DefaultNamespacePrefix = emgkey.FilePrefix

	// DefaultName is how this cache names itself in the Cache-Status header
	// (RFC 9211).
	DefaultName = "emgcache"
)

// KeyFunc returns what a request is about, any string: its stored
// responses are grouped by it, under {KeyPrefix}{value}:..., and
// ResponseCache.Invalidate with the same value drops all of them. By default
// it is the file hash the router captured (r.PathValue("file_hash") for a
// ServeMux, mux.Vars(r)["file_hash"] for gorilla/mux, chi.URLParam(r,
// "file_hash") for chi). A value of up to 128 printable ASCII bytes
// without '#' goes into keys as it is; any other is replaced by a hash of
// it. An empty string sends the request to the handler uncached. The value
// only groups keys: the key itself always covers the URI (see the package
// documentation).
//
// A KeyFunc runs on every request, hits included, and its cost is added
// to every hit: one that returns a value the router already captured
// (PathValue, mux.Vars, chi.URLParam) costs a map or slice lookup, and
// a value that goes into keys as it is costs nothing more; the
// middleware remembers the key of each value and URI it has seen
// recently. One that computes its value (hashes the path, parses a
// token, reads a database) pays that on every hit, where a whole hit
// otherwise costs a few times what the bare handler writing the same bytes
// costs, and allocates nothing (docs/benchmarks.md): cache what it computes
// yourself, or capture it in the route.
type KeyFunc func(r *http.Request) string

// Semantics says who decides how long a response is reused.
type Semantics int

const (
	// OwnedHandler, the default, is for handlers you write: every response
	// the handler gives a storable status is stored for Options.TTL, or less
	// if its own directives say so; Options.Statuses lists the statuses.
	OwnedHandler Semantics = iota
	// SharedCache is an RFC 9111 shared cache, for origins you do not own
	// (examples/proxy): only the response's headers decide. Nothing without
	// explicit freshness (s-maxage, max-age, Expires, or a targeted field) is
	// stored unless heuristic freshness applies (a fraction of the time since
	// Last-Modified, at most Options.MaxHeuristicFreshness) or it carries a
	// validator to revalidate it with; any final status may be stored with
	// explicit freshness; a response to a request with Authorization only
	// with public, s-maxage or must-revalidate (§3.5); qualified private and
	// no-cache drop the fields they name; TTL and Statuses are not used.
	SharedCache
)

// DefaultTargetedField is this cache's own targeted Cache-Control field
// (RFC 9213) when Options.TargetedField is empty.
const DefaultTargetedField = "Emgcache-Cache-Control"

// DefaultMaxHeuristicFreshness caps heuristic freshness in SharedCache mode
// when Options.MaxHeuristicFreshness is 0.
const DefaultMaxHeuristicFreshness = 24 * time.Hour

// DefaultRevalidationWindow is how long SharedCache keeps a stale response
// that has a validator, to revalidate it with a conditional request instead
// of fetching it again, when Options.RevalidationWindow is 0.
const DefaultRevalidationWindow = time.Hour

// PathValue returns a KeyFunc that reads the named wildcard of a ServeMux
// pattern. It only sees the wildcard when the middleware wraps the handler
// registered on the mux, not the mux itself: the mux sets path values just
// before it calls the handler.
func PathValue(name string) KeyFunc {
	return func(r *http.Request) string { return r.PathValue(name) }
}

// fileHashValue is the default KeyFunc: the DefaultPathValue wildcard, in
// lower case when it is a hex file hash (emgkey.FileHash), so that both
// spellings of a hash share their responses; any other value as it is.
func fileHashValue(r *http.Request) string {
	v := r.PathValue(DefaultPathValue)
	if h, err := emgkey.FileHash(v); err == nil {
		return h
	}
	return v
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

// DefaultMaxRevalidations bounds the stale-while-revalidate refreshes
// running in the background at once when Options.MaxRevalidations is 0:
// enough for every hot key of a service, few enough that a burst of stale
// keys cannot pile goroutines and handler runs onto the origin.
const DefaultMaxRevalidations = 64

// defaultStatuses are the statuses stored without explicit freshness when
// Options.Statuses is nil: the successes and permanent redirects, whose
// answer does not change when the state behind the URI is created.
var defaultStatuses = []int{
	http.StatusOK,
	http.StatusNonAuthoritativeInfo,
	http.StatusNoContent,
	http.StatusMultipleChoices,
	http.StatusMovedPermanently,
	http.StatusPermanentRedirect,
}

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

// Options configure New. The zero value is a working configuration for the
// EMG service: the file hash from the "file_hash" path value, keys under
// emg_analysis:{file_hash}, a one-hour TTL, bodies up to 8 MiB, no stale
// serving.
type Options struct {
	// KeyFunc returns what a request is about, which groups its stored
	// responses. Nil means the DefaultPathValue wildcard of a ServeMux
	// pattern, in lower case when it is a hex file hash.
	KeyFunc KeyFunc

	// KeyPrefix starts the key of every stored response: {KeyPrefix}
	// {KeyFunc value}:{digest}, behind the cache's own Config.KeyPrefix. It
	// is at most 64 bytes. "" means DefaultKeyPrefix.
	KeyPrefix string

	// NamespacePrefix and the KeyFunc value name the namespace whose
	// version every key of the value carries (store.Cache.NamespaceVersion):
	// Invalidate and every successful unsafe method replace it. Other data
	// cached under the same namespace (patterns.Layer.VersionedKey) is
	// invalidated with it. "" means DefaultNamespacePrefix.
	NamespacePrefix string

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

	// Statuses are the response statuses stored for the configured TTL
	// whatever the handler says about freshness (OwnedHandler). Nil means
	// 200, 203, 204, 300, 301 and 308; the other statuses RFC 9110 calls
	// heuristically cacheable (404, 405, 410, 414, 501) are then stored only
	// when the handler gives them explicit freshness (Cache-Control max-age
	// or s-maxage, or Expires), because a "not uploaded yet" 404 stored for
	// an hour outlives the upload that makes it wrong. A non-nil list is
	// exactly what is stored, with or without explicit freshness. A status
	// not heuristically cacheable panics (206 among them): a cache that
	// stores a 500 or a 302 without being told to is a bug.
	Statuses []int

	// Route names the routes this middleware serves in its Stats, such as
	// "analysis". Empty means "".
	Route string

	// MaxRevalidations bounds the stale-while-revalidate refreshes running
	// in the background at once. Zero means DefaultMaxRevalidations; a
	// stale response whose refresh finds no free slot is served all the
	// same and refreshed by a later request.
	MaxRevalidations int

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

	// Semantics chooses who decides freshness: OwnedHandler (the zero value)
	// or SharedCache. See the package documentation for the table.
	Semantics Semantics

	// CanonicalHost, when set, stands for the request's Host in every key,
	// so that a client cannot create entries (and runs of the handler) by
	// sending Host headers of its choice, and so that "localhost" and
	// "127.0.0.1" share entries. Set it to the one name the service is
	// served as, or to any constant to leave the host out of the key. Empty,
	// the default, keys on the Host header, lower-cased.
	CanonicalHost string

	// TargetedField is the response field that speaks to this cache alone
	// (RFC 9213): when present and valid it replaces CDN-Cache-Control,
	// which replaces Surrogate-Control, which replaces Cache-Control (and
	// Expires). Empty means DefaultTargetedField; "-" turns targeted fields
	// off, CDN-Cache-Control and Surrogate-Control included.
	TargetedField string

	// MaxHeuristicFreshness caps the heuristic freshness of SharedCache (a
	// tenth of the time since Last-Modified). Zero means
	// DefaultMaxHeuristicFreshness; negative turns heuristics off.
	MaxHeuristicFreshness time.Duration

	// RevalidationWindow is how long SharedCache keeps a stale response
	// with an ETag or Last-Modified, to revalidate it with If-None-Match or
	// If-Modified-Since. Zero means DefaultRevalidationWindow.
	RevalidationWindow time.Duration

	// OnError, when set, is called when the store fails (a lookup, a write,
	// an unreadable entry) or a background revalidation panics. The request
	// is served anyway: the store is never the reason a request fails.
	OnError func(r *http.Request, err error)

	// CacheBudget bounds the total time one request waits on the cache,
	// over all its store calls (store.WithBudget), so that a stalled Redis
	// costs a request one timeout, not one per call. A budget already in the
	// request's context is kept; a background revalidation gets its own.
	// A hit served from process memory waits on nothing and gets none
	// (store.LocalString): the budget is added when a read goes to Redis.
	// Zero means the cache's OpTimeout; negative turns the budget off.
	CacheBudget time.Duration

	// Logger, when set, receives a warning for the store failures the
	// middleware absorbed (the request was served anyway) and an error for
	// a background revalidation that panicked: at most one record of each
	// kind every store.FailureLogInterval, with the count of those it stood
	// for, so that a Redis that is down does not flood the log. A client's
	// own cancellation is not logged. Nil, the default, logs nothing, like
	// store.Config.Logger; pass slog.Default() for the program's logger.
	// OnError is called either way.
	Logger *slog.Logger

	// Hooks are called for each request, for instrumentation
	// (github.com/emgcache/emgcache/emgotel). The zero value calls nothing
	// and costs nothing.
	Hooks Hooks
}

// config is Options resolved against the defaults and the cache.
type config struct {
	keyFunc          KeyFunc
	keyPrefix        string
	nsPrefix         string
	ttl, swr, sie    time.Duration
	maxBody          int
	maxEntry         int
	statuses         [600]bool // stored heuristically
	explicit         [600]bool // stored only with explicit freshness
	route            string
	maxRevalidations int
	keyHeaders       []string          // canonical, sorted, unique
	bypass           map[string]string // request header → Cache-Status detail of the bypass
	status           statusStrings
	onError          func(*http.Request, error)
	semantics        Semantics
	host             string
	targeted         []string // most specific first, canonical
	heuristic        httpcache.Heuristic
	revalidate       time.Duration
	budget           time.Duration // 0: none
	hooks            Hooks
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
		keyFunc:    opts.KeyFunc,
		keyPrefix:  opts.KeyPrefix,
		nsPrefix:   opts.NamespacePrefix,
		ttl:        opts.TTL,
		swr:        opts.StaleWhileRevalidate,
		sie:        opts.StaleIfError,
		maxEntry:   cache.Config().MaxEntryBytes,
		onError:    opts.OnError,
		semantics:  opts.Semantics,
		host:       strings.ToLower(opts.CanonicalHost),
		revalidate: opts.RevalidationWindow,
		hooks:      opts.Hooks,
	}
	if opts.Semantics != OwnedHandler && opts.Semantics != SharedCache {
		panic(fmt.Sprintf("middleware: unknown Semantics %d", opts.Semantics))
	}
	switch opts.TargetedField {
	case "-":
	case "":
		c.targeted = []string{DefaultTargetedField, httpcache.CDNCacheControl, httpcache.SurrogateControl}
	default:
		c.targeted = []string{canonicalHeader("TargetedField", opts.TargetedField), httpcache.CDNCacheControl, httpcache.SurrogateControl}
	}
	switch {
	case opts.MaxHeuristicFreshness < 0:
	case opts.MaxHeuristicFreshness == 0:
		c.heuristic = httpcache.Heuristic{Fraction: httpcache.DefaultHeuristicFraction, Max: DefaultMaxHeuristicFreshness}
	default:
		c.heuristic = httpcache.Heuristic{Fraction: httpcache.DefaultHeuristicFraction, Max: opts.MaxHeuristicFreshness}
	}
	if c.revalidate < 0 {
		panic(fmt.Sprintf("middleware: negative RevalidationWindow %v", c.revalidate))
	}
	if c.revalidate == 0 {
		c.revalidate = DefaultRevalidationWindow
	}
	switch {
	case opts.CacheBudget == 0:
		c.budget = cache.Config().OpTimeout
	case opts.CacheBudget > 0:
		c.budget = opts.CacheBudget
	}
	if c.keyFunc == nil {
		c.keyFunc = fileHashValue
	}
	if c.keyPrefix == "" {
		c.keyPrefix = DefaultKeyPrefix
	}
	if len(c.keyPrefix) > maxPrefix {
		panic(fmt.Sprintf("middleware: KeyPrefix of %d bytes, over %d", len(c.keyPrefix), maxPrefix))
	}
	if c.nsPrefix == "" {
		c.nsPrefix = DefaultNamespacePrefix
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
		statuses = defaultStatuses
		for _, s := range cacheableStatuses {
			c.explicit[s] = true
		}
	}
	for _, s := range statuses {
		if !slices.Contains(cacheableStatuses, s) {
			panic(fmt.Sprintf("middleware: status %d is not heuristically cacheable (RFC 9110 §15.1)", s))
		}
		c.statuses[s] = true
	}
	c.route = opts.Route
	switch {
	case opts.MaxRevalidations < 0:
		panic(fmt.Sprintf("middleware: negative MaxRevalidations %d", opts.MaxRevalidations))
	case opts.MaxRevalidations == 0:
		c.maxRevalidations = DefaultMaxRevalidations
	default:
		c.maxRevalidations = opts.MaxRevalidations
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
	credentials := credentialHeaders
	if c.semantics == SharedCache {
		// RFC 9111 §3.5 decides per response whether one to Authorization
		// may be stored.
		credentials = slices.DeleteFunc(slices.Clone(credentials), func(h string) bool { return h == "Authorization" })
	}
	for _, h := range append(slices.Clone(credentials), bypass...) {
		h = canonicalHeader("BypassHeaders", h)
		if !slices.Contains(c.keyHeaders, h) {
			c.bypass[h] = detailHeader
		}
	}

	name := opts.Name
	if name == "" {
		name = DefaultName
	}
	if !httpcache.IsToken(name) || !isAlpha(name[0]) && name[0] != '*' {
		panic(fmt.Sprintf("middleware: Name %q is not an HTTP token", name))
	}
	c.status = newStatusStrings(name)
	return c
}

// canonicalHeader checks that h is a header name and returns its canonical
// form, which is how net/http keys request headers.
func canonicalHeader(field, h string) string {
	if !httpcache.IsToken(h) {
		panic(fmt.Sprintf("middleware: %s: %q is not a header name", field, h))
	}
	return http.CanonicalHeaderKey(h)
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
