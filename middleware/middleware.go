package middleware

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/emgcache/emgcache/internal/clock"
	"github.com/emgcache/emgcache/internal/ratelog"
	"github.com/emgcache/emgcache/middleware/internal/httpcache"
	"github.com/emgcache/emgcache/store"
)

// New returns a middleware that serves GET and HEAD requests from cache and
// stores the handler's cacheable responses. See the package documentation
// for what is stored and when the cache is bypassed. New panics if cache
// is nil or opts is invalid; the returned function panics if given a nil
// handler. It is NewResponseCache(cache, opts).Handler, for callers that need
// neither Invalidate, Stats nor Close.
func New(cache *store.Cache, opts Options) func(http.Handler) http.Handler {
	return NewResponseCache(cache, opts).Handler
}

// ResponseCache is one response cache: its configuration, its flights, its
// counters and its background revalidations, shared by every handler it
// wraps. Create it with NewResponseCache; it is safe for concurrent use.
type ResponseCache struct {
	cache   *store.Cache
	cfg     config
	now     func() time.Time
	flights flightGroup
	stats   counters
	keys    *keyMemo
	entries *entryMemo
	bg      background
	flog    *ratelog.Logger // nil without Options.Logger
	// published, if set, runs in a fill between publishing its response to
	// the waiters and writing it to the store: a hook for tests.
	published func()
}

// NewResponseCache is New returning the ResponseCache itself, whose Invalidate
// a service calls when data changes, and whose Stats and Close it wires to
// its metrics and its shutdown. It panics like New.
func NewResponseCache(cache *store.Cache, opts Options) *ResponseCache {
	// The age of a stored response needs no more than a millisecond: the
	// clock of the store's memory reads, which costs a hit no clock read.
	return newResponseCache(cache, opts, clock.Now)
}

func newResponseCache(cache *store.Cache, opts Options, now func() time.Time) *ResponseCache {
	m := &ResponseCache{cache: cache, cfg: newConfig(cache, opts), now: now, keys: newKeyMemo(), entries: newEntryMemo()}
	if m.flog = ratelog.New(opts.Logger, store.FailureLogInterval); m.flog != nil {
		m.flog.Now = now
	}
	m.bg.slots = make(chan struct{}, m.cfg.maxRevalidations)
	return m
}

// Handler wraps next. It panics if next is nil.
func (m *ResponseCache) Handler(next http.Handler) http.Handler {
	if next == nil {
		panic("middleware: nil handler")
	}
	h := &handler{m: m, next: next}
	if m.cfg.hooks.Request != nil {
		return &observedHandler{h: h}
	}
	return h
}

type handler struct {
	m    *ResponseCache
	next http.Handler
}

// lookupResult is what the store holds for a request.
type lookupResult struct {
	// entry is the stored response, possibly stale; nil on a miss.
	entry *entry
	// fwd says why the request goes to the handler if it does.
	fwd string
	// key is where the response for this request is, or would be, stored:
	// the base key, or a variant key under a vary record.
	key string
	// record is the base key's vary record, if it holds one.
	record *varyRecord
	// unreadable: the store held a value this version cannot decode.
	unreadable bool
	// prior is the stored response the fill revalidates: its validators go
	// into the request, and a 304 freshens it (RFC 9111 §4.3).
	prior *entry
}

