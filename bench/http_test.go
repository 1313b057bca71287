package bench

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// The HTTP peers a Go service would put in front of a handler instead,
// victorspringer/http-cache and Souin (github.com/darkweak/souin), are not
// measured: the module proxy this repository builds from serves neither
// (it answers 403 for both module paths), so they cannot be built as
// modules here.

// httpServer is one way of answering GET /file with a fixed body:
// the bare handler (the baseline), or the middleware in front of it.
type httpServer struct {
	name    string
	handler http.Handler
}

// httpServers returns the bare handler writing body and the middleware
// wrapping it on each backend, every response fresh for an hour.
func httpServers(tb testing.TB, body []byte) []httpServer {
	tb.Helper()
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Cache-Control", "max-age=3600")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	// The KeyFunc returns a constant, as one returning a hash the router
	// captured costs: the figures are the cache's, not a key function's.
	opts := middleware.Options{KeyFunc: func(*http.Request) string { return "0123456789abcdef0123456789abcdef" }}
	embedded := openStore(tb, store.Config{})
	redis := openStore(tb, store.Config{URL: storetest.NewServer(tb).URL(), KeyPrefix: keyPrefix, OpTimeout: opTimeout})
	return []httpServer{
		{"bare", bare},
		{"emgcache-embedded", middleware.New(embedded, opts)(bare)},
		{"emgcache-redis", middleware.New(redis, opts)(bare)},
	}
}

var httpBodies = []struct {
	name string
	size int
}{{"4KiB", 4 << 10}, {"64KiB", 64 << 10}}

// BenchmarkHTTPHit serves cached hits over loopback keep-alive
// connections from 16 concurrent clients (b.RunParallel, 8 per core),
// against the bare handler writing the same bytes. Every client sends its
// requests to the servers in turn (bare, embedded, Redis, bare, ...), so
// that all three see the same load on a shared machine: the metrics are
// each server's time per request (µs/req-NAME) and its ratio to the bare
// handler's (x-bare-NAME; with every server answering the same clients,
// 1/x is the throughput ratio). Client and servers share the machine.
func BenchmarkHTTPHit(b *testing.B) {
	for _, size := range httpBodies {
		body := value(size.size)
		servers := httpServers(b, body)
		b.Run("body="+size.name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
			defer client.CloseIdleConnections()
			urls := make([]string, len(servers))
			wants := make([]string, len(servers))
			for i, s := range servers {
				srv := httptest.NewServer(s.handler)
				defer srv.Close()
				urls[i] = srv.URL + "/file"
				if s.name != "bare" {
					wants[i] = "emgcache; hit"
				}
				for range 2 { // the fill, then a hit
					if err := fetch(client, urls[i], len(body), ""); err != nil {
						b.Fatal(err)
					}
				}
			}
			spent := make([]atomic.Int64, len(servers))
			count := make([]atomic.Int64, len(servers))
			b.SetParallelism(8)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					t := i % len(servers)
					start := time.Now()
					if err := fetch(client, urls[t], len(body), wants[t]); err != nil {
						b.Error(err)
						return
					}
					spent[t].Add(int64(time.Since(start)))
					count[t].Add(1)
				}
			})
			b.StopTimer()
			per := func(i int) float64 { return float64(spent[i].Load()) / float64(max(count[i].Load(), 1)) }
			for i, s := range servers {
				b.ReportMetric(per(i)/1e3, "µs/req-"+s.name)
				if i > 0 {
					b.ReportMetric(per(i)/per(0), "x-bare-"+s.name)
				}
			}
		})
	}
}

// fetch GETs url and checks the body's length and, if want is set, that
// Cache-Status starts with it.
func fetch(client *http.Client, url string, size int, want string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	n, err := io.Copy(io.Discard, resp.Body)
	switch {
	case err != nil:
		return err
	case n != int64(size):
		return fmt.Errorf("%s: %d bytes, want %d", url, n, size)
	case want != "" && !strings.HasPrefix(resp.Header.Get("Cache-Status"), want):
		return fmt.Errorf("%s: Cache-Status %q, want %q", url, resp.Header.Get("Cache-Status"), want)
	}
	return nil
}

// BenchmarkHTTPHitCPU is one hit in process, into a ResponseWriter that
// discards it: the CPU and allocations a hit costs the server, against the
// bare handler's. Each iteration serves a batch of requests from every
// server in turn, timing each batch, so that the servers share whatever
// load the machine is under: the metrics are each server's time per
// request (ns/req-NAME), its ratio to the bare handler's over the same
// iterations (x-bare-NAME) and its allocations per request
// (allocs/req-NAME). ns/op is the time of one iteration over all servers.
func BenchmarkHTTPHitCPU(b *testing.B) {
	const batch = 16
	for _, size := range httpBodies {
		body := value(size.size)
		servers := httpServers(b, body)
		b.Run("body="+size.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/file", nil)
			w := &discardWriter{h: make(http.Header)}
			serve := func(s httpServer) {
				w.reset()
				s.handler.ServeHTTP(w, r)
			}
			allocs := make([]float64, len(servers))
			for i, s := range servers {
				serve(s) // the fill
				serve(s)
				if s.name != "bare" && !strings.HasPrefix(w.h.Get("Cache-Status"), "emgcache; hit") {
					b.Fatalf("%s: warm-up did not hit: %q", s.name, w.h.Get("Cache-Status"))
				}
				allocs[i] = testing.AllocsPerRun(100, func() { serve(s) })
			}
			spent := make([]time.Duration, len(servers))
			b.ReportAllocs()
			for b.Loop() {
				for i, s := range servers {
					start := time.Now()
					for range batch {
						serve(s)
					}
					spent[i] += time.Since(start)
				}
			}
			n := float64(b.N * batch)
			for i, s := range servers {
				b.ReportMetric(float64(spent[i].Nanoseconds())/n, "ns/req-"+s.name)
				b.ReportMetric(allocs[i], "allocs/req-"+s.name)
				if i > 0 {
					b.ReportMetric(float64(spent[i])/float64(spent[0]), "x-bare-"+s.name)
				}
			}
		})
	}
}

// discardWriter keeps nothing but the header, like a connection's writer
// that has sent the bytes.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

func (w *discardWriter) reset() {
	clear(w.h)
	w.status = 0
}

// TestHTTPServers checks that every case of the HTTP benchmarks serves the
// body, and that the cached ones serve it from the cache.
func TestHTTPServers(t *testing.T) {
	body := value(4 << 10)
	for _, s := range httpServers(t, body) {
		t.Run(s.name, func(t *testing.T) {
			srv := httptest.NewServer(s.handler)
			defer srv.Close()
			client := &http.Client{}
			defer client.CloseIdleConnections()
			if err := fetch(client, srv.URL+"/file", len(body), ""); err != nil {
				t.Fatal(err)
			}
			want := "emgcache; hit"
			if s.name == "bare" {
				want = ""
			}
			if err := fetch(client, srv.URL+"/file", len(body), want); err != nil {
				t.Fatal(err)
			}
		})
	}
}
