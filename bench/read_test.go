package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"
	"unsafe"

	gocache "github.com/go-redis/cache/v9"

	"github.com/emgcache/emgcache/store"
)

// reader is one way to read a key; get returns the caller's own copy of the
// value, as every client here does.
type reader struct {
	name string
	get  func(ctx context.Context) ([]byte, error)
}

// readers returns every client's read of key. The first is the baseline of
// the ratios: go-redis GET, what a Go service would write without a cache
// library. The full key is built once, so that no client pays for a string
// concatenation the others do not; rueidis commands are built per call, as
// its documentation writes them.
func (c *clients) readers(key string) []reader {
	full := keyPrefix + key
	return []reader{
		{"go-redis-GET", func(ctx context.Context) ([]byte, error) {
			return c.goredis.Get(ctx, full).Bytes()
		}},
		{"go-redis-cache-TinyLFU", func(ctx context.Context) ([]byte, error) {
			var b []byte
			err := c.gocache.Get(ctx, full, &b)
			return b, err
		}},
		{"rueidis-GET", func(ctx context.Context) ([]byte, error) {
			return c.rueidis.Do(ctx, c.rueidis.B().Get().Key(full).Build()).AsBytes()
		}},
		{"rueidis-DoCache", func(ctx context.Context) ([]byte, error) {
			return c.rueidis.DoCache(ctx, c.rueidis.B().Get().Key(full).Cache(), localTTL).AsBytes()
		}},
		{"store-Get", func(ctx context.Context) ([]byte, error) {
			return c.store.Get(ctx, key)
		}},
		// GetString hands out the cached value itself, as an immutable
		// string: the store's read without the copy. Viewing it as bytes
		// costs nothing; nothing here writes into them.
		{"store-GetString", func(ctx context.Context) ([]byte, error) {
			s, err := c.store.GetString(ctx, key)
			return unsafe.Slice(unsafe.StringData(s), len(s)), err
		}},
		{"store-Get-no-client-cache", func(ctx context.Context) ([]byte, error) {
			return c.storeRoundTrip.Get(ctx, key)
		}},
	}
}

// BenchmarkRead compares reads of a cached value, 1 KiB to 1 MiB, through
// each client against the same Redis: sequential (latency of one caller)
// and parallel (throughput under parallelism×GOMAXPROCS goroutines).
func BenchmarkRead(b *testing.B) {
	c := newClients(b)
	ctx := context.Background()
	for _, size := range valueSizes {
		key := "read:" + size.name
		if err := c.store.Set(ctx, key, value(size.n), time.Hour); err != nil {
			b.Fatal(err)
		}
		for _, r := range c.readers(key) {
			runRead(b, "value="+size.name, r, int64(size.n))
		}
	}
}

