package middleware

import (
	"encoding/binary"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// What is stored under a key: a response (entry) or, at the base key of a
// URI whose responses carry Vary, the list of headers they vary on (vary
// record). Both are a compact binary encoding rather than JSON: the body is
// stored as is (no base64), and decoding reads the value the store hands
// out as an immutable string (store.Cache.GetString) whose substrings become
// the header values and the body, so that decoding copies nothing and
// allocates two slices. A hit decodes nothing when the store hands out the
// string it decoded before (entryMemo).
//
// entry:
//
//	'e' version
//	uvarint status
//	varint  stored-at, Unix milliseconds
//	uvarint fresh, stale-while-revalidate, stale-if-error, milliseconds
//	uvarint number of headers, uvarint number of values
//	per header: name, uvarint number of values, values
//	body: the rest
//
// Every string is a uvarint length and its bytes.
//
// vary record:
//
//	'v' version nonce(16) uvarint count, names

const (
	kindEntry     = 'e'
	kindVary      = 'v'
	formatVersion = 1
)

// errCorrupt means a stored value is not an entry or vary record of this
// version; the middleware treats it as a miss and overwrites it.
var errCorrupt = errors.New("middleware: unreadable stored response")

// header is one response header with all its values.
type header struct {
	name   string
	values []string
}

// entry is a stored response. Its strings are substrings of the stored
// value: an entry is immutable and shared by every request it serves.
type entry struct {
	status   int
	storedAt time.Time // millisecond precision
	fresh    time.Duration
	swr, sie time.Duration
	headers  []header // canonical names, sorted, no hop-by-hop headers
	body     string
	// raw is the stored value e was decoded from: entryMemo knows e by it.
	raw string
	// hitValues holds the Age and Cache-Status of the last plain hit it
	// served, which the hits of the same second share.
	hitValues atomic.Pointer[hitValues]
}

// get returns the values of the canonical header name.
func (e *entry) get(name string) []string {
	for i := range e.headers {
		if e.headers[i].name == name {
			return e.headers[i].values
		}
	}
	return nil
}

// varyRecord lists the request headers a URI's responses vary on. Its nonce
// goes into every variant key, so that writing a new record (the Vary list
// changed, or the URI was invalidated) orphans every variant stored under
// the old one instead of letting them come back.
type varyRecord struct {
	nonce [16]byte
	names []string // canonical, sorted, unique
	// raw is the stored value the record was decoded from, if it was
	// (entryMemo.decodeVary).
	raw string
}

// encodeEntry returns the stored form of a response the handler wrote.
// Hop-by-hop headers are dropped; Content-Length is set to the body's
// length, and Date and Content-Type are added if the handler left them to
// net/http, so that every hit carries the same ones.
func encodeEntry(status int, h http.Header, body []byte, storedAt time.Time, life lifetime) []byte {
	var connection []string
	for _, v := range h["Connection"] {
		for f := range strings.SplitSeq(v, ",") {
			connection = append(connection, http.CanonicalHeaderKey(strings.TrimSpace(f)))
		}
	}
	e := entry{
		status:   status,
		storedAt: time.UnixMilli(storedAt.UnixMilli()),
		fresh:    life.fresh,
		swr:      life.swr,
		sie:      life.sie,
		headers:  make([]header, 0, len(h)+3),
	}
	for name, vs := range h {
		if len(vs) == 0 || unstoredHeaders[name] || slices.Contains(connection, name) {
			continue
		}
		e.headers = append(e.headers, header{name, vs})
	}
	if status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified {
		e.headers = append(e.headers, header{"Content-Length", []string{strconv.Itoa(len(body))}})
		// A Content-Type key with no values asks net/http not to sniff.
		if _, ok := h["Content-Type"]; !ok && len(body) > 0 {
			e.headers = append(e.headers, header{"Content-Type", []string{http.DetectContentType(body)}})
		}
	}
	if _, ok := h["Date"]; !ok {
		e.headers = append(e.headers, header{"Date", []string{e.storedAt.UTC().Format(http.TimeFormat)}})
	}
	slices.SortFunc(e.headers, func(a, b header) int { return strings.Compare(a.name, b.name) })
	raw := appendEntryHead(make([]byte, 0, headSize(&e)+len(body)), &e)
	return append(raw, body...)
}

// appendEntry appends the encoding of e.
func appendEntry(dst []byte, e *entry) []byte {
	return append(appendEntryHead(dst, e), e.body...)
}

// appendEntryHead appends everything but the body.
func appendEntryHead(dst []byte, e *entry) []byte {
	dst = append(dst, kindEntry, formatVersion)
	dst = binary.AppendUvarint(dst, uint64(e.status))
	dst = binary.AppendVarint(dst, e.storedAt.UnixMilli())
	dst = binary.AppendUvarint(dst, uint64(e.fresh.Milliseconds()))
	dst = binary.AppendUvarint(dst, uint64(e.swr.Milliseconds()))
	dst = binary.AppendUvarint(dst, uint64(e.sie.Milliseconds()))
	dst = binary.AppendUvarint(dst, uint64(len(e.headers)))
	dst = binary.AppendUvarint(dst, uint64(valueCount(e.headers)))
	for _, h := range e.headers {
		dst = appendField(dst, h.name)
		dst = binary.AppendUvarint(dst, uint64(len(h.values)))
		for _, v := range h.values {
			dst = appendField(dst, v)
		}
	}
	return dst
}

// headSize bounds what appendEntryHead writes, so that the entry is built
// in one allocation.
func headSize(e *entry) int {
	n := 2 + 6*binary.MaxVarintLen64
	for _, h := range e.headers {
		n += fieldLen(h.name) + uvarintLen(uint64(len(h.values)))
		for _, v := range h.values {
			n += fieldLen(v)
		}
	}
	return n
}

func valueCount(hs []header) int {
	n := 0
	for _, h := range hs {
		n += len(h.values)
	}
	return n
}

func fieldLen(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// decodeEntry reads an entry written by appendEntry. The entry's strings
// are substrings of s.
func decodeEntry(s string, e *entry) error {
	if len(s) < 2 || s[0] != kindEntry || s[1] != formatVersion {
		return errCorrupt
	}
	d := decoder{s: s[2:]}
	status := d.uvarint()
	storedAt := d.varint()
	fresh, swr, sie := d.millis(), d.millis(), d.millis()
	if d.err != nil || status < 100 || status > 999 {
		return errCorrupt
	}
	headers, err := d.headers()
	if err != nil {
		return err
	}
	*e = entry{
		status:   int(status),
		storedAt: time.UnixMilli(storedAt),
		fresh:    fresh,
		swr:      swr,
		sie:      sie,
		headers:  headers,
		body:     d.s,
		raw:      s,
	}
	return nil
}

// headers reads the header list: one allocation for the headers and one for
// all their values. Each header's values are capped (len == cap), so that
// appending to them, as another layer may do to a response header, copies
// instead of overwriting the next header's values in this shared entry.
func (d *decoder) headers() ([]header, error) {
	n, total := d.count(), d.count()
	if d.err != nil {
		return nil, errCorrupt
	}
	// count bounds both by the bytes left, so a forged count cannot make
	// these allocations outgrow the input.
	headers := make([]header, n)
	values := make([]string, 0, total)
	for i := range headers {
		headers[i].name = d.str()
		nv := d.count()
		if d.err != nil || headers[i].name == "" || nv > cap(values)-len(values) {
			return nil, errCorrupt
		}
		start := len(values)
		for range nv {
			values = append(values, d.str())
		}
		if d.err != nil {
			return nil, errCorrupt
		}
		headers[i].values = values[start:len(values):len(values)]
	}
	if len(values) != total {
		return nil, errCorrupt
	}
	return headers, nil
}

func appendVaryRecord(dst []byte, rec *varyRecord) []byte {
	dst = append(dst, kindVary, formatVersion)
	dst = append(dst, rec.nonce[:]...)
	dst = binary.AppendUvarint(dst, uint64(len(rec.names)))
	for _, n := range rec.names {
		dst = appendField(dst, n)
	}
	return dst
}

func decodeVaryRecord(s string, rec *varyRecord) error {
	if len(s) < 2+len(rec.nonce) || s[0] != kindVary || s[1] != formatVersion {
		return errCorrupt
	}
	copy(rec.nonce[:], s[2:])
	d := decoder{s: s[2+len(rec.nonce):]}
	n := d.count()
	if d.err != nil {
		return errCorrupt
	}
	rec.names = make([]string, n)
	for i := range rec.names {
		rec.names[i] = d.str()
	}
	if d.err != nil || d.s != "" {
		return errCorrupt
	}
	return nil
}

// decoder reads varints and length-prefixed strings from s; the first
// failure sticks in err and makes every later read return zero.
type decoder struct {
	s   string
	err error
}

// uvarint reads what binary.AppendUvarint wrote, with its overflow check.
func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	for i := 0; i < len(d.s) && i < binary.MaxVarintLen64; i++ {
		c := d.s[i]
		if i == binary.MaxVarintLen64-1 && c > 1 {
			break
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			d.s = d.s[i+1:]
			return v
		}
	}
	d.err = errCorrupt
	return 0
}

// varint reads what binary.AppendVarint wrote (zig-zag).
func (d *decoder) varint() int64 {
	u := d.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

// millis reads a duration in milliseconds.
func (d *decoder) millis() time.Duration {
	v := d.uvarint()
	if v > math.MaxInt64/uint64(time.Millisecond) {
		d.err = errCorrupt
		return 0
	}
	return time.Duration(v) * time.Millisecond
}

// count reads a list length, which cannot exceed the bytes left.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.s)) {
		d.err = errCorrupt
		return 0
	}
	return int(n)
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)) {
		d.err = errCorrupt
		return ""
	}
	v := d.s[:n]
	d.s = d.s[n:]
	return v
}
