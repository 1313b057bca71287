package middleware

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Key layout. Every response of one KeyFunc value v lives under one group
// prefix, and every key of the group carries the version of one namespace:
//
//	{KeyPrefix}{v}:{base}      the response to a URI, or its vary record
//	{KeyPrefix}{v}:{variant}   the response for one set of values of the
//	                           request headers the vary record names
//	{NamespacePrefix}{v}       the namespace (store.Cache.NamespaceVersion)
//
// With the default prefixes and KeyFunc, that is the EMG layout:
// emg_analysis:{file_hash}:{digest} under the namespace emg_file:{file_hash},
// which patterns.Layer.VersionedKey shares for the file's metadata. A value
// that is not plain (empty, over maxPlainValue bytes, or a byte outside
// '!'..'~', or '#') is replaced by '#' and the hex of the first 128 bits of
// its SHA-256, so that no byte of it reaches a key and keys stay short; the
// '#' keeps a hashed value apart from every plain one.
//
// base and variant are 32 hex digits: the first 128 bits of a SHA-256 of a
// length-prefixed encoding of what makes responses differ, which includes
// the namespace's version. Invalidate and every successful unsafe method
// replace that version, so every key of the group changes at once: one
// write, whatever the cache holds, and a fill that computed its key before
// lands where nobody reads. The encoding is injective (every field carries
// its length, every list its count), so two requests share a key only if
// they agree on every part of it or SHA-256 collides; 128 bits leave a
// second preimage (one request aimed at another's key) out of reach. A
// keyed hash would save nothing measurable and would have to be shared by
// every process of a service.

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

// maxPlainValue is the longest KeyFunc value used as is in keys: a
// SHA-512 in hex fits.
const maxPlainValue = 128

// maxPrefix bounds KeyPrefix, so that a key is built on the stack.
const maxPrefix = 64

// maxGroup is the longest group: the prefix, a value and its ':'.
const maxGroup = maxPrefix + maxPlainValue + 1

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
// {KeyPrefix}{value}:.
func (k *requestKey) group() string { return k.base[:len(k.base)-2*len(digest{})] }

// plain reports whether a KeyFunc value goes into keys as it is.
func plain(v string) bool {
	if v == "" || len(v) > maxPlainValue {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < '!' || c > '~' || c == '#' {
			return false
		}
	}
	return true
}

// appendValue appends v as keys hold it: itself when plain, else '#' and
// the hex of its digest. It returns false for "".
func appendValue(dst []byte, v string) ([]byte, bool) {
	if v == "" {
		return dst, false
	}
	if plain(v) {
		return append(dst, v...), true
	}
	var stack [128]byte
	in := appendField(stack[:0], keyVersion)
	in = appendField(in, groupDomain)
	in = append(in, v...)
	d := sum(in)
	dst = append(dst, '#')
	return hex.AppendEncode(dst, d[:]), true
}

// appendGroup appends the key prefix of a KeyFunc value, or returns false
// for "".
func appendGroup(dst []byte, prefix, v string) ([]byte, bool) {
	dst = append(dst, prefix...)
	dst, ok := appendValue(dst, v)
	if !ok {
		return dst, false
	}
	return append(dst, ':'), true
}

// groupFor appends the group of v (appendGroup) to dst and returns it with
// the namespace whose version is in every key of v, or false for "". Both
// hold v as keys do, so a value that is not plain is hashed once for the
// two.
func (c *config) groupFor(dst []byte, v string) (group []byte, ns string, ok bool) {
	group, ok = appendGroup(dst, c.keyPrefix, v)
	if !ok {
		return dst, "", false
	}
	return group, c.nsPrefix + string(group[len(dst)+len(c.keyPrefix):len(group)-1]), true
}

// namespaceFor returns the namespace whose version is in every key of a
// KeyFunc value, or false for "".
func (c *config) namespaceFor(v string) (string, bool) {
	var gb [maxGroup]byte
	_, ns, ok := c.groupFor(gb[:0], v)
	return ns, ok
}

// keyFromBaseInput returns the base key of a request from its group
// (appendGroup) and base input (appendBaseInput).
func keyFromBaseInput(group []byte, ns, version string, base []byte) requestKey {
	var stack [512]byte
	d := sum(append(appendField(stack[:0], version), base...))
	var kb [maxGroup + 2*len(digest{})]byte
	b := append(kb[:0], group...)
	return requestKey{ns: ns, version: version, digest: d, base: string(hex.AppendEncode(b, d[:]))}
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
	var stack [maxGroup + 2*len(digest{})]byte
	b := append(stack[:0], group...)
	b = hex.AppendEncode(b, d[:])
	return string(b)
}
