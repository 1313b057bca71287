package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emgcache/emgcache/examples/internal/recordstore"
	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
)

// BenchmarkCachedAnalysis serves the cached analysis of the shipped sample
// through the server's whole handler (router, access log at its default
// level writing to a file, response cache), in process, against a bare
// handler writing the same bytes, batch by batch in turn so that both see
// the same load: x-bare is the server's time per request over the bare
// handler's.
func BenchmarkCachedAnalysis(b *testing.B) {
	const batch = 16
	repo, err := recordstore.Open(b.Context(), ":memory:")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = repo.Close() })
	cache, err := store.Open(b.Context(), store.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cache.Close() })
	p := patterns.New(cache, patterns.Options{})
	b.Cleanup(func() { _ = p.Close() })
	logFile, err := os.Create(filepath.Join(b.TempDir(), "access.log"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = logFile.Close() })
	// As run sets it up.
	buf := newLogBuffer(logFile, logFlushInterval)
	b.Cleanup(func() { _ = buf.Close() })
	log := newLogger(buf, config{logFormat: "text", logLevel: slog.LevelInfo})
	cacheLog := newCacheErrorLog(log)
	s := &server{
		repo: repo, cache: cache, patterns: p, readers: readers(), log: log,
		cacheLog: cacheLog, analysisCache: newAnalysisCache(cache, cacheLog, nil),
		maxUpload: 1 << 20, adminToken: "bench-token",
	}
	h := s.routes()

	sample, err := os.ReadFile(sampleFile)
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/emg/files?sample_rate=2000", bytes.NewReader(sample)))
	var up struct {
		FileHash string `json:"file_hash"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &up); err != nil || up.FileHash == "" {
		b.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/emg/analysis/"+up.FileHash, nil)
	for range 2 { // the fill, then a hit
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
	if cs := rec.Header().Get("Cache-Status"); !strings.HasPrefix(cs, "emgcache; hit") {
		b.Fatalf("not a hit: %q", cs)
	}
	body, contentType := rec.Body.Bytes(), rec.Header().Get("Content-Type")
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})

	w := &discardWriter{h: make(http.Header)}
	servers := []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"server", h}}
	spent := make([]time.Duration, len(servers))
	b.ReportAllocs()
	for b.Loop() {
		for i, s := range servers {
			start := time.Now()
			for range batch {
				clear(w.h)
				s.h.ServeHTTP(w, req)
			}
			spent[i] += time.Since(start)
		}
	}
	n := float64(b.N * batch)
	b.ReportMetric(float64(spent[0].Nanoseconds())/n, "ns/req-bare")
	b.ReportMetric(float64(spent[1].Nanoseconds())/n, "ns/req-server")
	b.ReportMetric(float64(spent[1])/float64(spent[0]), "x-bare")
}

// discardWriter keeps nothing but the header, like a connection's writer
// that has sent the bytes.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header               { return w.h }
func (w *discardWriter) WriteHeader(int)                   {}
func (w *discardWriter) Write(p []byte) (int, error)       { return len(p), nil }
func (w *discardWriter) WriteString(s string) (int, error) { return len(s), nil }