// noRequestDirectives are those of a request without Cache-Control or
// Pragma, the common case, which is not parsed.
var noRequestDirectives = httpcache.Request{MaxAge: httpcache.Absent, MinFresh: httpcache.Absent, MaxStale: httpcache.Absent}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := h.m
	// The request's cache budget bounds the middleware's store calls and
	// the handler's. It is made on first need (cb.context): a hit served
	// from process memory waits on nothing and needs none, and only a
	// request that goes to the handler is cloned to carry it.
	cb := requestBudget{r: r, d: m.cfg.budget}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.serveOtherMethod(w, cb.request())
		return
	}
	if detail := m.cfg.bypassReason(r); detail != "" {
		h.bypass(w, cb.request(), detail)
		return
	}
	k, storeUp, ok := m.key(&cb)
	if !ok {
		h.bypass(w, cb.request(), detailKey)
		return
	}
	if !storeUp {
		// Without the namespace's version there is no key to read nor to
		// write: the handler answers, collapsed with concurrent requests.
		h.forward(w, cb.request(), &k, lookupResult{fwd: fwdMiss, key: k.base}, nil, true)
		return
	}
	rd := noRequestDirectives
	if len(r.Header["Cache-Control"]) > 0 || len(r.Header["Pragma"]) > 0 {
		rd = httpcache.ParseRequest(r.Header)
	}
	switch {
	case rd.NoStore:
		h.bypass(w, cb.request(), detailNoStore)
		return
	case rd.NoCache:
		// Nothing stored is served without asking the handler (RFC 9111
		// §5.2.1.4), but a stored response's validators let it answer 304.
		lk := m.lookup(&cb, &k, true)
		if lk.fwd != fwdMiss {
			lk.fwd = fwdRequest
		}
		lk.prior = lk.entry
		h.forward(w, cb.request(), &k, lk, nil, false)
		return
	}

	lk := m.lookup(&cb, &k, true)
	var stale *entry
	if e := lk.entry; e != nil {
		age := m.age(e)
		switch m.use(rd, e, age) {
		case httpcache.UseFresh:
			m.stats.hits.Add(1)
			m.serveEntry(w, r, e, m.hitValues(e, age))
			return
		case httpcache.UseStale:
			m.stats.stale.Add(1)
			m.serveEntry(w, r, e, ownValues(age, m.cfg.status.hit(e.fresh-age, detailMaxStale)))
			return
		}
		switch {
		case age < e.fresh:
			// Fresh, but not fresh enough for the request's max-age or
			// min-fresh.
			lk.fwd = fwdRequest
		case age < e.fresh+e.swr && rd.MaxAge == httpcache.Absent && rd.MinFresh == httpcache.Absent:
			m.stats.stale.Add(1)
			m.serveEntry(w, r, e, ownValues(age, m.cfg.status.hit(e.fresh-age, detailSWR)))
			h.revalidate(r, k, lk, e)
			return
		default:
			lk.fwd = fwdStale
			if age < e.fresh+e.sie {
				stale = e
			}
		}
		lk.prior = e
	}
	if rd.OnlyIfCached {
		// RFC 9111 §5.2.1.7: nothing stored may answer, and the origin must
		// not be asked.
		m.stats.misses.Add(1)
		m.gatewayTimeout(w, lk.fwd)
		return
	}
	h.forward(w, cb.request(), &k, lk, stale, true)
}

// requestBudget is a request's context with its cache budget, made on
// first need.
type requestBudget struct {
	r     *http.Request
	d     time.Duration // the budget to add; 0 for none
	ctx   context.Context
	added bool // ctx is r's context with a budget added
	made  bool
}

// context returns the request's context with its cache budget: r's own if
// it carries one already or the budget is off, else r's with one added.
func (cb *requestBudget) context() context.Context {
	if !cb.made {
		cb.made, cb.ctx = true, cb.r.Context()
		if _, ok := store.BudgetLeft(cb.ctx); !ok && cb.d > 0 {
			cb.ctx, cb.added = store.WithBudget(cb.ctx, cb.d), true
		}
	}
	return cb.ctx
}

// request returns the request with the context of context.
func (cb *requestBudget) request() *http.Request {
	if ctx := cb.context(); cb.added {
		return cb.r.WithContext(ctx)
	}
	return cb.r
}

// budgeted is a requestBudget for r that carries its budget already.
func budgeted(r *http.Request) *requestBudget {
	return &requestBudget{r: r, ctx: r.Context(), made: true}
}

// age is the current age of a stored response (RFC 9111 §4.2.3): its
// storedAt is its arrival time less the age it already had then.
func (m *ResponseCache) age(e *entry) time.Duration { return max(m.now().Sub(e.storedAt), 0) }

// use applies RFC 9111 §4.2 to a stored response for a request with
// directives rd. Whether the response forbids stale use (must-revalidate
// and the like) only matters to a request with max-stale, the only way to
// be served a stale response here besides the stale-* windows, which the
// entry's lifetime already closed for such responses; so its directives
// are only read then.
func (m *ResponseCache) use(rd httpcache.Request, e *entry, age time.Duration) httpcache.Use {
	forbidden := false
	if rd.MaxStale != httpcache.Absent {
		h := make(http.Header, len(m.cfg.targeted)+1)
		for _, name := range append([]string{"Cache-Control"}, m.cfg.targeted...) {
			if vs := e.get(name); vs != nil {
				h[name] = vs
			}
		}
		d, _ := httpcache.Directives(h, m.cfg.targeted)
		forbidden = httpcache.StaleForbidden(d)
	}
	return httpcache.Reusable(rd, e.fresh, age, forbidden)
}

