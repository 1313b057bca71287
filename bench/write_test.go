package bench

import (
	"context"
	"testing"
	"time"

	gocache "github.com/go-redis/cache/v9"
	"github.com/redis/rueidis"
)

// writer is one way to write a value with a TTL.
type writer struct {
	name string
	set  func(ctx context.Context, v []byte) error
}

// writers returns every client's write of key, each to a key of its own so
// that no write invalidates another client's local copy. The first is the
// baseline: go-redis SET.
func (c *clients) writers(key string) []writer {
	const ttl = time.Hour
	full := func(client string) string { return keyPrefix + key + ":" + client }
	goredisKey, gocacheKey, rueidisKey := full("go-redis"), full("go-redis-cache"), full("rueidis")
	storeKey := key + ":store"
	return []writer{
		{"go-redis-SET", func(ctx context.Context, v []byte) error {
			return c.goredis.Set(ctx, goredisKey, v, ttl).Err()
		}},
		{"go-redis-cache-Set", func(ctx context.Context, v []byte) error {
			return c.gocache.Set(&gocache.Item{Ctx: ctx, Key: gocacheKey, Value: v, TTL: ttl})
		}},
		{"rueidis-SET", func(ctx context.Context, v []byte) error {
			return c.rueidis.Do(ctx, c.rueidis.B().Set().Key(rueidisKey).Value(rueidis.BinaryString(v)).Px(ttl).Build()).Error()
		}},
		{"store-Set", func(ctx context.Context, v []byte) error {
			return c.store.Set(ctx, storeKey, v, ttl)
		}},
	}
}

// BenchmarkWrite compares writes of 1 KiB to 1 MiB values with a TTL,
// sequential and parallel.
func BenchmarkWrite(b *testing.B) {
	c := newClients(b)
	ctx := context.Background()
	for _, size := range valueSizes {
		v := value(size.n)
		for _, w := range c.writers("write:" + size.name) {
			b.Run("value="+size.name+"/run=sequential/client="+w.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(size.n))
				for b.Loop() {
					if err := w.set(ctx, v); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("value="+size.name+"/run=parallel/client="+w.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(size.n))
				b.SetParallelism(parallelism)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := w.set(ctx, v); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
