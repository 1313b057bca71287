package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/emgcache/emgcache/store"
)

// batchKeys is the size of a batch read.
const batchKeys = 1000

// batchReader is one way to read a batch of keys; it returns how many
// values it got, which must be all of them.
type batchReader struct {
	name string
	get  func(ctx context.Context) (int, error)
}

// batchReaders returns every way to read keys. The first is the baseline:
// go-redis MGET, one command for the whole batch.
func (c *clients) batchReaders(keys []string) []batchReader {
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = keyPrefix + k
	}
	getEach := func(cache *store.Cache) func(ctx context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			for i, k := range keys {
				if _, err := cache.Get(ctx, k); err != nil {
					return i, err
				}
			}
			return len(keys), nil
		}
	}
	getMany := func(cache *store.Cache) func(ctx context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			n := 0
			for _, r := range cache.GetMany(ctx, keys) {
				if r.Err != nil {
					return n, r.Err
				}
				n++
			}
			return n, nil
		}
	}
	return []batchReader{
		{"go-redis-MGET", func(ctx context.Context) (int, error) {
			vs, err := c.goredis.MGet(ctx, full...).Result()
			n := 0
			for _, v := range vs {
				if v != nil {
					n++
				}
			}
			return n, err
		}},
		{"go-redis-GET-each", func(ctx context.Context) (int, error) {
			for i, k := range full {
				if _, err := c.goredis.Get(ctx, k).Bytes(); err != nil {
					return i, err
				}
			}
			return len(full), nil
		}},
		{"store-Get-each", getEach(c.store)},
		{"store-Get-each-no-client-cache", getEach(c.storeRoundTrip)},
		{"store-GetMany", getMany(c.store)},
		{"store-GetMany-no-client-cache", getMany(c.storeRoundTrip)},
		{"patterns-BatchGet", func(ctx context.Context) (int, error) {
			n := 0
			for _, r := range c.patterns.BatchGet(ctx, keys) {
				if r.Err != nil {
					return n, r.Err
				}
				n++
			}
			return n, nil
		}},
	}
}

// batchFixture writes batchKeys values of 1 KiB and returns their keys.
func batchFixture(tb testing.TB, c *clients) []string {
	tb.Helper()
	v := value(1 << 10)
	keys := make([]string, batchKeys)
	items := make([]store.Item, batchKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("batch:%04d", i)
		items[i] = store.Item{Key: keys[i], Value: v, TTL: time.Hour}
	}
	for _, err := range c.store.SetMany(context.Background(), items) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	return keys
}

// BenchmarkBatchGet compares reads of 1,000 keys of 1 KiB: one command, one
// pipeline, and one call per key, with and without the store's client-side
// cache. The warm-up read fills the client-side caches, so "store-GetMany"
// is the steady state of a service that reads the same batch again.
func BenchmarkBatchGet(b *testing.B) {
	c := newClients(b)
	keys := batchFixture(b, c)
	ctx := context.Background()
	for _, r := range c.batchReaders(keys) {
		if _, err := r.get(ctx); err != nil {
			b.Fatalf("%s: %v", r.name, err)
		}
		b.Run("keys=1000/client="+r.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(batchKeys << 10)
			for b.Loop() {
				if n, err := r.get(ctx); err != nil || n != batchKeys {
					b.Fatalf("got %d values: %v", n, err)
				}
			}
		})
	}
}

// TestBatchReaders checks that every batch reader gets every key.
func TestBatchReaders(t *testing.T) {
	c := newClients(t)
	keys := batchFixture(t, c)
	for _, r := range c.batchReaders(keys) {
		if n, err := r.get(t.Context()); err != nil || n != batchKeys {
			t.Errorf("%s: got %d of %d values: %v", r.name, n, batchKeys, err)
		}
	}
}
