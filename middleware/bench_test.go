package middleware_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/store"
)

// analysisBody is a typical response: 4 KiB of JSON.
var analysisBody = []byte("[" + strings.Repeat(`{"channel":"EMG1","rms":0.123456},`, 4096/34) + `{}]`)

// analysisHandler writes analysisBody like a handler that already has it:
// the floor that a cached hit is compared with.
var analysisHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(analysisBody)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(analysisBody)
})

// discardWriter is a ResponseWriter that keeps nothing, so that benchmarks
// measure the handler and the middleware, not a recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// WriteString is there because net/http's ResponseWriter has it.
func (w *discardWriter) WriteString(s string) (int, error) { return len(s), nil }

func (w *discardWriter) reset() {
	clear(w.h)
	w.status = 0
}

// BenchmarkServe runs, in one run, the floor (the handler writing the bytes
// itself), a cached hit on each backend, and a miss (handler plus store
// write) on each backend. hit/X ÷ floor is the cost of serving from cache;
// miss/X − floor is what the cache adds to a miss.
func BenchmarkServe(b *testing.B) {
	caches := map[string]*store.Cache{}
	for _, be := range backends() {
		caches[be.name] = be.open(b)
	}
	request := func(target string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r.SetPathValue("file_hash", fileA)
		return r
	}

	b.Run("floor", func(b *testing.B) {
		r := request(analysis(fileA))
		w := &discardWriter{h: make(http.Header)}
		b.ReportAllocs()
		for b.Loop() {
			w.reset()
			analysisHandler.ServeHTTP(w, r)
		}
	})
	for _, be := range backends() {
		h := middleware.New(caches[be.name], middleware.Options{})(analysisHandler)
		b.Run("hit/"+be.name, func(b *testing.B) {
			r := request(analysis(fileA))
			w := &discardWriter{h: make(http.Header)}
			h.ServeHTTP(w, r)
			w.reset()
			h.ServeHTTP(w, r)
			if s := w.h.Get("Cache-Status"); !strings.HasPrefix(s, "emgcache; hit") {
				b.Fatalf("warm-up did not hit: %q", s)
			}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				h.ServeHTTP(w, r)
			}
		})
	}
	for _, be := range backends() {
		m := middleware.NewResponseCache(caches[be.name], middleware.Options{})
		h := m.Handler(analysisHandler)
		b.Run("miss/"+be.name, func(b *testing.B) {
			// A new query per iteration: every request is a miss and a store
			// write. Built beforehand so that the loop measures serving.
			reqs := make([]*http.Request, b.N)
			for i := range reqs {
				reqs[i] = request(analysis(fileA) + "?n=" + strconv.Itoa(i))
			}
			w := &discardWriter{h: make(http.Header)}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				w.reset()
				h.ServeHTTP(w, reqs[i])
			}
			b.StopTimer()
			if s := w.h.Get("Cache-Status"); !strings.HasSuffix(s, "stored") {
				b.Fatalf("not a stored miss: %q", s)
			}
			_ = m.Invalidate(context.Background(), fileA)
		})
	}
}
