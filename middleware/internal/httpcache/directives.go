package httpcache

import (
	"net/http"
	"strings"
)

// Absent marks a numeric directive that was not given.
const Absent = -1

// MaxDelta is what RFC 9111 §1.2.2 says a delta-seconds too large to
// represent means: 2^31 seconds, about 68 years.
const MaxDelta = 1 << 31

// Response holds the response directives (RFC 9111 §5.2.2, RFC 5861) this
// cache acts on, from Cache-Control or from the targeted field that
// replaces it (RFC 9213). Numbers are seconds, or Absent.
type Response struct {
	NoStore        bool
	NoCache        bool     // unqualified: every reuse needs revalidation
	NoCacheFields  []string // qualified no-cache="a, b": canonical names
	Private        bool     // unqualified: a shared cache must not store it
	PrivateFields  []string // qualified private="a": canonical names
	Public         bool
	MustRevalidate bool
	// ProxyRevalidate is must-revalidate for shared caches only.
	ProxyRevalidate bool
	// MustUnderstand: store only if the status is understood, and then
	// regardless of no-store (§5.2.2.3).
	MustUnderstand  bool
	MaxAge, SMaxAge int64
	// StaleWhileRevalidate and StaleIfError are RFC 5861's windows.
	StaleWhileRevalidate, StaleIfError int64
	// Source names the field the directives came from: "Cache-Control" or a
	// targeted field.
	Source string
}

// Request holds the request directives of RFC 9111 §5.2.1. MaxStale is
// MaxDelta for a max-stale without a value (any staleness).
type Request struct {
	NoStore, NoCache, OnlyIfCached bool
	MaxAge, MinFresh, MaxStale     int64
}

func emptyResponse(source string) Response {
	return Response{MaxAge: Absent, SMaxAge: Absent, StaleWhileRevalidate: Absent, StaleIfError: Absent, Source: source}
}

// ParseCacheControl reads response Cache-Control field lines (RFC 9111
// §5.2). Names compare case-insensitively; unknown directives are ignored
// (§5.2.3). A directive given twice counts with its smaller value and a
// malformed number counts as 0: §4.2.1 allows treating such a response as
// stale, and both can only make a response less reusable. A quoted number
// is accepted, as §5.2 asks recipients to.
func ParseCacheControl(lines []string) Response {
	d := emptyResponse("Cache-Control")
	r := directiveReader{values: lines}
	for {
		name, value, hasValue, ok := r.next()
		if !ok {
			return d
		}
		switch strings.ToLower(name) {
		case "no-store":
			d.NoStore = true
		case "no-cache":
			if fields := fieldNames(value); hasValue && len(fields) > 0 {
				d.NoCacheFields = append(d.NoCacheFields, fields...)
			} else {
				d.NoCache = true
			}
		case "private":
			if fields := fieldNames(value); hasValue && len(fields) > 0 {
				d.PrivateFields = append(d.PrivateFields, fields...)
			} else {
				d.Private = true
			}
		case "public":
			d.Public = true
		case "must-understand":
			d.MustUnderstand = true
		case "must-revalidate":
			d.MustRevalidate = true
		case "proxy-revalidate":
			d.ProxyRevalidate = true
		case "max-age":
			d.MaxAge = minDelta(d.MaxAge, value)
		case "s-maxage":
			d.SMaxAge = minDelta(d.SMaxAge, value)
		case "stale-while-revalidate":
			d.StaleWhileRevalidate = minDelta(d.StaleWhileRevalidate, value)
		case "stale-if-error":
			d.StaleIfError = minDelta(d.StaleIfError, value)
		}
	}
}

// ParseRequest reads a request's Cache-Control, or its Pragma when it has
// no Cache-Control (RFC 9111 §5.4: Pragma: no-cache is no-cache then).
func ParseRequest(h http.Header) Request {
	d := Request{MaxAge: Absent, MinFresh: Absent, MaxStale: Absent}
	cc := h["Cache-Control"]
	if len(cc) == 0 {
		r := directiveReader{values: h["Pragma"]}
		for {
			name, _, _, ok := r.next()
			if !ok {
				return d
			}
			if strings.EqualFold(name, "no-cache") {
				d.NoCache = true
			}
		}
	}
	r := directiveReader{values: cc}
	for {
		name, value, hasValue, ok := r.next()
		if !ok {
			return d
		}
		switch strings.ToLower(name) {
		case "no-store":
			d.NoStore = true
		case "no-cache":
			d.NoCache = true
		case "only-if-cached":
			d.OnlyIfCached = true
		case "max-age":
			d.MaxAge = minDelta(d.MaxAge, value)
		case "min-fresh":
			// The larger demand wins: more freshness asked is stricter.
			if v := parseDelta(value); v > d.MinFresh {
				d.MinFresh = v
			}
		case "max-stale":
			v := int64(MaxDelta)
			if hasValue {
				v = parseDelta(value)
			}
			d.MaxStale = minDelta2(d.MaxStale, v)
		}
	}
}

func minDelta(prev int64, value string) int64 { return minDelta2(prev, parseDelta(value)) }

func minDelta2(prev, v int64) int64 {
	if prev != Absent && prev < v {
		return prev
	}
	return v
}

// parseDelta reads delta-seconds (1*DIGIT); anything else is 0, and a
// value past MaxDelta is MaxDelta (§1.2.2).
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
		if v >= MaxDelta {
			return MaxDelta
		}
	}
	return v
}

// fieldNames splits the argument of a qualified no-cache or private into
// canonical header names; names that are not tokens are dropped.
func fieldNames(v string) []string {
	var out []string
	for f := range strings.SplitSeq(v, ",") {
		f = strings.TrimSpace(f)
		if IsToken(f) {
			out = append(out, http.CanonicalHeaderKey(f))
		}
	}
	return out
}

// directiveReader splits Cache-Control field lines into directives:
// comma-separated, each a token with an optional "=" and a token or quoted
// string; a comma inside quotes does not split.
type directiveReader struct {
	values []string
	cur    string
}

func (d *directiveReader) next() (name, value string, hasValue, ok bool) {
	for {
		s := strings.TrimLeft(d.cur, " \t,")
		if s == "" {
			if len(d.values) == 0 {
				return "", "", false, false
			}
			d.cur, d.values = d.values[0], d.values[1:]
			continue
		}
		i := strings.IndexAny(s, "=,")
		if i < 0 {
			d.cur = ""
			return strings.TrimRight(s, " \t"), "", false, true
		}
		name = strings.TrimRight(s[:i], " \t")
		if s[i] == ',' {
			d.cur = s[i+1:]
			return name, "", false, true
		}
		rest := strings.TrimLeft(s[i+1:], " \t")
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			j := 1
			for j < len(rest) && rest[j] != '"' {
				if rest[j] == '\\' && j+1 < len(rest) {
					j++
				}
				b.WriteByte(rest[j])
				j++
			}
			value = b.String()
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
		return name, value, true, true
	}
}

// IsToken reports whether s is an RFC 9110 token (§5.6.2).
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case c|0x20 >= 'a' && c|0x20 <= 'z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}