// gatewayTimeout answers a request with only-if-cached that the cache
// cannot: 504, as RFC 9111 §5.2.1.7 says.
func (m *ResponseCache) gatewayTimeout(w http.ResponseWriter, fwd string) {
	dst := w.Header()
	dst["Content-Type"] = []string{"application/json"}
	addStatus(dst, m.cfg.status.forward(fwd, 0, false, false, detailOnlyIfCached))
	w.WriteHeader(http.StatusGatewayTimeout)
	_, _ = io.WriteString(w, `{"error":"not in cache and only-if-cached"}`+"\n")
}

// key returns the base key of r, or false when r cannot be cached: an
// empty KeyFunc value, or a query that cannot be normalised. storeUp is
// false when the namespace's version could not be read; the key then
// serves only to collapse concurrent requests and is never written.
func (m *ResponseCache) key(cb *requestBudget) (k requestKey, storeUp, ok bool) {
	r := cb.r
	v := m.cfg.keyFunc(r)
	if v == "" {
		return requestKey{}, false, false
	}
	// The memo's input: the KeyFunc value, then the base input, which
	// alone goes into the digest.
	var stack [512]byte
	in := appendField(stack[:0], v)
	n := len(in)
	in, ok = appendBaseInput(in, r, m.cfg.keyHeaders, m.cfg.host)
	if !ok {
		return requestKey{}, false, false
	}
	slot := m.keys.slot(in)
	memo := slot.Load()
	if memo != nil && memo.input != string(in) {
		memo = nil
	}
	// The group and the namespace hold v as keys do (appendValue), which
	// for a value that is not plain takes a SHA-256: made once on a miss of
	// the memo, taken from the remembered key otherwise.
	var gb [maxGroup]byte
	var group []byte
	var ns string
	if memo != nil {
		ns = memo.key.ns
	} else if group, ns, ok = m.cfg.groupFor(gb[:0], v); !ok {
		return requestKey{}, false, false
	}
	version, err := m.cache.LocalNamespaceVersion(ns)
	if errors.Is(err, store.ErrNotLocal) {
		version, err = m.cache.NamespaceVersion(cb.context(), ns)
	}
	if err != nil {
		m.report(r, fmt.Errorf("middleware: read version of %s: %w", ns, err))
	}
	if memo != nil {
		if memo.key.version == version {
			return memo.key, err == nil, true
		}
		group = append(gb[:0], memo.key.group()...)
	}
	k = keyFromBaseInput(group, ns, version, in[n:])
	slot.Store(&memoKey{input: string(in), key: k})
	return k, err == nil, true
}

// bypassReason says why r must not be served from nor stored in the cache,
// or "" when it may be. It walks whichever of the request's headers and the
// bypass set is smaller: a request has a handful of headers, the set a
// dozen names.
func (c *config) bypassReason(r *http.Request) string {
	if len(r.Header) <= len(c.bypass) {
		for name := range r.Header {
			if detail, ok := c.bypass[name]; ok {
				return detail
			}
		}
		return ""
	}
	for name, detail := range c.bypass {
		if _, ok := r.Header[name]; ok {
			return detail
		}
	}
	return ""
}

// bypass sends r to the handler, untouched and uncached.
func (h *handler) bypass(w http.ResponseWriter, r *http.Request, detail string) {
	h.m.stats.bypasses.Add(1)
	dst := w.Header()
	if len(dst[headerCacheStatus]) == 0 {
		// Shared by every bypassed response; its len == cap, so an append
		// by the handler copies it.
		dst[headerCacheStatus] = h.m.cfg.status.bypass[detail]
	} else {
		addStatus(dst, h.m.cfg.status.bypass[detail][0])
	}
	h.next.ServeHTTP(w, r)
}

