package middleware

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// maxDelta is what RFC 9111 §1.2.2 says a delta-seconds too large to
// represent means: 2^31 seconds, about 68 years.
const maxDelta = 1 << 31

// absent marks a directive that was not given.
const absent = -1

// directives are the Cache-Control directives this middleware acts on.
// Numbers are seconds, or absent.
type directives struct {
	noStore, noCache, private bool
	mustRevalidate            bool // must-revalidate or proxy-revalidate
	maxAge, sMaxAge           int64
	swr, sie                  int64
}

// parseCacheControl reads Cache-Control field lines. A directive
// given twice counts with its smaller value, and a malformed number as 0,
// which RFC 9111 §4.2.1 allows and which can only make a response less
// cacheable.
func parseCacheControl(values []string) directives {
	d := directives{maxAge: absent, sMaxAge: absent, swr: absent, sie: absent}
	r := directiveReader{values: values}
	for {
		name, value, ok := r.next()
		if !ok {
			return d
		}
		switch strings.ToLower(name) {
		case "no-store":
			d.noStore = true
		case "no-cache":
			// With field names (no-cache="Set-Cookie") it would allow storing
			// the rest; not storing at all is simpler and never wrong.
			d.noCache = true
		case "private":
			d.private = true
		case "must-revalidate", "proxy-revalidate":
			d.mustRevalidate = true
		case "max-age":
			d.maxAge = minDelta(d.maxAge, value)
		case "s-maxage":
			d.sMaxAge = minDelta(d.sMaxAge, value)
		case "stale-while-revalidate":
			d.swr = minDelta(d.swr, value)
		case "stale-if-error":
			d.sie = minDelta(d.sie, value)
		}
	}
}

// minDelta parses value as delta-seconds and returns the smaller of it and
// prev.
func minDelta(prev int64, value string) int64 {
	v := parseDelta(value)
	if prev != absent && prev < v {
		return prev
	}
	return v
}

func parseDelta(s string) int64 {
	if s == "" {
		return 0
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0
		}
		v = v*10 + int64(c-'0')
		if v >= maxDelta {
			return maxDelta
		}
	}
	return v
}

// directiveReader splits Cache-Control field lines into directives:
// comma-separated, each a token with an optional "=" and a token or quoted
// string; a comma inside quotes does not split.
type directiveReader struct {
	values []string
	cur    string
}

func (d *directiveReader) next() (name, value string, ok bool) {
	for {
		s := strings.TrimLeft(d.cur, " \t,")
		if s == "" {
			if len(d.values) == 0 {
				return "", "", false
			}
			d.cur, d.values = d.values[0], d.values[1:]
			continue
		}
		i := strings.IndexAny(s, "=,")
		if i < 0 {
			d.cur = ""
			return strings.TrimRight(s, " \t"), "", true
		}
		name = strings.TrimRight(s[:i], " \t")
		if s[i] == ',' {
			d.cur = s[i+1:]
			return name, "", true
		}
		rest := strings.TrimLeft(s[i+1:], " \t")
		if strings.HasPrefix(rest, `"`) {
			j := 1
			for j < len(rest) && rest[j] != '"' {
				if rest[j] == '\\' {
					j++
				}
				j++
			}
			value = rest[1:min(j, len(rest))]
			rest = rest[min(j+1, len(rest)):]
		} else {
			k := strings.IndexByte(rest, ',')
			if k < 0 {
				k = len(rest)
			}
			value, rest = strings.TrimRight(rest[:k], " \t"), rest[k:]
		}
		if k := strings.IndexByte(rest, ','); k >= 0 {
			d.cur = rest[k+1:]
		} else {
			d.cur = ""
		}
		return name, value, true
	}
}

// requestDirectives are what a request's Cache-Control asks of the cache.
type requestDirectives struct {
	noStore bool  // neither serve from nor store into the cache
	noCache bool  // do not serve from the cache; storing the answer is fine
	maxAge  int64 // serve nothing older than this, or absent
}

func parseRequestDirectives(h http.Header) requestDirectives {
	cc := h["Cache-Control"]
	if len(cc) == 0 {
		// RFC 9111 §5.4: Pragma: no-cache means no-cache only without a
		// Cache-Control.
		for _, p := range h["Pragma"] {
			if strings.Contains(strings.ToLower(p), "no-cache") {
				return requestDirectives{noCache: true, maxAge: absent}
			}
		}
		return requestDirectives{maxAge: absent}
	}
	d := parseCacheControl(cc)
	// max-age=0 is how clients ask for revalidation: no stored response
	// is young enough, whatever the clock says.
	return requestDirectives{noStore: d.noStore, noCache: d.noCache || d.maxAge == 0, maxAge: d.maxAge}
}

// lifetime is how long a stored response is fresh and then how long it may
// be served stale.
type lifetime struct {
	fresh, swr, sie time.Duration
}

// storeFor returns how long the response with status and headers h may be
// stored, or false when it must not be: a status not configured, Set-Cookie,
// no-store, no-cache, private, Vary: *, trailers, or no freshness left.
func (c *config) storeFor(status int, h http.Header, now time.Time) (lifetime, bool) {
	if status < 0 || status >= len(c.statuses) || !c.statuses[status] {
		return lifetime{}, false
	}
	if len(h["Set-Cookie"]) > 0 || len(h["Trailer"]) > 0 {
		return lifetime{}, false
	}
	for name := range h {
		if strings.HasPrefix(name, http.TrailerPrefix) {
			return lifetime{}, false
		}
	}
	if _, star := parseVary(h["Vary"]); star {
		return lifetime{}, false
	}
	d := parseCacheControl(h["Cache-Control"])
	if d.noStore || d.noCache || d.private {
		return lifetime{}, false
	}
	fresh := c.ttl
	switch {
	case d.sMaxAge != absent:
		fresh = min(fresh, time.Duration(d.sMaxAge)*time.Second)
	case d.maxAge != absent:
		fresh = min(fresh, time.Duration(d.maxAge)*time.Second)
	case len(h["Expires"]) > 0:
		fresh = min(fresh, expiresIn(h, now))
	}
	if fresh <= 0 {
		return lifetime{}, false
	}
	l := lifetime{fresh: fresh}
	if d.mustRevalidate {
		return l, true
	}
	// s-maxage implies proxy-revalidate (RFC 9111 §5.2.2.10): the
	// configured windows yield to it, the response's own directives do not.
	if d.sMaxAge == absent {
		l.swr, l.sie = c.swr, c.sie
	}
	if d.swr != absent {
		l.swr = time.Duration(d.swr) * time.Second
	}
	if d.sie != absent {
		l.sie = time.Duration(d.sie) * time.Second
	}
	return l, true
}

// expiresIn is the freshness an Expires header gives, measured from the
// response's Date (RFC 9111 §4.2.1). An invalid Expires means already
// expired.
func expiresIn(h http.Header, now time.Time) time.Duration {
	exp, err := http.ParseTime(h.Get("Expires"))
	if err != nil {
		return 0
	}
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		now = date
	}
	return exp.Sub(now)
}

// parseVary returns the canonical, sorted, unique header names of Vary
// field lines, and whether one of them is "*".
func parseVary(values []string) (names []string, star bool) {
	for _, v := range values {
		for f := range strings.SplitSeq(v, ",") {
			f = strings.TrimSpace(f)
			switch f {
			case "":
			case "*":
				star = true
			default:
				names = append(names, http.CanonicalHeaderKey(f))
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), star
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
