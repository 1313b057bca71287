package httpcache

import (
	"net/http"
	"time"
)

// Heuristic freshness (RFC 9111 §4.2.2) defaults: a tenth of the time since
// Last-Modified, as the RFC suggests, and never more than a day.
const (
	DefaultHeuristicFraction = 0.1
	DefaultHeuristicMax      = 24 * time.Hour
)

// Heuristic configures §4.2.2. A zero Fraction turns heuristics off.
type Heuristic struct {
	Fraction float64
	Max      time.Duration
}

// Lifetime is a response's freshness lifetime.
type Lifetime struct {
	// Fresh is how long the response is fresh, measured from its age 0; it
	// is 0 for a response that is stale on arrival or must be revalidated on
	// every use (no-cache).
	Fresh time.Duration
	// Explicit: the lifetime came from s-maxage, max-age or Expires.
	Explicit bool
	// Heuristic: the lifetime came from Last-Modified (§4.2.2).
	Heuristic bool
}

// FreshnessLifetime computes §4.2.1 for a shared cache: s-maxage, else
// max-age, else Expires minus Date (ignored when d came from a targeted
// field, RFC 9213 §2.2), else a heuristic when hc allows one for the
// status. A response with no-cache is fresh for 0: every reuse needs
// validation (§5.2.2.4). responseTime stands in for a missing or invalid
// Date.
func FreshnessLifetime(status int, h http.Header, d Response, targeted bool, hc Heuristic, responseTime time.Time) Lifetime {
	var l Lifetime
	switch {
	case d.SMaxAge != Absent:
		l = Lifetime{Fresh: seconds(d.SMaxAge), Explicit: true}
	case d.MaxAge != Absent:
		l = Lifetime{Fresh: seconds(d.MaxAge), Explicit: true}
	case !targeted && len(h["Expires"]) > 0:
		l = Lifetime{Fresh: max(expiresIn(h, responseTime), 0), Explicit: true}
	case hc.Fraction > 0 && (HeuristicallyCacheable(status) || d.Public):
		l = heuristic(h, hc, responseTime)
	}
	if d.NoCache {
		l.Fresh = 0
	}
	return l
}

// expiresIn is Expires minus Date (§4.2.1). §5.3: an invalid Expires, "0"
// among them, means already expired; a second Expires field line makes it
// invalid too, since the field is a single date.
func expiresIn(h http.Header, responseTime time.Time) time.Duration {
	lines := h["Expires"]
	if len(lines) != 1 {
		return 0
	}
	exp, ok := ParseHTTPDate(lines[0])
	if !ok {
		return 0
	}
	return exp.Sub(DateValue(h, responseTime))
}

// DateValue is the response's Date, or responseTime when it has none or an
// invalid or repeated one (RFC 9110 §6.6.1 lets a recipient replace it).
func DateValue(h http.Header, responseTime time.Time) time.Time {
	if lines := h["Date"]; len(lines) == 1 {
		if t, ok := ParseHTTPDate(lines[0]); ok {
			return t
		}
	}
	return responseTime
}

// heuristic is §4.2.2: hc.Fraction of the time between Last-Modified and
// Date, at most hc.Max; nothing without a valid Last-Modified in the past.
func heuristic(h http.Header, hc Heuristic, responseTime time.Time) Lifetime {
	lines := h["Last-Modified"]
	if len(lines) != 1 {
		return Lifetime{}
	}
	lm, ok := ParseHTTPDate(lines[0])
	if !ok {
		return Lifetime{}
	}
	since := DateValue(h, responseTime).Sub(lm)
	if since <= 0 {
		return Lifetime{}
	}
	fresh := time.Duration(float64(since) * hc.Fraction)
	if hc.Max > 0 {
		fresh = min(fresh, hc.Max)
	}
	return Lifetime{Fresh: fresh, Heuristic: fresh > 0}
}

// HeuristicallyCacheable reports the statuses RFC 9110 §15.1 lets a cache
// give heuristic freshness.
func HeuristicallyCacheable(status int) bool {
	switch status {
	case 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

func seconds(s int64) time.Duration { return time.Duration(s) * time.Second }