// runRead runs r sequentially and in parallel. The first read before the
// timer fills whatever local tier r has, so the figures are of steady
// state, not of the first miss.
func runRead(b *testing.B, group string, r reader, bytesPerOp int64) {
	ctx := context.Background()
	if _, err := r.get(ctx); err != nil {
		b.Fatalf("%s: %v", r.name, err)
	}
	b.Run(group+"/run=sequential/client="+r.name, func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(bytesPerOp)
		for b.Loop() {
			if _, err := r.get(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(group+"/run=parallel/client="+r.name, func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(bytesPerOp)
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := r.get(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// jsonReader is one way to read a key into an Analysis.
type jsonReader struct {
	name string
	get  func(ctx context.Context) (Analysis, error)
}

// timed is r as runRead times it: the decoded value is dropped.
func (r jsonReader) timed() reader {
	return reader{r.name, func(ctx context.Context) ([]byte, error) {
		_, err := r.get(ctx)
		return nil, err
	}}
}

// goredisJSON is the read a service writes by hand: go-redis GET of key
// and encoding/json.
func (c *clients) goredisJSON(key string) jsonReader {
	full := keyPrefix + key
	return jsonReader{"go-redis-GET+json", func(ctx context.Context) (a Analysis, err error) {
		b, err := c.goredis.Get(ctx, full).Bytes()
		if err == nil {
			err = json.Unmarshal(b, &a)
		}
		return a, err
	}}
}

// gocacheMsgpack is go-redis/cache's read of key, written in its default
// codec, MessagePack, with its TinyLFU local tier.
func (c *clients) gocacheMsgpack(key string) jsonReader {
	return jsonReader{"go-redis-cache-TinyLFU-msgpack", func(ctx context.Context) (a Analysis, err error) {
		err = c.gocache.Get(ctx, keyPrefix+key, &a)
		return a, err
	}}
}

// rueidisJSON is raw rueidis DoCache of key and its JSON decode.
func (c *clients) rueidisJSON(key string) jsonReader {
	full := keyPrefix + key
	return jsonReader{"rueidis-DoCache+json", func(ctx context.Context) (a Analysis, err error) {
		err = c.rueidis.DoCache(ctx, c.rueidis.B().Get().Key(full).Cache(), localTTL).DecodeJSON(&a)
		return a, err
	}}
}

// jsonReaders returns every client's typed read of key, which holds the
// JSON of an Analysis. msgpackKey holds the same Analysis in go-redis/cache's
// default codec. The first is the baseline: go-redis GET and
// encoding/json, the code a service writes by hand.
func (c *clients) jsonReaders(key, msgpackKey string, encoded []byte) []jsonReader {
	full := keyPrefix + key
	return []jsonReader{
		c.goredisJSON(key),
		c.gocacheMsgpack(msgpackKey),
		{"go-redis-cache-TinyLFU-json", func(ctx context.Context) (a Analysis, err error) {
			err = c.gocacheJSON.Get(ctx, full, &a)
			return a, err
		}},
		c.rueidisJSON(key),
		{"store-GetJSON", func(ctx context.Context) (Analysis, error) {
			return store.GetJSON[Analysis](ctx, c.store, key)
		}},
		// The floor of any JSON read: decoding bytes already in memory.
		{"json-decode-only", func(context.Context) (a Analysis, err error) {
			err = json.Unmarshal(encoded, &a)
			return a, err
		}},
	}
}

// BenchmarkReadJSON compares typed reads of a cached analysis result. The
// codec dominates, so the local tiers matter less than for bytes.
func BenchmarkReadJSON(b *testing.B) {
	c := newClients(b)
	ctx := context.Background()
	for _, shape := range analysisShapes {
		a := synthAnalysis(b, shape.channels, shape.seconds)
		encoded, err := json.Marshal(a)
		if err != nil {
			b.Fatal(err)
		}
		key, msgpackKey := "json:"+shape.name, "msgpack:"+shape.name
		if err := store.SetJSON(ctx, c.store, key, a, time.Hour); err != nil {
			b.Fatal(err)
		}
		if err := c.gocache.Set(&gocache.Item{Ctx: ctx, Key: keyPrefix + msgpackKey, Value: a, TTL: time.Hour}); err != nil {
			b.Fatal(err)
		}
		for _, r := range c.jsonReaders(key, msgpackKey, encoded) {
			runRead(b, "value="+shape.name, r.timed(), int64(len(encoded)))
		}
	}
}

// TestReaders checks that every reader returns the stored value and that
// the ones labelled local really are served from process memory, so that
// the benchmarks compare what their names say.
func TestReaders(t *testing.T) {
	c := newClients(t)
	ctx := t.Context()
	want := value(1 << 10)
	if err := c.store.Set(ctx, "readers", want, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, r := range c.readers("readers") {
		for range 2 { // the second read is the one benchmarks measure
			got, err := r.get(ctx)
			if err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: read %d bytes, not the value written", r.name, len(got))
			}
		}
	}
	if e, err := c.store.Lookup(ctx, "readers"); err != nil || e.Source != store.SourceLocal {
		t.Errorf("store read after warm-up: source %v, err %v; want a local hit", e.Source, err)
	}
	if !c.rueidis.DoCache(ctx, c.rueidis.B().Get().Key(keyPrefix+"readers").Cache(), localTTL).IsCacheHit() {
		t.Error("rueidis DoCache after warm-up missed its client-side cache")
	}
	if _, ok := c.gocacheLocal.Get(keyPrefix + "readers"); !ok {
		t.Error("go-redis/cache read after warm-up is not in its TinyLFU tier")
	}

	a := synthAnalysis(t, 2, 1)
	encoded, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetJSON(ctx, c.store, "readers-json", a, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := c.gocache.Set(&gocache.Item{Ctx: ctx, Key: keyPrefix + "readers-msgpack", Value: a, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	for _, r := range c.jsonReaders("readers-json", "readers-msgpack", encoded) {
		got, err := r.get(ctx)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if len(got.Channels) != 2 || got.Channels[1].Windows[2] != a.Channels[1].Windows[2] {
			t.Fatalf("%s: decoded %+v, not the analysis written", r.name, got)
		}
	}
}
