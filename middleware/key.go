package middleware

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/emgcache/emgcache/store"
)

// Key layout. Every response of one KeyFunc value lives under one group
// prefix, so that Invalidate finds all of them with one pattern. A value that
// is an EMG file hash keeps the EMG layout:
//
//	emg_analysis:{hash}:{base}        the response to a URI, or its vary record
//	emg_analysis:{hash}:{variant}     the response for one set of values of the
//	                                  request headers the vary record names
//
// Any other value v is hashed into the group, so that no byte of it reaches
// the key or a SCAN pattern: http_response:{first 128 bits of SHA-256(v) in
// hex}:{base}, and so on.
//
// base and variant are 32 hex digits: the first 128 bits of a SHA-256 of a
// length-prefixed encoding of what makes responses differ, which includes
// the version of the value's namespace: store.FileNamespace for a file
// hash (shared with patterns.Patterns' keys of the file's analysis and
// metadata), the group without its ':' for any other value. Invalidate,
// InvalidateKey and every successful unsafe method replace that version,
// so every key of the group changes at once: one write, whatever the cache
// holds, and a fill that computed its key before lands where nobody reads. The encoding is
// injective (every field carries its length, every list its count), so two
// requests share a key only if they agree on every part of it or SHA-256
// collides; 128 bits leave a second preimage (one request aimed at another's
// key) out of reach. A keyed hash would save nothing measurable and would
// have to be shared by every process of a service.

// keyVersion starts every encoded key: a change of the layout changes every
// key, so that a new version never misreads an old entry.
const keyVersion = "emgcache/middleware/1"

// Domain separation between the two digests.
const (
	baseDomain    = "base"
	variantDomain = "variant"
)

// maxQueryParams bounds the work a request's query costs the key: a query
// of more '&'-separated segments is not a cache candidate. net/url allows
// 10000.
const maxQueryParams = 1000

// HTTPResponsePrefix starts the keys of responses whose KeyFunc value is
// not an EMG file hash.
const HTTPResponsePrefix = "http_response:"

// groupDomain separates the hash of a KeyFunc value from the key digests.
const groupDomain = "group"

type digest [16]byte

// requestKey is where a request's responses live.
type requestKey struct {
	ns      string // the namespace of the KeyFunc value
	version string // of ns when the key was made
	digest  digest // of the version, method family, URI and KeyHeaders
	base    string // {group}{hex of digest}
}

// group is the prefix shared by every key of the request's KeyFunc value:
// emg_analysis:{hash}: or http_response:{hex}:.
func (k *requestKey) group() string { return k.base[:len(k.base)-2*len(digest{})] }

// appendGroup appends the key prefix of a KeyFunc value, or returns false
// for "".
func appendGroup(dst []byte, v string) ([]byte, bool) {
	if v == "" {
		return dst, false
	}
	if h, ok := fileHash(v); ok {
		dst = append(dst, store.AnalysisPrefix...)
		dst = append(dst, h...)
		return append(dst, ':'), true
	}
	var stack [128]byte
	in := appendField(stack[:0], keyVersion)
	in = appendField(in, groupDomain)
	in = append(in, v...)
	d := sum(in)
	dst = append(dst, HTTPResponsePrefix...)
	dst = hex.AppendEncode(dst, d[:])
	return append(dst, ':'), true
}

// namespaceFor returns the namespace whose version is in every key of a
// KeyFunc value, or false for "".
func namespaceFor(v string) (string, bool) {
	if h, ok := fileHash(v); ok {
		return store.FilePrefix + h, true
	}
	b, ok := appendGroup(nil, v)
	if !ok {
		return "", false
	}
	return string(b[:len(b)-1]), true
}

// keyFor returns the base key of r for the KeyFunc value v, whose
// namespace ns has the version version, or false when v is "" or r's query
// cannot be normalised (a bad escape, a ';' separator, too many
// parameters): net/url would drop parts of such a query, and a key must
// never merge two requests a handler may tell apart. host, when not "",
// replaces the request's Host (Options.CanonicalHost).
func keyFor(r *http.Request, v, ns, version string, keyHeaders []string, host string) (requestKey, bool) {
	var stack [512]byte
	base, ok := appendBaseInput(stack[:0], r, keyHeaders, host)
	if !ok {
		return requestKey{}, false
	}
	return keyFromBaseInput(v, ns, version, base)
}

