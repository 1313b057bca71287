package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// Sinks keep the compiler from dropping the values a benchmark reads.
var (
	sinkBytes  []byte
	sinkString string
)

// BenchmarkGet compares a read of a cached 1 KiB value through the store
// with raw rueidis in the same run: DoCache (client-side cache hit, the
// floor for the store's hit path) and a plain GET round trip.
func BenchmarkGet(b *testing.B) {
	srv := storetest.NewServer(b)
	ctx := context.Background()
	value := make([]byte, 1024)

	redisCache := openBenchCache(b, store.Config{URL: srv.URL(), KeyPrefix: "bench:"})
	noClientCache := openBenchCache(b, store.Config{URL: srv.URL(), KeyPrefix: "bench:", ClientCacheBytes: -1})
	memCache := openBenchCache(b, store.Config{})
	if err := redisCache.Set(ctx, "k", value, time.Hour); err != nil {
		b.Fatal(err)
	}
	if err := memCache.Set(ctx, "k", value, time.Hour); err != nil {
		b.Fatal(err)
	}

	raw, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr()}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(raw.Close)

	// A cache whose breaker is open: its server is gone.
	dead := storetest.NewServer(b)
	open := openBenchCache(b, store.Config{URL: dead.URL(), OpTimeout: 50 * time.Millisecond})
	if err := dead.Kill(); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if s := open.Stats(ctx); s.Breaker == store.BreakerOpen {
			break
		}
		_, _ = open.Get(ctx, "k")
	}
	if s := open.Stats(ctx); s.Breaker != store.BreakerOpen {
		b.Fatalf("breaker is %s, want open", s.Breaker)
	}

	cases := []struct {
		name string
		get  func() error
	}{
		{"store/local-hit", func() error { v, err := redisCache.Get(ctx, "k"); sinkBytes = v; return err }},
		{"store/local-hit-string", func() error { v, err := redisCache.GetString(ctx, "k"); sinkString = v; return err }},
		{"rueidis/DoCache", func() error {
			v, err := raw.DoCache(ctx, raw.B().Get().Key("bench:k").Cache(), 5*time.Minute).ToString()
			sinkString = v
			return err
		}},
		// What a caller of raw rueidis must do to own its value, as Get does.
		{"rueidis/DoCache+copy", func() error {
			v, err := raw.DoCache(ctx, raw.B().Get().Key("bench:k").Cache(), 5*time.Minute).AsBytes()
			sinkBytes = append([]byte(nil), v...)
			return err
		}},
		{"rueidis/GET", func() error {
			v, err := raw.Do(ctx, raw.B().Get().Key("bench:k").Build()).ToString()
			sinkString = v
			return err
		}},
		{"store/round-trip", func() error { v, err := noClientCache.Get(ctx, "k"); sinkBytes = v; return err }},
		{"store/memory", func() error { v, err := memCache.Get(ctx, "k"); sinkBytes = v; return err }},
		{"store/memory-string", func() error { v, err := memCache.GetString(ctx, "k"); sinkString = v; return err }},
		{"store/breaker-open", func() error {
			_, err := open.Get(ctx, "k")
			if err == nil {
				b.Fatal("read succeeded with the breaker open")
			}
			return nil
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(value)))
			for b.Loop() {
				if err := tc.get(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(value)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := tc.get(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkSet measures a write of a 1 KiB value on each backend.
func BenchmarkSet(b *testing.B) {
	srv := storetest.NewServer(b)
	ctx := context.Background()
	value := make([]byte, 1024)
	for _, tc := range []struct {
		name string
		cfg  store.Config
	}{
		{"redis", store.Config{URL: srv.URL()}},
		{"memory", store.Config{}},
	} {
		c := openBenchCache(b, tc.cfg)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Set(ctx, "k", value, time.Hour); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func openBenchCache(b *testing.B, cfg store.Config) *store.Cache {
	b.Helper()
	c, err := store.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return c
}
