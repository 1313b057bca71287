package store

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAllocBytes(t *testing.T) {
	tests := []struct{ n, want int }{
		{0, 0}, {1, 8}, {8, 8}, {9, 16}, {100, 112}, {1000, 1024}, {1025, 1152},
		{32768, 32768}, {32769, 40960}, {100 << 10, 104 << 10},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			assert.Equal(t, int64(tt.want), allocBytes(tt.n))
		})
	}
}

// Active expiry removes expired entries a bounded sample at a time, never
// a live one, and in enough ticks all of them.
func TestMemoryExpiryIsIncremental(t *testing.T) {
	m := newMemoryBackend(1<<30, false)
	defer m.close()
	now := time.Unix(1000, 0)
	m.now = func() int64 { return now.UnixNano() }
	ctx := context.Background()
	const expiring, live = 20000, 2000
	for i := range expiring {
		require.NoError(t, m.set(ctx, fmt.Sprintf("expiring:%d", i), []byte("v"), time.Second))
	}
	var liveBytes int64
	for i := range live {
		k := fmt.Sprintf("live:%d", i)
		require.NoError(t, m.set(ctx, k, []byte("v"), time.Hour))
		liveBytes += entryBytes(k, "v")
	}
	now = now.Add(2 * time.Second)

	perCycle := memoryShards * expireRounds * expireSamples
	first := m.expireCycle()
	assert.Positive(t, first)
	assert.LessOrEqual(t, first, perCycle, "one tick looks at a bounded sample, not every entry")

	for cycles := 1; m.len() > live; cycles++ {
		require.Less(t, cycles, 2000, "active expiry stalled with %d entries left", m.len())
		m.expireCycle()
	}
	assert.Equal(t, live, m.len())
	assert.Equal(t, liveBytes, m.used.Load())
	for i := range live {
		_, _, err := m.get(ctx, fmt.Sprintf("live:%d", i))
		require.NoError(t, err)
	}
}

// A hit takes the shard's read lock: it is served while another reader
// holds the lock, where an exclusive lock would block it.
func TestMemoryHitsShareTheShardLock(t *testing.T) {
	m := newMemoryBackend(1<<20, false)
	defer m.close()
	ctx := context.Background()
	require.NoError(t, m.set(ctx, "k", []byte("v"), 0))
	s := m.shard("k")
	s.mu.RLock()
	done := make(chan error, 1)
	go func() {
		_, _, err := m.get(ctx, "k")
		done <- err
	}()
	select {
	case err := <-done:
		s.mu.RUnlock()
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		s.mu.RUnlock()
		t.Error("a hit waited for another reader of its shard")
		<-done
	}
}

// The connections' client-side stores share one budget: together they
// never hold more than ClientCacheBytes, however many rueidis opens.
func TestClientCacheBudgetIsPerProcess(t *testing.T) {
	const budget = 10 << 10
	cc := newClientCaches()
	var stores []*localCache
	for range 4 {
		stores = append(stores, cc.newStore(rueidis.CacheStoreOption{CacheSizeEachConn: budget}).(*localCache))
	}
	now := time.Now()
	for i := range 1000 {
		l := stores[i%len(stores)]
		k := fmt.Sprintf("k%d", i)
		_, entry := l.Flight(k, "GET", time.Minute, now)
		require.Nil(t, entry)
		l.Update(k, "GET", rueidis.RedisMessage{})
		require.LessOrEqual(t, cc.used.Load(), int64(budget), "after %d inserts", i+1)
	}
	var sum int64
	for _, l := range stores {
		assert.Positive(t, l.len(), "every store keeps some of its entries")
		sum += l.size
	}
	assert.Equal(t, sum, cc.used.Load())
	assert.Greater(t, sum, int64(budget)*3/4, "the budget is used, not divided")

	stores[0].Delete(nil)
	stores[1].Close(nil)
	assert.Equal(t, stores[2].size+stores[3].size, cc.used.Load())
}

// BenchmarkMemoryHitParallel reads a few hot keys from every core at once,
// the case an exclusive shard lock serializes.
func BenchmarkMemoryHitParallel(b *testing.B) {
	m := newMemoryBackend(64<<20, false)
	defer m.close()
	ctx := context.Background()
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = fmt.Sprintf("emgcache:hot:%d", i)
		require.NoError(b, m.set(ctx, keys[i], make([]byte, 512), 0))
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, _, err := m.get(ctx, keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkMemorySetEvicting writes distinct keys into a full cache, so
// that every write evicts.
func BenchmarkMemorySetEvicting(b *testing.B) {
	m := newMemoryBackend(16<<20, false)
	defer m.close()
	ctx := context.Background()
	v := make([]byte, 100)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := m.set(ctx, "emgcache:entry:"+strconv.Itoa(i), v, 0); err != nil {
			b.Fatal(err)
		}
	}
}
