package httpcache

import (
	"net/http"
	"time"
)

// Use is how a stored response may answer a request.
type Use int

const (
	// UseFresh: the stored response is fresh enough for the request.
	UseFresh Use = iota
	// UseStale: it is stale, and the request's max-stale accepts it.
	UseStale
	// UseRevalidate: it must not be served without asking the origin; with
	// a validator the request goes conditional (§4.3.1), without one it is
	// a plain miss.
	UseRevalidate
)

// Reusable applies RFC 9111 §4 (the parts that concern freshness) to a
// stored response of the given freshness lifetime and current age, for a
// request with directives req: request no-cache or a max-age the response
// is older than forces revalidation (§5.2.1.1, §5.2.1.4); min-fresh asks
// for that much freshness left (§5.2.1.3); a fresh response is used; a
// stale one only when max-stale allows it and staleForbidden (see
// StaleForbidden) does not. The URI, method and Vary match are the
// caller's key.
func Reusable(req Request, fresh, age time.Duration, staleForbidden bool) Use {
	switch {
	case req.NoCache:
		return UseRevalidate
	case req.MaxAge != Absent && age > seconds(req.MaxAge):
		return UseRevalidate
	case req.MinFresh != Absent && fresh-age < seconds(req.MinFresh):
		return UseRevalidate
	case age < fresh:
		return UseFresh
	case req.MaxStale != Absent && !staleForbidden && age-fresh <= seconds(req.MaxStale):
		return UseStale
	}
	return UseRevalidate
}

// ValidatorsFor returns the conditional request fields that revalidate a
// stored response with header h (§4.3.1): If-None-Match from its ETag and,
// when it has a Last-Modified, If-Modified-Since with it.
func ValidatorsFor(h http.Header) http.Header {
	out := make(http.Header, 2)
	if etag := h["Etag"]; len(etag) > 0 {
		out["If-None-Match"] = []string{etag[0]}
	}
	if lm := h["Last-Modified"]; len(lm) == 1 {
		if _, ok := ParseHTTPDate(lm[0]); ok {
			out["If-Modified-Since"] = []string{lm[0]}
		}
	}
	return out
}

// Freshens reports whether a 304 with header h304 answers the conditional
// request made for a stored response with header stored (§4.3.4): a strong
// ETag in the 304 must equal the stored one; without an ETag, a
// Last-Modified in the 304 must equal the stored one; with neither, the
// 304 is about the single stored response that was asked about.
func Freshens(stored, h304 http.Header) bool {
	if etag := h304["Etag"]; len(etag) > 0 {
		s := stored["Etag"]
		return len(s) > 0 && etag[0] == s[0]
	}
	if lm := h304["Last-Modified"]; len(lm) > 0 {
		s := stored["Last-Modified"]
		return len(s) > 0 && lm[0] == s[0]
	}
	return true
}

// notUpdated are the fields a 304 does not replace in the stored response
// (§3.2): the framing, which describes the 304's own empty body; the
// hop-by-hop fields, which are not stored at all; and the fields that
// describe the stored bytes themselves (their coding, range and digest),
// which a 304 cannot have changed and which §3.2 lets a cache keep "to
// assure integrity of the stored response".
var notUpdated = map[string]bool{
	"Content-Length":    true,
	"Content-Encoding":  true,
	"Content-Range":     true,
	"Content-Md5":       true,
	"Transfer-Encoding": true,
	"Connection":        true,
	"Keep-Alive":        true,
	"Te":                true,
	"Trailer":           true,
	"Upgrade":           true,
	"Proxy-Connection":  true,
	"Age":               true,
}

// Merge returns the stored header updated with the fields of a 304 (§3.2,
// §4.3.4): each field of the 304 replaces the stored field of that name,
// except the framing and hop-by-hop ones. stored is not modified.
func Merge(stored, h304 http.Header) http.Header {
	out := stored.Clone()
	for name, vs := range h304 {
		if notUpdated[name] || len(vs) == 0 {
			continue
		}
		out[name] = vs
	}
	return out
}