// lookup reads what the store holds for k: an entry at the base key, or a
// vary record there and an entry at the variant key for r's headers. A
// store failure or an unreadable value is a miss. counted makes the base
// read count in the store's hits and misses: one counted read per request,
// whatever the lookup takes, so the store's numbers describe the requests
// and the middleware's own Stats say what became of them.
func (m *ResponseCache) lookup(cb *requestBudget, k *requestKey, counted bool) lookupResult {
	r := cb.r
	lk := lookupResult{fwd: fwdURIMiss, key: k.base}
	var v string
	var err error
	if counted {
		if v, err = m.cache.LocalString(k.base); errors.Is(err, store.ErrNotLocal) {
			v, err = m.cache.GetString(cb.context(), k.base)
		}
	} else {
		v, err = m.cache.Uncounted().GetString(cb.context(), k.base)
	}
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			m.report(r, fmt.Errorf("middleware: lookup: %w", err))
			lk.fwd = fwdMiss
		}
		return lk
	}
	if len(v) > 0 && v[0] == kindVary {
		rec, err := m.entries.decodeVary(k.base, v)
		if err != nil {
			m.report(r, fmt.Errorf("middleware: lookup %s: %w", k.base, err))
			lk.unreadable = true
			return lk
		}
		lk.fwd, lk.key, lk.record = fwdVaryMiss, variantKey(k, rec, r.Header), rec
		if v, err = m.cache.Uncounted().GetString(cb.context(), lk.key); err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				m.report(r, fmt.Errorf("middleware: lookup: %w", err))
				lk.fwd = fwdMiss
			}
			return lk
		}
	}
	e, err := m.entries.decode(lk.key, v)
	if err != nil {
		m.report(r, fmt.Errorf("middleware: lookup %s: %w", lk.key, err))
		lk.unreadable = true
		return lk
	}
	lk.entry = e
	return lk
}

// serveEntry writes a stored response to w, or a 304 when r's
// preconditions allow. Every header value slice of e is shared between
// requests; it is capped (len == cap), so an append by another layer
// copies it instead of writing into it.
// own holds the response's Age and this cache's Cache-Status (ownValues,
// hitValues).
func (m *ResponseCache) serveEntry(w http.ResponseWriter, r *http.Request, e *entry, own []string) {
	dst := w.Header()
	status := e.status
	if _, ranged := r.Header["Range"]; ranged && status == http.StatusOK {
		m.serveContent(w, r, e, own)
		return
	}
	if notModified(r.Header, e) {
		status = http.StatusNotModified
		for _, name := range notModifiedHeaders {
			if vs := e.get(name); vs != nil {
				dst[name] = vs
			}
		}
	} else {
		for i := range e.headers {
			dst[e.headers[i].name] = e.headers[i].values
		}
	}
	setAgeAndStatus(dst, own)
	w.WriteHeader(status)
	if status != http.StatusNotModified && r.Method != http.MethodHead && len(e.body) > 0 {
		// One Write of the stored bytes themselves: io.WriteString would
		// send a large body through net/http's 2 KiB buffer piece by
		// piece, where a Write larger than the buffer goes to the
		// connection at once; and converting the string would copy it.
		// io.Writer's contract forbids Write to modify p, so the shared
		// immutable string is safe to hand out as a slice.
		_, _ = w.Write(unsafe.Slice(unsafe.StringData(e.body), len(e.body)))
	}
}

// serveContent answers a Range request from a stored complete 200 with
// http.ServeContent, which also evaluates every precondition (If-Range,
// If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since) against
// the stored ETag and Last-Modified: 206 for a satisfiable range, 416
// otherwise, 200 when If-Range does not match.
func (m *ResponseCache) serveContent(w http.ResponseWriter, r *http.Request, e *entry, own []string) {
	dst := w.Header()
	for i := range e.headers {
		dst[e.headers[i].name] = e.headers[i].values
	}
	// ServeContent writes its own Last-Modified from the time it is given.
	var modified time.Time
	if lm := e.get("Last-Modified"); len(lm) == 1 {
		modified, _ = httpcache.ParseHTTPDate(lm[0])
	}
	setAgeAndStatus(dst, own)
	http.ServeContent(w, r, "", modified, strings.NewReader(e.body))
}

// ownValues returns the Age (RFC 9111 §5.1) of a response of age age and
// this cache's Cache-Status for it, in one allocation.
func ownValues(age time.Duration, cacheStatus string) []string {
	return []string{strconv.FormatInt(httpcache.AgeSeconds(age), 10), cacheStatus}
}

// hitValues is ownValues for a fresh hit on e. Every hit on e within the
// same second has the same Age and ttl, so the values are built once per
// second and shared: they are handed out capped (len == cap), so that an
// append by another layer copies them.
func (m *ResponseCache) hitValues(e *entry, age time.Duration) []string {
	a, ttl := httpcache.AgeSeconds(age), seconds(e.fresh-age)
	if hv := e.hitValues.Load(); hv != nil && hv.age == a && hv.ttl == ttl && hv.owner == m {
		return hv.values[:]
	}
	hv := &hitValues{owner: m, age: a, ttl: ttl}
	hv.values[0], hv.values[1] = strconv.FormatInt(a, 10), m.cfg.status.hit(e.fresh-age, "")
	e.hitValues.Store(hv)
	return hv.values[:]
}

