package main

import (
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
func (s *server) accessLog(next http.Handler) http.Handler {
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
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", routeOf(r)),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
		}
		if h := mux.Vars(r)["file_hash"]; h != "" && len(h) <= 128 {
			attrs = append(attrs, slog.String("file_hash", h))
		}
		if cs := sw.Header().Get("Cache-Status"); cs != "" {
			attrs = append(attrs, slog.String("cache_status", cs))
		}
		// Info even for a 5xx: the handler has logged a failure of its own
		// as an error, and a 503 from the health endpoint is its answer,
		// polled by load balancers, not a fault of the request.
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
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
