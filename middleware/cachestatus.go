package middleware

import (
	"net/http"
	"strconv"
	"time"
)

// The Cache-Status header (RFC 9211) says what the cache did with a
// request: "emgcache; hit; ttl=42", "emgcache; fwd=uri-miss; fwd-status=200;
// stored", "emgcache; fwd=bypass; detail=header".
const headerCacheStatus = "Cache-Status"

// fwd values of RFC 9211 §2.2: why the request went to the handler.
const (
	fwdBypass   = "bypass"    // the middleware was configured not to use the cache for it
	fwdMethod   = "method"    // not GET or HEAD
	fwdURIMiss  = "uri-miss"  // nothing stored for the URI
	fwdVaryMiss = "vary-miss" // something stored for the URI, but not for these Vary headers
	fwdMiss     = "miss"      // the store could not be read
	fwdStale    = "stale"     // the stored response was stale
	fwdRequest  = "request"   // the request's Cache-Control did not allow a stored response
)

// Reasons in the detail parameter of a bypass; implementation-specific per
// RFC 9211, meant for whoever debugs a miss.
const (
	detailKey          = "key"            // an empty KeyFunc value, or a query that cannot be normalised
	detailHeader       = "header"         // credentials or a header in BypassHeaders
	detailUpgrade      = "upgrade"        // a protocol switch, never cached
	detailRange        = "range"          // a partial request on a miss
	detailPrecondition = "precondition"   // If-Match or If-Unmodified-Since
	detailNoStore      = "no-store"       // request Cache-Control: no-store
	detailOnlyIfCached = "only-if-cached" // request only-if-cached on a miss: 504
)

// Details of a stale response served (RFC 5861).
const (
	detailSWR      = "stale-while-revalidate"
	detailSIE      = "stale-if-error"
	detailMaxStale = "max-stale" // the request accepted a stale response
)

// statusStrings holds the Cache-Status values that do not depend on the
// response, built once so that serving them allocates nothing.
type statusStrings struct {
	prefix string // "emgcache; "
	method string
	bypass map[string][]string
}

func newStatusStrings(name string) statusStrings {
	s := statusStrings{prefix: name + "; "}
	s.method = s.prefix + "fwd=" + fwdMethod
	s.bypass = make(map[string][]string)
	for _, d := range []string{detailKey, detailHeader, detailUpgrade, detailRange, detailPrecondition, detailNoStore} {
		s.bypass[d] = []string{s.prefix + "fwd=" + fwdBypass + "; detail=" + d}
	}
	return s
}

// hit is the value for a response served from the cache; ttl is its
// remaining freshness, negative once stale.
func (s *statusStrings) hit(ttl time.Duration, detail string) string {
	var stack [128]byte
	b := append(stack[:0], s.prefix...)
	b = append(b, "hit; ttl="...)
	b = strconv.AppendInt(b, seconds(ttl), 10)
	if detail != "" {
		b = append(b, "; detail="...)
		b = append(b, detail...)
	}
	return string(b)
}

// forward is the value for a request that went to the handler.
func (s *statusStrings) forward(fwd string, status int, stored, collapsed bool, detail string) string {
	var stack [128]byte
	b := append(stack[:0], s.prefix...)
	b = append(b, "fwd="...)
	b = append(b, fwd...)
	if status != 0 {
		b = append(b, "; fwd-status="...)
		b = strconv.AppendInt(b, int64(status), 10)
	}
	if stored {
		b = append(b, "; stored"...)
	}
	if collapsed {
		b = append(b, "; collapsed"...)
	}
	if detail != "" {
		b = append(b, "; detail="...)
		b = append(b, detail...)
	}
	return string(b)
}

// addStatus appends v to the Cache-Status of h. Entries already there come
// from caches closer to the origin, which RFC 9211 lists first.
func addStatus(h http.Header, v string) {
	h[headerCacheStatus] = append(h[headerCacheStatus], v)
}

// seconds rounds d down to whole seconds, so that a response stale by half
// a second reports ttl=-1, not 0.
func seconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d < 0 && d%time.Second != 0 {
		s--
	}
	return s
}