// hitValues are the Age and Cache-Status values hits on an entry share.
type hitValues struct {
	owner    *ResponseCache // whose Cache-Status name the values carry
	age, ttl int64
	values   [2]string
}

// setAgeAndStatus sets Age and adds this cache's Cache-Status, both from
// own.
func setAgeAndStatus(dst http.Header, own []string) {
	dst["Age"] = own[0:1:1]
	if prior := dst[headerCacheStatus]; len(prior) == 0 {
		dst[headerCacheStatus] = own[1:2:2]
	} else {
		addStatus(dst, own[1])
	}
}

// forward sends a GET or HEAD the cache cannot answer to the handler. A
// GET goes through a fill: shared with concurrent requests for the same
// key when shared is set, stored if the response allows. stale, if set, is
// the stored response to serve instead should the handler fail.
func (h *handler) forward(w http.ResponseWriter, r *http.Request, k *requestKey, lk lookupResult, stale *entry, shared bool) {
	m := h.m
	_, ranged := r.Header["Range"]
	if r.Method == http.MethodHead || ranged {
		// A HEAD response has no body to store, and a partial response
		// is not the response; both go to the handler as they are.
		detail := ""
		if ranged {
			detail = detailRange
		}
		m.stats.misses.Add(1)
		addStatus(w.Header(), m.cfg.status.forward(lk.fwd, 0, false, false, detail))
		h.next.ServeHTTP(w, r)
		return
	}
	if !shared {
		m.stats.misses.Add(1)
		h.fill(w, r, k, lk, stale, nil)
		return
	}
	f, leader := m.flights.Join(lk.key)
	if leader {
		// The flight this request missed may have ended between its lookup
		// and now, its response stored: look again before running the
		// handler a second time. The request's counted read was the first.
		if lk.fwd != fwdMiss && lk.fwd != fwdRequest && !lk.unreadable {
			if again := m.lookup(budgeted(r), k, false); again.entry != nil {
				e := again.entry
				if age := max(m.now().Sub(e.storedAt), 0); age < e.fresh {
					f.Publish(sharedResult(e, r, fillResult{hit: true}))
					m.flights.Leave(f)
					m.stats.hits.Add(1)
					m.serveEntry(w, r, e, m.hitValues(e, age))
					return
				}
			}
		}
		m.stats.misses.Add(1)
		h.fill(w, r, k, lk, stale, f)
		return
	}
	res, err := f.Wait(r.Context())
	if err != nil {
		return
	}
	if !res.sharesWith(r.Header) {
		m.stats.misses.Add(1)
		h.fill(w, r, k, lk, stale, nil)
		return
	}
	e := res.entry
	age := max(m.now().Sub(e.storedAt), 0)
	if !res.stale && age >= e.fresh {
		// Published so long ago that it went stale.
		m.stats.misses.Add(1)
		h.fill(w, r, k, lk, stale, nil)
		return
	}
	// The response came from another request's fill, in memory, not from
	// the store (RFC 9211 §2.2: collapsed), unless that request found it
	// in the store after all.
	switch {
	case res.hit:
		m.stats.hits.Add(1)
		m.serveEntry(w, r, e, m.hitValues(e, age))
	case res.stale:
		m.stats.stale.Add(1)
		m.serveEntry(w, r, e, ownValues(age, m.cfg.status.forward(fwdStale, res.fwdStatus, false, true, detailSIE)))
	default:
		m.stats.collapsed.Add(1)
		m.serveEntry(w, r, e, ownValues(m.age(e), m.cfg.status.forward(res.fwd, res.fwdStatus, res.stored, true, "")))
	}
}

