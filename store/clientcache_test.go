package store

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fillLocal reads key into l as rueidis would on a miss: a flight, then the
// reply.
func fillLocal(t testing.TB, l *localCache, key string, now time.Time) {
	_, entry := l.Flight(key, "GET", time.Minute, now)
	require.Nil(t, entry, "%s is not in flight", key)
	l.Update(key, "GET", rueidis.RedisMessage{})
}

// TestLocalCacheSecondChance checks the CLOCK order of the client-side
// store: over its budget it evicts the oldest entry not read since it was
// last looked at, and an entry read meanwhile gets a second chance.
func TestLocalCacheSecondChance(t *testing.T) {
	now := time.Now()
	probe := newLocalCache(1<<20, nil)
	fillLocal(t, probe, "k0", now)
	// Room for exactly three entries of keys of two bytes.
	l := newLocalCache(3*probe.size, nil)
	for i := range 3 {
		fillLocal(t, l, "k"+strconv.Itoa(i), now)
	}
	require.Equal(t, 3, l.len())

	// hit reads key as rueidis does, if the store holds it.
	hit := func(key string) bool {
		if l.items[key] == nil {
			return false
		}
		_, entry := l.Flight(key, "GET", time.Minute, now)
		require.Nil(t, entry, "a hit")
		return true
	}
	has := func(key string) bool { return l.items[key] != nil }
	require.True(t, hit("k0"), "the oldest entry is read")
	fillLocal(t, l, "k3", now)
	assert.True(t, has("k0"), "the read entry had a second chance")
	assert.False(t, has("k1"), "the oldest unread entry went instead")
	assert.True(t, has("k2"))
	assert.True(t, has("k3"))

	// k0 went to the front with its flag cleared; k2 and k3 are read now,
	// which leaves k0 the only unread entry.
	require.True(t, hit("k2"))
	require.True(t, hit("k3"))
	fillLocal(t, l, "k4", now)
	assert.False(t, has("k0"), "a second chance is one chance")
	assert.True(t, has("k2"))
	assert.True(t, has("k3"))
	assert.True(t, has("k4"))
	assert.Equal(t, 3, l.len())
	assert.LessOrEqual(t, l.size, l.max)
}

// BenchmarkLocalCacheFill is a miss of the client-side store over its
// budget: a flight, its reply stored, and an eviction.
func BenchmarkLocalCacheFill(b *testing.B) {
	l := newLocalCache(1<<20, nil)
	now := time.Now()
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = "emgcache:entry:" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := keys[i%len(keys)]
		l.Flight(k, "GET", time.Minute, now)
		l.Update(k, "GET", rueidis.RedisMessage{})
	}
}

// BenchmarkLocalCacheHit is a hit of the client-side store through
// rueidis' entry point.
func BenchmarkLocalCacheHit(b *testing.B) {
	l := newLocalCache(1<<20, nil)
	now := time.Now()
	fillLocal(b, l, "k", now)
	b.ReportAllocs()
	for b.Loop() {
		if _, entry := l.Flight("k", "GET", time.Minute, now); entry != nil {
			b.Fatal("not a hit")
		}
	}
}

// A reply to a cached command other than GET (rueidis' DoCache of HGETALL
// through RedisClient, say) is not kept: the store drops a key's entry on
// a write or an invalidation by the key alone, and tracks the replies a
// write may have overtaken for GET only, so a kept one could be served
// stale.
func TestLocalCacheKeepsGETRepliesOnly(t *testing.T) {
	l := newLocalCache(1<<20, nil)
	now := time.Now()
	_, entry := l.Flight("k", "HGETALL", time.Minute, now)
	require.Nil(t, entry, "sent")
	_, entry = l.Flight("k", "HGETALL", time.Minute, now)
	assert.Nil(t, entry, "sent on its own too: there is no flight to join")
	l.Update("k", "HGETALL", rueidis.RedisMessage{})
	l.Update("k", "HGETALL", rueidis.RedisMessage{})
	l.forget("k") // a write of k
	assert.Equal(t, 0, l.len(), "a reply no write of its key can drop is kept")
	l.Cancel("k", "HGETALL", context.Canceled)
	assert.Empty(t, l.dirty)
}
