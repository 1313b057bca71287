package middleware

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// recorder is the ResponseWriter a fill hands the handler. It buffers the
// response so that it can be stored and shared, but never more than the
// body limit: past it, or as soon as the handler flushes, it gives up,
// writes what it has to the client and passes the rest straight through.
// So memory stays bounded, and streaming handlers still stream (uncached).
type recorder struct {
	client http.ResponseWriter // nil for a background revalidation
	header http.Header
	sent   http.Header // header as it was at WriteHeader
	status int
	body   []byte
	limit  int
	// passing: the recorder gave up buffering; writes go to the client.
	passing bool
	// onPass is called once, when the recorder gives up, with the status;
	// it returns the Cache-Status to send.
	onPass func(status int) string
}

var (
	_ http.ResponseWriter = (*recorder)(nil)
	_ http.Flusher        = (*recorder)(nil)
)

// bodyPool recycles the buffers of fills whose bodies are small: the body
// is copied into the stored entry, so the buffer is garbage right after.
// Larger buffers are left to the collector, so the pool cannot pin
// megabytes.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, pooledBodyBytes); return &b }}

const pooledBodyBytes = 16 << 10

func newRecorder(client http.ResponseWriter, limit int, onPass func(int) string) *recorder {
	rec := &recorder{client: client, header: make(http.Header), limit: limit, onPass: onPass}
	if limit >= pooledBodyBytes {
		rec.body = (*bodyPool.Get().(*[]byte))[:0]
	}
	return rec
}

// release returns the body buffer to the pool; the recorder must not be
// used afterwards.
func (rec *recorder) release() {
	if cap(rec.body) == pooledBodyBytes {
		b := rec.body[:0]
		bodyPool.Put(&b)
	}
	rec.body = nil
}

func (rec *recorder) Header() http.Header { return rec.header }

func (rec *recorder) WriteHeader(code int) {
	if code < 100 || code > 999 {
		// As net/http does: an invalid status is the handler's bug.
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	// A second final status is ignored, as net/http ignores it.
	if rec.status != 0 {
		return
	}
	if code < 200 {
		rec.informational(code)
		return
	}
	rec.status = code
	rec.sent = rec.header.Clone()
	if cl := rec.sent.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n > int64(rec.limit) {
			rec.pass()
		}
	}
}

// informational passes a 103 Early Hints on to the client at once, with
// the fields the handler set for it (httputil.ReverseProxy sets the
// origin's, then clears them): it is meant for this client now, and a
// stored response has no use for it. Other 1xx are net/http's own business
// (100 Continue) or end the exchange (101). A background revalidation has
// no client to tell.
func (rec *recorder) informational(code int) {
	if code != http.StatusEarlyHints || rec.client == nil {
		return
	}
	dst := rec.client.Header()
	var added []string
	for name, vs := range rec.header {
		if _, ok := dst[name]; !ok {
			dst[name] = vs
			added = append(added, name)
		}
	}
	rec.client.WriteHeader(code)
	for _, name := range added {
		delete(dst, name)
	}
}

func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	if !rec.passing && len(rec.body)+len(p) > rec.limit {
		rec.pass()
	}
	if rec.passing {
		if rec.client == nil {
			return len(p), nil
		}
		return rec.client.Write(p)
	}
	if need := len(rec.body) + len(p); need > cap(rec.body) {
		// Grow by doubling, but never past the limit: a body that ends up
		// just under it must not cost twice its size.
		b := make([]byte, len(rec.body), min(max(2*cap(rec.body), need, 512), rec.limit))
		copy(b, rec.body)
		rec.release()
		rec.body = b
	}
	rec.body = append(rec.body, p...)
	return len(p), nil
}

// Flush means the handler streams: it gives up buffering and flushes the
// client.
func (rec *recorder) Flush() { _ = rec.FlushError() }

// FlushError is what http.ResponseController calls.
func (rec *recorder) FlushError() error {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	rec.pass()
	if rec.client == nil {
		return nil
	}
	return http.NewResponseController(rec.client).Flush()
}

// Unwrap lets http.ResponseController reach the client's deadlines.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.client }

// pass gives up buffering: the status, headers and body so far go to the
// client.
func (rec *recorder) pass() {
	if rec.passing {
		return
	}
	rec.passing = true
	cs := rec.onPass(rec.status)
	if rec.client != nil {
		dst := rec.client.Header()
		for name, vs := range rec.sent {
			dst[name] = vs
		}
		addStatus(dst, cs)
		rec.client.WriteHeader(rec.status)
		if len(rec.body) > 0 {
			_, _ = rec.client.Write(rec.body)
		}
	}
	rec.release()
}

// finish completes a response the handler left without a status, as
// net/http does, and reports the status, the headers, and whether the
// handler set trailers, which a stored response could not replay.
func (rec *recorder) finish() (status int, h http.Header, trailers bool) {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	if len(rec.sent["Trailer"]) > 0 {
		trailers = true
	}
	for name := range rec.header {
		if strings.HasPrefix(name, http.TrailerPrefix) {
			trailers = true
		}
	}
	return rec.status, rec.sent, trailers
}

// writeTo sends the recorded response, as the handler wrote it, to w.
func (rec *recorder) writeTo(w http.ResponseWriter, cacheStatus string) {
	dst := w.Header()
	for name, vs := range rec.sent {
		dst[name] = vs
	}
	addStatus(dst, cacheStatus)
	// Before WriteHeader: net/http decides there on chunked encoding, which
	// trailers need, and it never sends these keys as headers.
	rec.copyPrefixedTrailers(dst)
	w.WriteHeader(rec.status)
	if len(rec.body) > 0 {
		_, _ = w.Write(rec.body)
	}
	rec.copyTrailers(dst)
}

// copyTrailers hands the client the trailers the handler set once its body
// was written: the values of names declared in Trailer, and keys with
// http.TrailerPrefix. net/http sends them when the handler returns.
func (rec *recorder) copyTrailers(dst http.Header) {
	rec.copyPrefixedTrailers(dst)
	for _, line := range rec.sent["Trailer"] {
		for name := range strings.SplitSeq(line, ",") {
			name = http.CanonicalHeaderKey(strings.TrimSpace(name))
			if vs, ok := rec.header[name]; ok {
				dst[name] = vs
			}
		}
	}
}

func (rec *recorder) copyPrefixedTrailers(dst http.Header) {
	for name, vs := range rec.header {
		if strings.HasPrefix(name, http.TrailerPrefix) {
			dst[name] = vs
		}
	}
}

// statusRecorder remembers the status of a response it passes through; it
// watches unsafe methods, whose success invalidates the cached URI.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

func (s *statusRecorder) Flush() { _ = http.NewResponseController(s.ResponseWriter).Flush() }

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