// fill runs the handler for a GET, serves its response to w (nil for a
// background revalidation) and stores it if it may be. As the leader of
// flight f (nil when alone) it publishes the response to the waiters as
// soon as it is known, and leaves the flight only once the response is in
// the store, so that requests arriving meanwhile are served from memory.
func (h *handler) fill(w http.ResponseWriter, r *http.Request, k *requestKey, lk lookupResult, stale *entry, f *fillFlight) {
	m := h.m
	if f != nil {
		// Also on a panic of the handler: its waiters run it themselves.
		defer func() {
			f.Publish(notShared)
			m.flights.Leave(f)
		}()
	}
	publish := func(res *fillResult) {
		if f != nil {
			f.Publish(res)
		}
	}
	// After a failed lookup the store is down: leave it alone.
	storeUp := lk.fwd != fwdMiss

	onPass := func(status int) string {
		publish(notShared)
		return m.cfg.status.forward(lk.fwd, status, false, false, "")
	}
	rec := newRecorder(w, m.cfg.maxBody, onPass)
	defer func() { rec.release() }()
	start := m.now()
	h.next.ServeHTTP(rec, fillRequest(r, lk.prior))
	if lk.prior != nil && !rec.passing && rec.status == http.StatusNotModified &&
		!httpcache.Freshens(entryHeader(lk.prior, "Etag", "Last-Modified"), rec.sent) {
		// The 304 is about another response than the stored one (RFC 9111
		// §4.3.4): it updates nothing, and the client did not ask for it.
		// Ask again, unconditionally.
		rec.release()
		rec, lk.prior = newRecorder(w, m.cfg.maxBody, onPass), nil
		start = m.now()
		h.next.ServeHTTP(rec, fillRequest(r, nil))
	}
	if rec.passing {
		if w != nil {
			rec.copyTrailers(w.Header())
		}
		return
	}
	status, hdr, trailers := rec.finish()
	now := m.now()
	body, revalidated := rec.body, false
	if status == http.StatusNotModified && lk.prior != nil {
		// The handler confirmed the stored response (RFC 9111 §4.3.3): it
		// is stored again, with the 304's fields merged in (§4.3.4).
		if merged, ok := freshen(lk.prior, hdr, now); ok {
			status, hdr, body, revalidated = lk.prior.status, merged, []byte(lk.prior.body), true
		}
	}

	if stale != nil && errorStatus(status) && now.Sub(stale.storedAt) < stale.fresh+stale.sie {
		publish(&fillResult{entry: stale, stale: true, fwd: fwdStale, fwdStatus: status})
		if w != nil {
			// Counted as a miss when it went to the handler, and as stale
			// for what it was served.
			m.stats.stale.Add(1)
			m.stats.staleMisses.Add(1)
			m.serveEntry(w, r, stale, ownValues(max(now.Sub(stale.storedAt), 0), m.cfg.status.forward(fwdStale, status, false, false, detailSIE)))
		}
		return
	}
	plan, ok := m.cfg.storeFor(r, status, hdr, start, now)
	if !ok || trailers {
		publish(notShared)
		if w == nil {
			return
		}
		cs := m.cfg.status.forward(lk.fwd, rec.status, false, false, "")
		if !revalidated {
			rec.writeTo(w, cs)
			return
		}
		// The client did not ask for the 304; it gets the response the 304
		// confirmed, which its new fields made unstorable.
		var e entry
		if decodeEntry(string(encodeEntry(status, hdr, body, now, lifetime{})), &e) == nil {
			m.serveEntry(w, r, &e, ownValues(0, cs))
		}
		return
	}
	for _, name := range plan.strip {
		delete(hdr, name)
	}
	life := plan.life
	raw := encodeEntry(status, hdr, body, now.Add(-plan.initialAge), life)
	// Everyone is served the decoded stored form, exactly what later hits
	// will see.
	e := new(entry)
	if err := decodeEntry(string(raw), e); err != nil {
		// Cannot happen; if it did, the response is served as it is.
		m.report(r, fmt.Errorf("middleware: encode entry: %w", err))
		publish(notShared)
		if w != nil {
			rec.writeTo(w, m.cfg.status.forward(lk.fwd, status, false, false, ""))
		}
		return
	}
	stored := storeUp && len(raw) <= m.cfg.maxEntry
	res := sharedResult(e, r, fillResult{stored: stored, fwd: lk.fwd, fwdStatus: rec.status})
	names := res.varyNames
	publish(res)
	if m.published != nil {
		m.published()
	}
	if w != nil {
		m.serveEntry(w, r, e, ownValues(m.age(e), m.cfg.status.forward(lk.fwd, rec.status, stored, false, "")))
		// The client need not wait for the store.
		_ = http.NewResponseController(w).Flush()
	}
	if !stored {
		return
	}
	ctx := context.WithoutCancel(r.Context())
	// An invalidation since the key was made replaced the namespace's
	// version: the key is orphaned already, and writing the response there
	// would only take memory. A write that lands between this check and an
	// invalidation is orphaned just the same.
	if cur, err := m.cache.NamespaceVersion(ctx, k.ns); err != nil || cur != k.version {
		if err != nil {
			m.report(r, fmt.Errorf("middleware: read version of %s: %w", k.ns, err))
		}
		return
	}
	ttl := e.storedAt.Add(life.fresh + max(life.swr, life.sie) + life.keep).Sub(now)
	if ttl < time.Millisecond {
		return
	}
	m.put(ctx, r, k, lk.record, names, raw, ttl)
}

