package middleware

import (
	"net/http"
	"strings"
	"time"

	"github.com/emgcache/emgcache/middleware/internal/httpcache"
)

// lifetime is how long a stored response is fresh, then how long it may be
// served stale, and how long past all that it is kept to be revalidated.
// keep is not stored in the entry: it only lengthens the store's TTL.
type lifetime struct {
	fresh, swr, sie time.Duration
	keep            time.Duration
}

// storePlan is what to store of a response: for how long, how old it
// already was on arrival (RFC 9111 §4.2.3), and the fields to leave out.
type storePlan struct {
	life       lifetime
	initialAge time.Duration
	strip      []string
}

// storeFor decides whether the response (status, headers h) to r may be
// stored, which the handler started at requestTime and finished at
// responseTime. The RFC's clauses are httpcache's; this only chooses them
// by Semantics and adds the middleware's own rules: trailers, which a
// stored response cannot replay, are never stored.
func (c *config) storeFor(r *http.Request, status int, h http.Header, requestTime, responseTime time.Time) (storePlan, bool) {
	if len(h["Trailer"]) > 0 {
		return storePlan{}, false
	}
	for name := range h {
		if strings.HasPrefix(name, http.TrailerPrefix) {
			return storePlan{}, false
		}
	}
	d, targeted := httpcache.Directives(h, c.targeted)
	var plan storePlan
	if c.semantics == SharedCache {
		dec := httpcache.Storable(r.Header, status, h, d, targeted, c.heuristic, responseTime)
		if !dec.Store {
			return storePlan{}, false
		}
		plan.life.fresh, plan.strip = dec.Lifetime.Fresh, dec.Strip
		if httpcache.HasValidator(h) {
			plan.life.keep = c.revalidate
		}
		if !dec.StaleForbidden {
			plan.life.swr, plan.life.sie = c.swr, c.sie
		}
	} else {
		if status < 0 || status >= len(c.statuses) || !c.statuses[status] && !c.explicit[status] || len(h["Set-Cookie"]) > 0 {
			return storePlan{}, false
		}
		// The qualified forms count as unqualified: not storing at all is
		// simpler than stripping fields and never wrong.
		if _, star := httpcache.ParseVary(h["Vary"]); star || d.NoStore || d.NoCache || d.Private || len(d.NoCacheFields) > 0 || len(d.PrivateFields) > 0 {
			return storePlan{}, false
		}
		fresh := c.ttl
		l := httpcache.FreshnessLifetime(status, h, d, targeted, httpcache.Heuristic{}, responseTime)
		if l.Explicit {
			fresh = min(fresh, l.Fresh)
		} else if !c.statuses[status] {
			// Stored only with explicit freshness: see Options.Statuses.
			return storePlan{}, false
		}
		if fresh <= 0 {
			return storePlan{}, false
		}
		plan.life.fresh = fresh
		// s-maxage implies proxy-revalidate (RFC 9111 §5.2.2.10): the
		// configured windows yield to it, the response's own directives do not.
		if !d.MustRevalidate && !d.ProxyRevalidate && d.SMaxAge == httpcache.Absent {
			plan.life.swr, plan.life.sie = c.swr, c.sie
		}
	}
	if !d.MustRevalidate && !d.ProxyRevalidate && !d.NoCache {
		if d.StaleWhileRevalidate != httpcache.Absent {
			plan.life.swr = time.Duration(d.StaleWhileRevalidate) * time.Second
		}
		if d.StaleIfError != httpcache.Absent {
			plan.life.sie = time.Duration(d.StaleIfError) * time.Second
		}
	}
	plan.initialAge = httpcache.InitialAge(h, requestTime, responseTime)
	return plan, true
}

// unstoredHeaders are the headers that describe one connection, not the
// response (RFC 9110 §7.6.1), and the ones the cache sets itself on every
// response it serves.
var unstoredHeaders = map[string]bool{
	"Connection":          true,
	"Keep-Alive":          true,
	"Proxy-Connection":    true,
	"Proxy-Authenticate":  true,
	"Proxy-Authorization": true,
	"Te":                  true,
	"Trailer":             true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
	"Age":                 true,
	"Content-Length":      true,
}

// errorStatus reports the statuses RFC 5861 §4 lets stale-if-error hide.
func errorStatus(status int) bool {
	switch status {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
