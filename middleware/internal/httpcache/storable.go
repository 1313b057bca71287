package httpcache

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Reasons a response is not stored, for Cache-Status details and tests.
const (
	ReasonStatus        = "status"        // not a final status this cache stores
	ReasonNoStore       = "no-store"      // request or response no-store
	ReasonPrivate       = "private"       // unqualified private: for one user
	ReasonAuthorization = "authorization" // §3.5: a response to credentials
	ReasonVaryStar      = "vary-star"     // Vary: * never matches a request
	ReasonNoFreshness   = "no-freshness"  // nothing says it may be reused
	ReasonSetCookie     = "set-cookie"    // a cookie meant for one client
)

// Decision is what a shared cache may do with a response.
type Decision struct {
	// Store: the response may be stored.
	Store bool
	// Reason says why not, one of the Reason constants.
	Reason string
	// Strip are the header fields that must not be stored or served from
	// the store: those of a qualified private (§5.2.2.7) or no-cache
	// (§5.2.2.4; this cache drops them instead of revalidating for them).
	Strip []string
	// Lifetime is the response's freshness lifetime.
	Lifetime Lifetime
	// StaleForbidden: the response must not be served stale, not even for
	// stale-while-revalidate or stale-if-error (§4.2.4).
	StaleForbidden bool
}

// Storable applies RFC 9111 §3 for a shared cache to the response (status,
// header h, directives d) to a GET request with header req. targeted says
// d came from a targeted field (Expires is then ignored). A response is
// stored when it has a final status other than 206 and 304 (neither is a
// complete response to the next request), no no-store in request or
// response, no unqualified private, no Vary: *, no Set-Cookie unless
// private or no-cache names it, and, to a request with Authorization, a
// public, s-maxage or must-revalidate (§3.5); and when it can be reused:
// it is fresh for a while, or it carries a validator to revalidate it with.
func Storable(req http.Header, status int, h http.Header, d Response, targeted bool, hc Heuristic, responseTime time.Time) Decision {
	rd := ParseRequest(req)
	if d.MustUnderstand {
		// §5.2.2.3: a cache that knows the status's caching rules stores
		// regardless of no-store, which is there for the caches that do not.
		if http.StatusText(status) == "" {
			return Decision{Reason: ReasonStatus}
		}
		d.NoStore = false
	}
	switch {
	case status < 200 || status == http.StatusPartialContent || status == http.StatusNotModified || status > 999:
		return Decision{Reason: ReasonStatus}
	case rd.NoStore || d.NoStore:
		return Decision{Reason: ReasonNoStore}
	case d.Private:
		return Decision{Reason: ReasonPrivate}
	case len(req["Authorization"]) > 0 && !d.Public && d.SMaxAge == Absent && !d.MustRevalidate:
		return Decision{Reason: ReasonAuthorization}
	}
	if _, star := ParseVary(h["Vary"]); star {
		return Decision{Reason: ReasonVaryStar}
	}
	strip := append(slices.Clone(d.PrivateFields), d.NoCacheFields...)
	if len(h["Set-Cookie"]) > 0 && !slices.Contains(strip, "Set-Cookie") {
		return Decision{Reason: ReasonSetCookie}
	}
	l := FreshnessLifetime(status, h, d, targeted, hc, responseTime)
	// §3: explicit freshness, public, or a heuristically cacheable status.
	allowed := l.Explicit || d.Public || HeuristicallyCacheable(status)
	if !allowed || l.Fresh <= 0 && !HasValidator(h) {
		return Decision{Reason: ReasonNoFreshness}
	}
	return Decision{
		Store:          true,
		Strip:          strip,
		Lifetime:       l,
		StaleForbidden: StaleForbidden(d),
	}
}

// StaleForbidden reports the directives that forbid serving the response
// stale in a shared cache (§4.2.4): no-cache, must-revalidate,
// proxy-revalidate and s-maxage (§5.2.2.10 implies proxy-revalidate).
func StaleForbidden(d Response) bool {
	return d.NoCache || d.MustRevalidate || d.ProxyRevalidate || d.SMaxAge != Absent
}

// HasValidator reports whether h carries an ETag or a Last-Modified to
// revalidate the response with (§4.3.1).
func HasValidator(h http.Header) bool {
	return len(h["Etag"]) > 0 || len(h["Last-Modified"]) > 0
}

// ParseVary reads Vary field lines (RFC 9110 §12.5.5): the canonical,
// sorted, unique header names they list, and whether the response varies
// on something no request can be matched against: a "*", or a member that
// is not a field name (a token), such as "*=x" or "a b", which a cache
// cannot match either. Empty members are skipped, as §5.6.1 lets a
// recipient do.
func ParseVary(lines []string) (names []string, star bool) {
	for _, v := range lines {
		for f := range strings.SplitSeq(v, ",") {
			switch f = strings.Trim(f, " \t"); {
			case f == "":
			case f == "*" || !IsToken(f):
				star = true
			default:
				names = append(names, http.CanonicalHeaderKey(f))
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), star
}
