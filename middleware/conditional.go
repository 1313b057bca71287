package middleware

import (
	"net/http"
	"strings"
)

// conditionalHeaders are the request preconditions the middleware answers
// itself from a stored response. They are removed from the request a fill
// sends to the handler, so that the handler produces the full response that
// is stored and shared, not a 304 that only one client could use.
var conditionalHeaders = []string{"If-None-Match", "If-Modified-Since"}

// notModifiedHeaders are the headers a 304 carries (RFC 9110 §15.4.5).
var notModifiedHeaders = []string{"Cache-Control", "Content-Location", "Date", "Etag", "Expires", "Last-Modified", "Vary"}

// notModified reports whether a GET or HEAD with the request headers req
// can be answered 304 Not Modified from e (RFC 9110 §13.1.2, §13.1.3):
// If-None-Match decides when present, If-Modified-Since otherwise.
func notModified(req http.Header, e *entry) bool {
	if e.status != http.StatusOK {
		return false
	}
	if inm := req["If-None-Match"]; len(inm) > 0 {
		etag := e.get("Etag")
		return len(etag) > 0 && noneMatchHits(inm, etag[0])
	}
	ims := req["If-Modified-Since"]
	lm := e.get("Last-Modified")
	if len(ims) == 0 || len(lm) == 0 {
		return false
	}
	since, err := http.ParseTime(ims[0])
	if err != nil {
		return false
	}
	modified, err := http.ParseTime(lm[0])
	return err == nil && !modified.After(since)
}

// noneMatchHits reports whether one of the entity tags of If-None-Match
// field lines matches etag by weak comparison, or is "*".
func noneMatchHits(lines []string, etag string) bool {
	for _, s := range lines {
		for {
			s = strings.TrimLeft(s, " \t,")
			if s == "" {
				break
			}
			if s[0] == '*' {
				return true
			}
			var tag string
			tag, s = scanETag(s)
			if tag == "" {
				break
			}
			if weakMatch(tag, etag) {
				return true
			}
		}
	}
	return false
}

// scanETag reads one entity tag from the start of s, as net/http's file
// server does: an optional W/, then a quoted string of etagc.
func scanETag(s string) (etag, rest string) {
	start := 0
	if strings.HasPrefix(s, "W/") {
		start = 2
	}
	if len(s)-start < 2 || s[start] != '"' {
		return "", ""
	}
	for i := start + 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == 0x21 || c >= 0x23 && c <= 0x7e || c >= 0x80:
		case c == '"':
			return s[:i+1], s[i+1:]
		default:
			return "", ""
		}
	}
	return "", ""
}

func weakMatch(a, b string) bool {
	return strings.TrimPrefix(a, "W/") == strings.TrimPrefix(b, "W/")
}