// sharedResult completes res to share the stored response e, which
// answers r, with the requests waiting for it.
func sharedResult(e *entry, r *http.Request, res fillResult) *fillResult {
	res.entry = e
	res.varyNames, _ = httpcache.ParseVary(e.get("Vary"))
	for _, name := range res.varyNames {
		res.varyValues = append(res.varyValues, slices.Clone(r.Header[name]))
	}
	return &res
}

// put writes an entry: at the base key when the response has no Vary, at
// its variant key otherwise, with a new vary record if the URI has none or
// one that names other headers.
func (m *ResponseCache) put(ctx context.Context, r *http.Request, k *requestKey, rec *varyRecord, names []string, raw []byte, ttl time.Duration) {
	if len(names) == 0 {
		if err := m.cache.Set(ctx, k.base, raw, ttl); err != nil {
			m.report(r, fmt.Errorf("middleware: store: %w", err))
		}
		return
	}
	items := make([]store.Item, 0, 2)
	if rec == nil || !slices.Equal(rec.names, names) {
		rec = m.currentRecord(ctx, k, names)
	}
	if rec == nil {
		rec = &varyRecord{names: names}
		_, _ = rand.Read(rec.nonce[:])
		// The record outlives its variants, or they are lost with it.
		recTTL := max(ttl, m.cfg.ttl+max(m.cfg.swr, m.cfg.sie))
		items = append(items, store.Item{Key: k.base, Value: appendVaryRecord(nil, rec), TTL: recTTL})
	}
	items = append(items, store.Item{Key: variantKey(k, rec, r.Header), Value: raw, TTL: ttl})
	for _, err := range m.cache.SetMany(ctx, items) {
		if err != nil {
			m.report(r, fmt.Errorf("middleware: store: %w", err))
		}
	}
}

// currentRecord returns the vary record at k's base key if it names
// exactly names. A concurrent fill of another variant may have written it
// since the lookup; writing a new one would orphan that fill's variant.
func (m *ResponseCache) currentRecord(ctx context.Context, k *requestKey, names []string) *varyRecord {
	v, err := m.cache.Uncounted().GetString(ctx, k.base)
	if err != nil || len(v) == 0 || v[0] != kindVary {
		return nil
	}
	rec := new(varyRecord)
	if decodeVaryRecord(v, rec) != nil || !slices.Equal(rec.names, names) {
		return nil
	}
	return rec
}

// revalidate refreshes a stale entry in the background
// (stale-while-revalidate), unless a flight for its key is already running,
// Options.MaxRevalidations are, or Close was called: the stale response was
// served either way, and a later request revalidates.
func (h *handler) revalidate(r *http.Request, k requestKey, lk lookupResult, stale *entry) {
	if !h.m.bg.acquire() {
		return
	}
	f, leader := h.m.flights.Join(lk.key)
	if !leader {
		h.m.bg.release()
		return
	}
	// The request outlives its handler; it keeps the context's values but
	// not its cancellation, and has a cache budget of its own.
	bg := r.Clone(store.WithBudget(context.WithoutCancel(r.Context()), h.m.cfg.budget))
	bg.Method = http.MethodGet // a HEAD's response has no body to store
	bg.Body = http.NoBody
	for _, name := range append(conditionalHeaders, "Range", "If-Range") {
		delete(bg.Header, name)
	}
	lk.fwd, lk.prior = fwdStale, stale
	go func() {
		defer h.m.bg.release()
		defer func() {
			// Nobody would recover a panic on this goroutine: it would end
			// the process.
			if p := recover(); p != nil && p != http.ErrAbortHandler {
				h.m.reportAs(bg, opRevalidate, fmt.Errorf("middleware: revalidate: handler panicked: %v", p))
			}
		}()
		h.fill(nil, bg, &k, lk, stale, f)
	}()
}

