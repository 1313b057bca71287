package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

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
		proxy := httptest.NewServer(newProxy(cache, u, slog.New(slog.DiscardHandler)))
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
