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

const benchKeys = 1000

func benchBatch(b *testing.B) ([]string, map[string][]byte) {
	keys := make([]string, benchKeys)
	items := make(map[string][]byte, benchKeys)
	value := make([]byte, 256)
	for i := range keys {
		keys[i] = fmt.Sprintf("emg_analysis:%064d", i)
		items[keys[i]] = value
	}
	return keys, items
}

// BenchmarkBatchGet reads 1,000 keys with one BatchGet and with 1,000
// sequential Gets, in the same run. "remote" turns the client-side cache off,
// so every read is a round trip; "local" has read every key before, so
// reads come from process memory.
func BenchmarkBatchGet(b *testing.B) {
	srv := storetest.NewServer(b)
	ctx := context.Background()
	keys, items := benchBatch(b)
	modes := []struct {
		name string
		cfg  store.Config
	}{
		{"remote", store.Config{URL: srv.URL(), ClientCacheBytes: -1}},
		{"local", store.Config{URL: srv.URL()}},
	}
	for _, m := range modes {
		c := openCache(b, m.cfg)
		p := newPatterns(b, c, patterns.Options{})
		if err := p.BatchSet(ctx, items, time.Hour); err != nil {
			b.Fatal(err)
		}
		for _, r := range p.BatchGet(ctx, keys) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
		b.Run(m.name+"/batch", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res := p.BatchGet(ctx, keys); res[benchKeys-1].Err != nil {
					b.Fatal(res[benchKeys-1].Err)
				}
			}
			reportPerKey(b)
		})
		b.Run(m.name+"/sequential", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, k := range keys {
					if _, err := c.Get(ctx, k); err != nil {
						b.Fatal(err)
					}
				}
			}
			reportPerKey(b)
		})
	}
}

// BenchmarkBatchSet writes 1,000 keys with one BatchSet and with 1,000
// sequential Sets, in the same run.
func BenchmarkBatchSet(b *testing.B) {
	srv := storetest.NewServer(b)
	ctx := context.Background()
	keys, items := benchBatch(b)
	c := openCache(b, store.Config{URL: srv.URL()})
	p := newPatterns(b, c, patterns.Options{})
	b.Run("batch", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := p.BatchSet(ctx, items, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		reportPerKey(b)
	})
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, k := range keys {
				if err := c.Set(ctx, k, items[k], time.Hour); err != nil {
					b.Fatal(err)
				}
			}
		}
		reportPerKey(b)
	})
}

func reportPerKey(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchKeys), "ns/key")
}

// BenchmarkInvalidatePattern removes 100,000 keys by pattern from one Redis
// and from a three-master cluster, and reports the rate. Filling the cache
// is not timed.
func BenchmarkInvalidatePattern(b *testing.B) {
	const keys, chunk = 100_000, 10_000
	// Started here, outside b.Run, whose function runs once per round and
	// would time a server start each round.
	targets := []struct {
		name string
		url  string
	}{
		{"redis", storetest.NewServer(b).URL()},
		{"cluster", storetest.NewCluster(b, 3).URL()},
	}
	ctx := context.Background()
	for _, tg := range targets {
		c := openCache(b, store.Config{URL: tg.url})
		p := newPatterns(b, c, patterns.Options{})
		b.Run(tg.name, func(b *testing.B) {
			value := []byte("x")
			b.ReportAllocs()
			var removed int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				items := make([]store.Item, 0, chunk)
				for k := range keys {
					items = append(items, store.Item{Key: fmt.Sprintf("emg_analysis:%d", k), Value: value, TTL: time.Hour})
					if len(items) == chunk {
						for _, err := range c.SetMany(ctx, items) {
							if err != nil {
								b.Fatal(err)
							}
						}
						items = items[:0]
					}
				}
				b.StartTimer()
				n, err := p.InvalidatePattern(ctx, "emg_analysis:*")
				if err != nil {
					b.Fatal(err)
				}
				if n != keys {
					b.Fatalf("removed %d keys, want %d", n, keys)
				}
				removed += n
			}
			b.ReportMetric(float64(removed)/b.Elapsed().Seconds(), "keys/s")
		})
	}
}

// BenchmarkAsideHit is the cost of the recommended path once the value is
// cached: a read and a JSON decode.
func BenchmarkAsideHit(b *testing.B) {
	srv := storetest.NewServer(b)
	ctx := context.Background()
	want := analysis{RMS: 0.42, Channels: []string{"biceps", "triceps"}, Peaks: []float64{1, 2, 3, 4}}
	loader := func(context.Context) (analysis, error) { return want, nil }
	for _, be := range []struct {
		name string
		cfg  store.Config
	}{
		{"memory", store.Config{}},
		{"redis-local", store.Config{URL: srv.URL()}},
	} {
		p := newPatterns(b, openCache(b, be.cfg), patterns.Options{})
		for _, opt := range []struct {
			name string
			opts []patterns.AsideOption
		}{
			{"plain", nil},
			{"refresh-ahead", []patterns.AsideOption{patterns.WithRefreshAhead(0)}},
		} {
			if _, err := patterns.Aside(ctx, p, "k", time.Hour, loader, opt.opts...); err != nil {
				b.Fatal(err)
			}
			b.Run(be.name+"/"+opt.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := patterns.Aside(ctx, p, "k", time.Hour, loader, opt.opts...); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkAsideMiss is the cost of a miss that loads, with a loader that
// costs nothing: the shared flight, the placeholder and the
// compare-and-set write of the value.
func BenchmarkAsideMiss(b *testing.B) {
	srv := storetest.NewServer(b)
	ctx := context.Background()
	want := analysis{RMS: 0.42, Channels: []string{"biceps", "triceps"}, Peaks: []float64{1, 2, 3, 4}}
	loader := func(context.Context) (analysis, error) { return want, nil }
	for _, be := range []struct {
		name string
		cfg  store.Config
	}{
		{"memory", store.Config{}},
		{"redis-local", store.Config{URL: srv.URL()}},
	} {
		p := newPatterns(b, openCache(b, be.cfg), patterns.Options{})
		b.Run(be.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := patterns.Aside(ctx, p, "miss:"+strconv.Itoa(i), time.Hour, loader); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