// serveOtherMethod passes a request that is neither GET nor HEAD to the
// handler. A successful unsafe method (POST, PUT, DELETE, PATCH...)
// invalidates the stored responses of its URI (RFC 9111 §4.4), and more:
// every response of its KeyFunc value, by giving the value's
// namespace a new version, as Invalidate does. A fill that began before it
// computed its key under the old version, so whatever it stores is never
// served, and a request that arrives after it makes a new key and cannot
// join that fill.
func (h *handler) serveOtherMethod(w http.ResponseWriter, r *http.Request) {
	m := h.m
	m.stats.bypasses.Add(1)
	addStatus(w.Header(), m.cfg.status.method)
	if r.Method == http.MethodOptions || r.Method == http.MethodTrace {
		h.next.ServeHTTP(w, r)
		return
	}
	sw := &statusRecorder{ResponseWriter: w}
	h.next.ServeHTTP(sw, r)
	if sw.status >= 400 {
		return
	}
	var spaces []string
	if ns, ok := m.cfg.namespaceFor(m.cfg.keyFunc(r)); ok {
		spaces = append(spaces, ns)
	}
	// RFC 9111 §4.4 lets a cache also invalidate the URIs in Location and
	// Content-Location, but only on the same host, so that a response
	// cannot make the cache drop another site's entries.
	for _, name := range []string{"Location", "Content-Location"} {
		if u := sameHostURI(r, w.Header().Get(name)); u != nil {
			other := r.Clone(r.Context())
			other.URL, other.RequestURI = u, u.RequestURI()
			if ns, ok := m.cfg.namespaceFor(m.cfg.keyFunc(other)); ok && !slices.Contains(spaces, ns) {
				spaces = append(spaces, ns)
			}
		}
	}
	for _, ns := range spaces {
		if err := m.cache.InvalidateNamespace(context.WithoutCancel(r.Context()), ns); err != nil {
			m.report(r, fmt.Errorf("middleware: invalidate after %s: %w", r.Method, err))
		}
	}
}

// sameHostURI resolves a Location or Content-Location value against r's
// URL, or returns nil when it is empty, invalid or on another host.
func sameHostURI(r *http.Request, ref string) *url.URL {
	if ref == "" {
		return nil
	}
	u, err := r.URL.Parse(ref)
	if err != nil || u.Host != "" && !strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	u.Scheme, u.Host = "", ""
	return u
}

// fillRequest is r without the preconditions the cache evaluates itself,
// so that the handler produces the full response; when prior, the stored
// response being revalidated, has validators, they replace the client's
// (RFC 9111 §4.3.1), so that the handler may answer 304.
func fillRequest(r *http.Request, prior *entry) *http.Request {
	var validators http.Header
	if prior != nil {
		validators = httpcache.ValidatorsFor(entryHeader(prior, "Etag", "Last-Modified"))
	}
	clean := len(validators) == 0
	for _, name := range conditionalHeaders {
		if _, ok := r.Header[name]; ok {
			clean = false
		}
	}
	if clean {
		return r
	}
	r = r.Clone(r.Context())
	for _, name := range conditionalHeaders {
		delete(r.Header, name)
	}
	for name, vs := range validators {
		r.Header[name] = vs
	}
	return r
}

// freshen returns the header of prior updated by a 304's header h304, or
// false when the 304 is not about prior (RFC 9111 §4.3.4). A 304 without a
// Date gets the time it arrived, as RFC 9110 §6.6.1 lets a recipient do:
// the stored Date would otherwise make the freshened response as old as the
// first one.
func freshen(prior *entry, h304 http.Header, arrived time.Time) (http.Header, bool) {
	if len(h304["Date"]) == 0 {
		h304["Date"] = []string{httpcache.FormatHTTPDate(arrived)}
	}
	stored := make(http.Header, len(prior.headers))
	for _, hd := range prior.headers {
		stored[hd.name] = hd.values
	}
	if !httpcache.Freshens(stored, h304) {
		return nil, false
	}
	return httpcache.Merge(stored, h304), true
}

// entryHeader returns the named fields of e as a header.
func entryHeader(e *entry, names ...string) http.Header {
	h := make(http.Header, len(names))
	for _, name := range names {
		if vs := e.get(name); vs != nil {
			h[name] = vs
		}
	}
	return h
}

func (m *ResponseCache) report(r *http.Request, err error) { m.reportAs(r, opStore, err) }
