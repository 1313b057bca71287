package patterns_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// fileEntries is how many entries the invalidated file has among the
// keyspace: its metadata and analysis, and the HTTP responses of a few
// dozen query variants.
const fileEntries = 64

// BenchmarkInvalidateNamespace invalidates one file while the keyspace holds
// 10 k, 100 k and 1 M keys of other files, on a real redis-server:
// "namespace" is InvalidateNamespace (one write of the file's version), "scan"
// the walk it replaces (InvalidatePattern on the file's keys: SCAN +
// UNLINK over the whole keyspace), in the same run.
func BenchmarkInvalidateNamespace(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		srv := storetest.NewServer(b, storetest.Options{Args: []string{"--maxmemory", "0"}})
		c := openCache(b, store.Config{URL: srv.URL(), OpTimeout: 10 * time.Second})
		p := newPatterns(b, c, patterns.Options{})
		fillKeyspace(b, c, n)
		hash := fmt.Sprintf("%064x", n)
		b.Run(fmt.Sprintf("keys=%d/namespace", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := p.InvalidateNamespace(ctx, "file:"+hash); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("keys=%d/scan", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.InvalidatePattern(ctx, "emg_*:"+hash+"*"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fillKeyspace writes n keys: fileEntries of each of n/fileEntries files.
func fillKeyspace(b *testing.B, c *store.Cache, n int) {
	b.Helper()
	ctx := context.Background()
	value := make([]byte, 64)
	const batch = 10_000
	items := make([]store.Item, 0, batch)
	for i := 0; i < n; i++ {
		file := fmt.Sprintf("%064x", i/fileEntries)
		items = append(items, store.Item{Key: "emg_analysis:" + file + ":" + strconv.Itoa(i%fileEntries), Value: value, TTL: time.Hour})
		if len(items) == batch || i == n-1 {
			for _, err := range c.SetMany(ctx, items) {
				if err != nil {
					b.Fatal(err)
				}
			}
			items = items[:0]
		}
	}
}
