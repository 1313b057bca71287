package middleware

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// The kinds of failure Options.Logger rate-limits separately.
const (
	opStore      = "store"      // a store failure a request absorbed
	opRevalidate = "revalidate" // a background revalidation that panicked
)

// reportAs hands a failure to Options.OnError and Options.Logger; op says
// which kind it is.
func (m *ResponseCache) reportAs(r *http.Request, op string, err error) {
	if errors.Is(err, context.Canceled) {
		// The client went away; the store did nothing wrong.
		return
	}
	if m.cfg.onError != nil {
		m.cfg.onError(r, err)
	}
	if m.flog == nil {
		return
	}
	level, msg := slog.LevelWarn, "store failure absorbed; the request was served by the handler"
	if op == opRevalidate {
		level, msg = slog.LevelError, "background revalidation failed"
	}
	m.flog.Failed(r.Context(), level, op, msg, err, slog.String("route", m.cfg.route))
}

// Hooks are functions called for each request the response cache sees, for
// tracing and metrics, in the manner of net/http/httptrace.ClientTrace: a
// nil field is not called. With the zero value the middleware runs exactly
// as without hooks. They are called from many goroutines at once and should
// return quickly.
type Hooks struct {
	// Request is called as a request enters the middleware. A non-nil
	// context it returns replaces the request's (a span's, so that the
	// store's reads and the handler nest in it), and a non-nil done is
	// called with the request's Outcome once the middleware is done with
	// it: the response written, the store written for a fill.
	Request func(r *http.Request) (ctx context.Context, done func(Outcome))
}

// OutcomeKind is how Stats counts a request.
type OutcomeKind string

// Outcome kinds, one per counter of Stats.
const (
	// OutcomeHit: served fresh from the store.
	OutcomeHit OutcomeKind = "hit"
	// OutcomeStale: a stored response served stale (stale-while-revalidate,
	// max-stale, or stale-if-error in place of a handler's error).
	OutcomeStale OutcomeKind = "stale"
	// OutcomeCollapsed: served the response of another request's fill.
	OutcomeCollapsed OutcomeKind = "collapsed"
	// OutcomeMiss: a GET or HEAD that went to the handler.
	OutcomeMiss OutcomeKind = "miss"
	// OutcomeBypass: a request the cache took no part in (another method,
	// credentials, a bypass header, no key, Cache-Control: no-store).
	OutcomeBypass OutcomeKind = "bypass"
	// OutcomeAbandoned: the client went away while the request waited for
	// another request's fill, before the middleware answered it.
	OutcomeAbandoned OutcomeKind = "abandoned"
)

// Outcome is what the middleware did with one request: its entry in the
// Cache-Status header (RFC 9211), read back.
type Outcome struct {
	// Kind is the Stats counter the request went to.
	Kind OutcomeKind
	// Fwd is RFC 9211's fwd parameter, why the request went to the
	// handler: "uri-miss", "vary-miss", "miss" (the store failed),
	// "stale", "request", "method" or "bypass"; empty for a hit.
	Fwd string
	// FwdStatus is the status the handler answered, 0 if it was not asked
	// or its answer was not seen (a bypass).
	FwdStatus int
	// Stored reports that the response was written to the store.
	Stored bool
	// Collapsed reports that the response came from another request's
	// fill.
	Collapsed bool
	// Detail is the detail parameter: which bypass, or which stale rule.
	Detail string
	// Route is Options.Route.
	Route string
	// CacheStatus is this cache's whole Cache-Status entry, "" for
	// OutcomeAbandoned.
	CacheStatus string
}

// observedHandler is a handler with Hooks.Request around it. Handler
// returns it only when the hook is set, so that without hooks a request
// does not even test for them.
type observedHandler struct{ h *handler }

func (o *observedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := o.h.m
	ctx, done := m.cfg.hooks.Request(r)
	if ctx != nil && ctx != r.Context() {
		r = r.WithContext(ctx)
	}
	if done != nil {
		// Deferred, so that a handler's panic still ends the request's span.
		defer func() { done(m.outcome(w.Header())) }()
	}
	o.h.ServeHTTP(w, r)
}

// outcome reads this cache's entry back from the Cache-Status of a
// response: the last one under its name, since the header lists the caches
// closer to the origin first.
func (m *ResponseCache) outcome(h http.Header) Outcome {
	o := Outcome{Kind: OutcomeAbandoned, Route: m.cfg.route}
	prefix := m.cfg.status.prefix
	vs := h[headerCacheStatus]
	for i := len(vs) - 1; i >= 0; i-- {
		if strings.HasPrefix(vs[i], prefix) {
			o.CacheStatus = vs[i]
			break
		}
	}
	if o.CacheStatus == "" {
		return o
	}
	hit := false
	for i, p := range strings.Split(o.CacheStatus[len(prefix):], "; ") {
		name, value, _ := strings.Cut(p, "=")
		switch {
		case i == 0 && name == "hit":
			hit = true
		case name == "fwd":
			o.Fwd = value
		case name == "fwd-status":
			o.FwdStatus, _ = strconv.Atoi(value)
		case name == "stored":
			o.Stored = true
		case name == "collapsed":
			o.Collapsed = true
		case name == "detail":
			o.Detail = value
		}
	}
	switch {
	case hit && (o.Detail == detailSWR || o.Detail == detailMaxStale):
		o.Kind = OutcomeStale
	case hit:
		o.Kind = OutcomeHit
	case o.Fwd == fwdBypass || o.Fwd == fwdMethod:
		o.Kind = OutcomeBypass
	case o.Fwd == fwdStale && o.Detail == detailSIE:
		o.Kind = OutcomeStale
	case o.Collapsed:
		o.Kind = OutcomeCollapsed
	default:
		o.Kind = OutcomeMiss
	}
	return o
}
