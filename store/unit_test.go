package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"emg_analysis:*", "emg_analysis:abc", true},
		{"emg_analysis:*", "emg_metadata:abc", false},
		{"h?llo", "hello", true},
		{"h?llo", "hllo", false},
		{"h[ae]llo", "hallo", true},
		{"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true},
		{"h[^e]llo", "hello", false},
		{"h[a-c]llo", "hbllo", true},
		{"h[a-c]llo", "hdllo", false},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{"*:*:*", "a:b:c", true},
		{"*x", "\xff\xfex", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
	}
	for _, tc := range cases {
		t.Run(tc.pattern+"~"+tc.s, func(t *testing.T) {
			assert.Equal(t, tc.want, globMatch(tc.pattern, tc.s))
		})
	}
}

func TestValidatePattern(t *testing.T) {
	cases := []struct {
		pattern string
		ok      bool
	}{
		{"*", true},
		{"emg_[ab]*", true},
		{`emg_\[*`, true},
		{"", false},
		{"emg_[ab", false},
		{"[", false},
		{string(make([]byte, MaxPatternBytes+1)), false},
	}
	for _, tc := range cases {
		t.Run(tc.pattern, func(t *testing.T) {
			err := validatePattern(tc.pattern)
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrInvalidPattern)
			}
		})
	}
}

func TestEscapeGlob(t *testing.T) {
	for _, s := range []string{"plain:", "a*b?c[d]e\\f", ""} {
		assert.True(t, globMatch(escapeGlob(s), s), s)
	}
	assert.False(t, globMatch(escapeGlob("a*:"), "ab:"))
}

func TestMemoryEviction(t *testing.T) {
	m := newMemoryBackend(64<<10, false)
	defer m.close()
	ctx := context.Background()
	val := make([]byte, 1000)
	for i := 0; i < 500; i++ {
		require.NoError(t, m.set(ctx, string(rune('a'+i%26))+string(rune(i)), val, 0))
		assert.LessOrEqual(t, m.used.Load(), int64(64<<10))
	}
	assert.Less(t, m.len(), 500)
	assert.Greater(t, m.len(), 30)
}

func TestMemoryLRUKeepsRecentlyRead(t *testing.T) {
	// Room for about 200 entries; ten hot ones are read before every write
	// of a cold one. An eviction removes the least recently used of 20
	// candidates; that all 20 are hot or newer than the hot ones is as
	// likely as drawing hot entries twenty times from a twentieth. The clock
	// moves a millisecond a call, the precision of recency.
	val := strings.Repeat("v", 100)
	m := newMemoryBackend(200*entryBytes("cold-0000", val), false)
	defer m.close()
	now := time.Unix(1000, 0)
	m.now = func() int64 { now = now.Add(time.Millisecond); return now.UnixNano() }
	ctx := context.Background()
	for i := range 10 {
		require.NoError(t, m.set(ctx, fmt.Sprintf("hot-%d", i), []byte(val), 0))
	}
	for i := range 2000 {
		for j := range 10 {
			_, _, err := m.get(ctx, fmt.Sprintf("hot-%d", j))
			require.NoError(t, err, "hot-%d was evicted by cold-%04d", j, i-1)
		}
		require.NoError(t, m.set(ctx, fmt.Sprintf("cold-%04d", i), []byte(val), 0))
	}
	assert.Less(t, m.len(), 250)
	assert.Greater(t, m.len(), 150)
}

func TestMemoryTTLWithInjectedClock(t *testing.T) {
	m := newMemoryBackend(1<<20, false)
	defer m.close()
	now := time.Unix(1000, 0)
	m.now = func() int64 { return now.UnixNano() }
	ctx := context.Background()
	require.NoError(t, m.set(ctx, "k", []byte("v"), time.Minute))
	d, err := m.ttl(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, time.Minute, d)
	now = now.Add(59 * time.Second)
	_, _, err = m.get(ctx, "k")
	require.NoError(t, err)
	now = now.Add(time.Second)
	_, _, err = m.get(ctx, "k")
	require.ErrorIs(t, err, ErrNotFound)

	require.NoError(t, m.set(ctx, "s", []byte("v"), time.Second))
	now = now.Add(2 * time.Second)
	assert.Equal(t, 1, m.expireCycle())
	assert.Equal(t, 0, m.len(), "active expiry reclaims expired entries nobody reads")
	assert.Equal(t, int64(0), m.used.Load())
}

