package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"
)

// accessLog logs one record per request. It names the route template, not
// the path, so that user ids stay out of the log.
func (s *server) accessLog(next http.Handler) http.Handler { return s.logRequests(next, "") }

// logRequests is accessLog for the requests of the route template route,
// or of the gorilla/mux route they matched when route is "".
func (s *server) logRequests(next http.Handler, route string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if !s.log.Enabled(r.Context(), slog.LevelInfo) {
			// Building the record costs allocations a disabled level
			// should not pay on every request.
			return
		}
		status := sw.status
		switch {
		case status == 0 && r.Context().Err() != nil:
			// Nothing was sent: the client left first. 499 is what
			// nginx logs for it.
			status = 499
		case status == 0:
			status = http.StatusOK
		}
		// The record is handed to the handler itself: Logger.LogAttrs
		// would also capture the caller's program counter, which no
		// handler here prints (about 8% of a cached request's time).
		now := time.Now()
		rec := slog.NewRecord(now, slog.LevelInfo, "request", 0)
		rec.AddAttrs(
			slog.String("method", r.Method),
			slog.String("route", cmp.Or(route, routeOf(r))),
			slog.Int("status", status),
			slog.Duration("duration", now.Sub(start)),
		)
		if h := pathValue(r, "file_hash"); h != "" && len(h) <= 128 {
			rec.AddAttrs(slog.String("file_hash", h))
		}
		if cs := sw.Header().Get("Cache-Status"); cs != "" {
			rec.AddAttrs(slog.String("cache_status", cs))
		}
		// Info even for a 5xx: the handler has logged a failure of its own
		// as an error, and a 503 from the health endpoint is its answer,
		// polled by load balancers, not a fault of the request. A failed
		// write has no log left to go to.
		_ = s.log.Handler().Handle(r.Context(), rec)
	})
}

// pathValue returns the value of the wildcard name of the route r
// matched, whichever router matched it.
func pathValue(r *http.Request, name string) string {
	if v := r.PathValue(name); v != "" {
		return v
	}
	return mux.Vars(r)[name]
}

// routeOf returns the template of the route r matched, or its path when it
// matched none.
func routeOf(r *http.Request) string {
	if cur := mux.CurrentRoute(r); cur != nil {
		if tmpl, err := cur.GetPathTemplate(); err == nil {
			return tmpl
		}
	}
	return r.URL.Path
}

// statusWriter records the status a handler sends. It passes WriteString
// and ReadFrom through, so that a body written as a string, or copied from
// a reader (http.ServeContent, io.Copy), goes to net/http's own fast paths
// instead of being converted or cut into 32 KiB pieces here; Unwrap lets
// http.ResponseController reach the connection's Flush through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

var (
	_ io.StringWriter = (*statusWriter)(nil)
	_ io.ReaderFrom   = (*statusWriter)(nil)
)

func (w *statusWriter) WriteHeader(code int) {
	// 1xx responses are interim; the final status comes later.
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) WriteString(s string) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return io.WriteString(w.ResponseWriter, s)
}

func (w *statusWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	// The writer below has no ReadFrom: io.Copy cannot come back here.
	return io.Copy(w.ResponseWriter, src)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// cacheWarnInterval is how often an absorbed cache failure is logged as a
// warning.
const cacheWarnInterval = 10 * time.Second

// cacheErrorLog logs the cache failures that requests absorbed by falling
// back to the database. While Redis is down every request fails over, so
// one warning per interval says so, counting the failures since the last
// one; the others are logged at debug level.
type cacheErrorLog struct {
	log *slog.Logger

	mu         sync.Mutex
	nextWarn   time.Time
	suppressed int
}

func newCacheErrorLog(log *slog.Logger) *cacheErrorLog {
	return &cacheErrorLog{log: log}
}

// absorbed logs err, a failure of the cache for key ("" when unknown) that
// a request survived.
func (c *cacheErrorLog) absorbed(ctx context.Context, key string, err error) {
	if errors.Is(err, context.Canceled) {
		// The client went away; the cache did nothing wrong.
		return
	}
	now := time.Now()
	c.mu.Lock()
	warn := !now.Before(c.nextWarn)
	suppressed := c.suppressed
	if warn {
		c.nextWarn, c.suppressed = now.Add(cacheWarnInterval), 0
	} else {
		c.suppressed++
	}
	c.mu.Unlock()

	attrs := []slog.Attr{slog.String("error", err.Error())}
	if key != "" {
		attrs = append(attrs, slog.String("key", key))
	}
	if !warn {
		c.log.LogAttrs(ctx, slog.LevelDebug, "cache failure absorbed", attrs...)
		return
	}
	attrs = append(attrs, slog.Int("more_since_last_warning", suppressed))
	c.log.LogAttrs(ctx, slog.LevelWarn, "cache failure absorbed; serving from the database", attrs...)
}

// logFlushInterval bounds how long a log record waits in the buffer.
const logFlushInterval = 50 * time.Millisecond

// logBuffer collects log records and writes them out together, at most
// logFlushInterval after the first, or as soon as the buffer is full: one
// write to the log's file per record would cost every request a system
// call of its own, about a sixth of a cached request's time in process
// (BenchmarkCachedAnalysis). Close writes out what is left and stops the
// flushing; records written after Close go out at once.
type logBuffer struct {
	mu     sync.Mutex
	w      *bufio.Writer
	closed bool
	stop   chan struct{}
	done   chan struct{}
}

func newLogBuffer(out io.Writer, interval time.Duration) *logBuffer {
	b := &logBuffer{w: bufio.NewWriterSize(out, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go b.flushEvery(interval)
	return b
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.w.Write(p)
	if err == nil && b.closed {
		err = b.w.Flush()
	}
	return n, err
}

func (b *logBuffer) flushEvery(interval time.Duration) {
	defer close(b.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.mu.Lock()
			if b.w.Buffered() > 0 {
				// A failed write has no log left to go to; bufio keeps the
				// error and Write returns it to slog, which drops it too.
				_ = b.w.Flush()
			}
			b.mu.Unlock()
		}
	}
}

// Close writes out the buffered records and stops the flushing.
func (b *logBuffer) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Flush()
}
