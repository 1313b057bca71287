package middleware_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emgcache/emgcache/middleware"
)

// BenchmarkHitOverConnection serves cached hits over real loopback
// connections next to a bare handler writing the same bytes, at 4 KiB and
// 64 KiB. Every client goroutine sends its requests to the bare server and
// to each cached one in turn, so that all see the same load on a shared
// machine; the metrics are each case's mean time per request and its
// ratio to the bare handler's (the inverse of the throughput ratio).
func BenchmarkHitOverConnection(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10} {
		b.Run(strconv.Itoa(size>>10)+"KiB", func(b *testing.B) {
			body := []byte(strings.Repeat("x", size))
			bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h := w.Header()
				h.Set("Content-Type", "application/octet-stream")
				h.Set("Cache-Control", "max-age=3600")
				h.Set("Content-Length", strconv.Itoa(len(body)))
				_, _ = w.Write(body)
			})
			names := []string{"bare"}
			handlers := []http.Handler{bare}
			for _, be := range backends() {
				names = append(names, be.name)
				opts := middleware.Options{KeyFunc: func(*http.Request) string { return fileA }}
				handlers = append(handlers, middleware.New(be.open(b), opts)(bare))
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
			b.Cleanup(client.CloseIdleConnections)
			urls := make([]string, len(handlers))
			for i, h := range handlers {
				srv := httptest.NewServer(h)
				b.Cleanup(srv.Close)
				urls[i] = srv.URL + "/file"
				for range 2 { // fill, then check the hit
					resp, err := client.Get(urls[i])
					if err != nil {
						b.Fatal(err)
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if n != int64(size) {
						b.Fatalf("%s: %d bytes", names[i], n)
					}
				}
			}
			ns := make([]atomic.Int64, len(urls))
			count := make([]atomic.Int64, len(urls))
			var failed atomic.Value
			b.SetParallelism(8) // 16 connections on 2 cores
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					t := i % len(urls)
					i++
					start := time.Now()
					resp, err := client.Get(urls[t])
					if err != nil {
						failed.Store(err)
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					ns[t].Add(int64(time.Since(start)))
					count[t].Add(1)
					if t > 0 && !strings.HasPrefix(resp.Header.Get("Cache-Status"), "emgcache; hit") {
						failed.Store(io.ErrUnexpectedEOF)
					}
				}
			})
			b.StopTimer()
			if err, _ := failed.Load().(error); err != nil {
				b.Fatalf("a request failed or missed: %v", err)
			}
			per := func(t int) float64 { return float64(ns[t].Load()) / float64(max(count[t].Load(), 1)) }
			b.ReportMetric(per(0)/1e3, "bare-µs/req")
			for t := 1; t < len(urls); t++ {
				b.ReportMetric(per(t)/per(0), names[t]+"/bare")
			}
		})
	}
}