func TestLocalCacheBound(t *testing.T) {
	l := newLocalCache(10<<10, nil)
	now := time.Now()
	for i := 0; i < 1000; i++ {
		k := string(rune(i))
		msg, entry := l.Flight(k, "GET", time.Minute, now)
		require.Nil(t, entry)
		require.Zero(t, msg)
		l.Update(k, "GET", rueidis.RedisMessage{})
		assert.LessOrEqual(t, l.size, l.max)
	}
	assert.Less(t, l.len(), 1000)
	assert.Positive(t, l.len())
	l.Delete(nil)
	assert.Equal(t, 0, l.len())
}

func TestLocalCacheSingleFlight(t *testing.T) {
	l := newLocalCache(1<<20, nil)
	now := time.Now()
	_, entry := l.Flight("k", "GET", time.Minute, now)
	require.Nil(t, entry, "the first miss sends the request")
	_, entry = l.Flight("k", "GET", time.Minute, now)
	require.NotNil(t, entry, "a second miss waits for the first")
	l.Update("k", "GET", rueidis.RedisMessage{})
	_, err := entry.Wait(context.Background())
	require.NoError(t, err)
	_, entry = l.Flight("k", "GET", time.Minute, now)
	assert.Nil(t, entry, "a hit")
	l.forget("k")
	assert.Equal(t, 0, l.len())
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := Config{}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, DefaultKeyPrefix, cfg.KeyPrefix)
	assert.Equal(t, time.Hour, cfg.DefaultTTL)
	assert.Equal(t, 100<<20, cfg.MaxEntryBytes)
	assert.Equal(t, int64(256<<20), cfg.MaxMemoryBytes)
	assert.Equal(t, uint32(5), cfg.Breaker.ConsecutiveFailures)

	bad := []Config{
		{URL: "http://not-redis"},
		{KeyPrefix: "{tag}:"},
		{DefaultTTL: -time.Second},
		{MaxEntryBytes: -1},
	}
	for _, b := range bad {
		_, err := Open(context.Background(), b)
		assert.ErrorIs(t, err, ErrInvalidConfig, "%+v", b)
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv(EnvURL, "redis://127.0.0.1:1/0")
	t.Setenv(EnvDefaultTTL, "90")
	t.Setenv(EnvOpTimeout, "250ms")
	t.Setenv(EnvMaxEntryBytes, "2048")
	cfg := ConfigFromEnv()
	assert.Equal(t, "redis://127.0.0.1:1/0", cfg.URL)
	assert.Equal(t, 90*time.Second, cfg.DefaultTTL)
	assert.Equal(t, 250*time.Millisecond, cfg.OpTimeout)
	assert.Equal(t, 2048, cfg.MaxEntryBytes)

	t.Setenv(EnvDefaultTTL, "an hour")
	_, err := Open(context.Background(), ConfigFromEnv())
	assert.ErrorIs(t, err, ErrInvalidConfig)
	assert.Contains(t, err.Error(), EnvDefaultTTL)
}

func TestRedactURL(t *testing.T) {
	assert.Equal(t, "redis://user:xxxxx@host:6379/0", redactURL("redis://user:secret@host:6379/0"))
	assert.Equal(t, "", redactURL(""))
	assert.NotContains(t, redactURL("rediss://:pw123@h:1"), "pw123")
}

func TestKeySlot(t *testing.T) {
	// Values from the Redis Cluster specification and CLUSTER KEYSLOT.
	cases := []struct {
		key  string
		slot uint16
	}{
		{"123456789", 0x31C3 & 16383},
		{"foo", 12182},
		{"bar", 5061},
		{"{user1000}.following", keySlot("user1000")},
		{"foo{}{bar}", keySlot("foo{}{bar}")},
		{"foo{{bar}}zap", keySlot("{bar")},
		{"foo{bar}{zap}", keySlot("bar")},
	}
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			assert.Equal(t, tc.slot, keySlot(tc.key))
		})
	}
}
