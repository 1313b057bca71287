package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emgcache/emgcache/store"
)

// BenchmarkHit compares a hit through the proxy with the same request
// served by the origin directly, both over real loopback connections, at
// several body sizes. The origin is a static handler, the cheapest an
// origin can be: the proxy's extra hop is all the cache adds, and no
// origin work is saved. Compare origin/N with proxy-hit/N of one run.
func BenchmarkHit(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10, 256 << 10} {
		body := strings.Repeat("x", size)
		origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=3600")
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = io.WriteString(w, body)
		}))
		u, _ := url.Parse(origin.URL)
		cache, err := store.Open(b.Context(), store.Config{})
		if err != nil {
			b.Fatal(err)
		}
		proxy := httptest.NewServer(newProxy(cache, u, staleWindows{}, slog.New(slog.DiscardHandler)))
		name := map[int]string{1 << 10: "1KiB", 16 << 10: "16KiB", 256 << 10: "256KiB"}[size]
		for _, target := range []struct{ name, url string }{{"origin", origin.URL}, {"proxy-hit", proxy.URL}} {
			b.Run(target.name+"/"+name, func(b *testing.B) {
				c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
				defer c.CloseIdleConnections()
				// get fetches the blob; for the proxy after its first
				// request every answer must be a hit, or the benchmark
				// would measure the origin through a detour.
				get := func(wantHit bool) bool {
					resp, err := c.Get(target.url + "/blob")
					if err != nil {
						b.Error(err)
						return false
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if n != int64(size) {
						b.Errorf("got %d bytes, want %d", n, size)
						return false
					}
					if cs := resp.Header.Get("Cache-Status"); wantHit && !strings.Contains(cs, "hit") {
						b.Errorf("Cache-Status %q: not a hit", cs)
						return false
					}
					return true
				}
				get(false) // the proxy's miss, stored
				wantHit := target.name == "proxy-hit"
				b.ReportAllocs()
				b.SetBytes(int64(size))
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() && get(wantHit) {
					}
				})
			})
		}
		proxy.Close()
		origin.Close()
		_ = cache.Close()
	}
}

// BenchmarkHitRatio alternates one request to the origin and one hit
// through the proxy, each over its own kept-alive loopback connection, and
// reports the proxy's time per request over the origin's: on a shared,
// noisy machine, interleaving exposes both to the same load, which
// back-to-back sub-benchmarks do not. Below 1 means the proxy's hit is
// faster than the origin's static answer.
func BenchmarkHitRatio(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10, 256 << 10} {
		b.Run(map[int]string{1 << 10: "1KiB", 16 << 10: "16KiB", 256 << 10: "256KiB"}[size], func(b *testing.B) {
			body := strings.Repeat("x", size)
			origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=3600")
				_, _ = io.WriteString(w, body)
			}))
			defer origin.Close()
			u, _ := url.Parse(origin.URL)
			cache, err := store.Open(b.Context(), store.Config{})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = cache.Close() }()
			proxy := httptest.NewServer(newProxy(cache, u, staleWindows{}, slog.New(slog.DiscardHandler)))
			defer proxy.Close()
			oc, pc := &http.Client{Transport: &http.Transport{}}, &http.Client{Transport: &http.Transport{}}
			defer oc.CloseIdleConnections()
			defer pc.CloseIdleConnections()
			get := func(c *http.Client, url string) (time.Duration, string) {
				start := time.Now()
				resp, err := c.Get(url + "/blob")
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				d := time.Since(start)
				if n != int64(size) {
					b.Fatalf("got %d bytes, want %d", n, size)
				}
				return d, resp.Header.Get("Cache-Status")
			}
			get(pc, proxy.URL) // the miss, stored
			var originTime, proxyTime time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				d, _ := get(oc, origin.URL)
				originTime += d
				d, cs := get(pc, proxy.URL)
				proxyTime += d
				if !strings.Contains(cs, "hit") {
					b.Fatalf("Cache-Status %q: not a hit", cs)
				}
			}
			b.ReportMetric(float64(originTime.Nanoseconds())/float64(b.N), "origin-ns/req")
			b.ReportMetric(float64(proxyTime.Nanoseconds())/float64(b.N), "proxy-ns/req")
			b.ReportMetric(float64(proxyTime)/float64(originTime), "proxy/origin")
		})
	}
}