// keyFromBaseInput is keyFor from the request's base input, as
// appendBaseInput wrote it.
func keyFromBaseInput(v, ns, version string, base []byte) (requestKey, bool) {
	var stack [512]byte
	d := sum(append(appendField(stack[:0], version), base...))
	var kb [len(store.AnalysisPrefix) + 128 + 1 + 2*len(digest{})]byte
	b, ok := appendGroup(kb[:0], v)
	if !ok {
		return requestKey{}, false
	}
	return requestKey{ns: ns, version: version, digest: d, base: string(hex.AppendEncode(b, d[:]))}, true
}

// appendBaseInput appends the encoding of everything that selects a
// response regardless of Vary: the method family (GET and HEAD share
// entries), scheme, host, escaped path, query parameters sorted by name
// (the values of one name keep their order, which handlers may rely on),
// and the values of the configured KeyHeaders. host, when not "", stands
// for the request's Host.
func appendBaseInput(dst []byte, r *http.Request, keyHeaders []string, host string) ([]byte, bool) {
	if r.URL == nil {
		return dst, false
	}
	dst = appendField(dst, keyVersion)
	dst = appendField(dst, baseDomain)
	dst = appendField(dst, http.MethodGet)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	dst = appendField(dst, scheme)
	if host == "" {
		host = r.Host
	}
	// Host names are case-insensitive; fold without allocating.
	dst = binary.AppendUvarint(dst, uint64(len(host)))
	for i := 0; i < len(host); i++ {
		c := host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	// The escaped path keeps "/a%2Fb" apart from "/a/b", which ServeMux
	// routes differently.
	dst = appendField(dst, r.URL.EscapedPath())
	dst, ok := appendQuery(dst, r.URL.RawQuery)
	if !ok {
		return dst, false
	}
	return appendHeaders(dst, r.Header, keyHeaders), true
}

type queryParam struct{ name, value string }

// appendQuery appends the parameters of raw as url.ParseQuery reads them,
// sorted by name.
func appendQuery(dst []byte, raw string) ([]byte, bool) {
	if raw != "" && strings.Count(raw, "&") >= maxQueryParams {
		return dst, false
	}
	var stack [16]queryParam
	params := stack[:0]
	for raw != "" {
		var seg string
		seg, raw, _ = strings.Cut(raw, "&")
		if seg == "" {
			continue
		}
		if strings.Contains(seg, ";") {
			return dst, false
		}
		name, value, _ := strings.Cut(seg, "=")
		name, err := url.QueryUnescape(name)
		if err != nil {
			return dst, false
		}
		value, err = url.QueryUnescape(value)
		if err != nil {
			return dst, false
		}
		params = append(params, queryParam{name, value})
	}
	slices.SortStableFunc(params, func(a, b queryParam) int { return strings.Compare(a.name, b.name) })
	dst = binary.AppendUvarint(dst, uint64(len(params)))
	for _, p := range params {
		dst = appendField(dst, p.name)
		dst = appendField(dst, p.value)
	}
	return dst, true
}

// appendHeaders appends the values of the named request headers. Every
// field line counts, so an absent header (0 lines), an empty one (1 empty
// line) and "a, b" against "a" + "b" all differ: a cache may merge those
// only if it knows the header's syntax, and merging less is never wrong.
func appendHeaders(dst []byte, h http.Header, names []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(names)))
	for _, name := range names {
		dst = appendField(dst, name)
		vs := h[name]
		dst = binary.AppendUvarint(dst, uint64(len(vs)))
		for _, v := range vs {
			dst = appendField(dst, v)
		}
	}
	return dst
}

// variantKey returns the key of the response to a request with header
// values h, for a URI whose vary record is rec.
func variantKey(k *requestKey, rec *varyRecord, h http.Header) string {
	var stack [256]byte
	in := appendField(stack[:0], keyVersion)
	in = appendField(in, variantDomain)
	in = append(in, k.digest[:]...)
	in = append(in, rec.nonce[:]...)
	in = appendHeaders(in, h, rec.names)
	return digestKey(k.group(), sum(in))
}

func appendField(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func sum(in []byte) digest {
	full := sha256.Sum256(in)
	return digest(full[:len(digest{})])
}

// digestKey returns {group}{hex of d} in one allocation.
func digestKey(group string, d digest) string {
	var stack [len(store.AnalysisPrefix) + 128 + 1 + 2*len(digest{})]byte
	b := append(stack[:0], group...)
	b = hex.AppendEncode(b, d[:])
	return string(b)
}

// fileHash checks h like store.ValidateFileHash and returns it in lower
// case, without allocating when it already is.
func fileHash(h string) (string, bool) {
	switch len(h) {
	case 32, 40, 64, 128:
	default:
		return "", false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			v, err := store.ValidateFileHash(h)
			return v, err == nil
		}
	}
	return h, true
}
