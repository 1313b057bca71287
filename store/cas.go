package store

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// compareAndSetScript is the conditional write on Redis: one script, so
// that nothing can come between the comparison and the write.
var compareAndSetScript = rueidis.NewLuaScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3]) return 1 end return 0`)

// casBackend is what CompareAndSet needs from a backend; both backends
// implement it below, beside the primitive, rather than in the backend
// interface every other call goes through.
type casBackend interface {
	compareAndSet(ctx context.Context, key string, old, value []byte, ttl time.Duration) (bool, error)
}

var (
	_ casBackend = (*memoryBackend)(nil)
	_ casBackend = (*redisBackend)(nil)
)

// CompareAndSet stores value under key for ttl (0: Config.DefaultTTL) only
// if key holds exactly old at that moment, and reports whether it did. The
// comparison and the write are one atomic step on both backends (a script
// on Redis), so a Delete, a DeletePattern or another write of key that
// lands before it makes it fail, and one that lands after it sees value.
// A key that holds nothing never matches: a caller that wants "write
// unless removed meanwhile" first puts a placeholder of its own under key
// (SetNX) and then compares against it.
//
// Errors are Set's: ErrInvalidKey, ErrTooLarge (nothing sent),
// ErrUnavailable, ErrClosed. After it returns true, this process's reads
// of key see value.
func (c *Cache) CompareAndSet(ctx context.Context, key string, old, value []byte, ttl time.Duration) (bool, error) {
	if err := c.checkKey(key); err != nil {
		return false, err
	}
	if err := c.checkValue(key, value); err != nil {
		return false, err
	}
	full := c.cfg.KeyPrefix + key
	ttl = c.ttlOrDefault(ttl)
	be := c.be.(casBackend)
	var ok bool
	err := c.do(ctx, "compare-and-set", full, func(ctx context.Context) (err error) {
		ok, err = be.compareAndSet(ctx, full, old, value, ttl)
		return err
	})
	if ok {
		c.stats.writes.Add(1)
		if c.stale != nil {
			c.stale.store(full, string(value), c.cfg.ClientCacheTTL, false)
		}
	}
	return ok, err
}

func (b *redisBackend) compareAndSet(ctx context.Context, key string, old, value []byte, ttl time.Duration) (bool, error) {
	cl, err := b.c()
	if err != nil {
		return false, err
	}
	ms := max(ttl.Milliseconds(), 1)
	n, err := compareAndSetScript.Exec(ctx, cl, []string{key}, []string{string(old), string(value), strconv.FormatInt(ms, 10)}).AsInt64()
	// Dropped whatever the outcome: a failed or unknown write may still
	// have changed the key.
	b.caches.forget(key)
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// compareAndSet holds the shard's lock across the comparison and the
// write, which is what makes it atomic against every other call.
func (m *memoryBackend) compareAndSet(_ context.Context, key string, old, value []byte, ttl time.Duration) (bool, error) {
	now := m.now()
	s := m.shard(key)
	s.mu.Lock()
	cur := m.lookup(s, key, now)
	if cur == nil || cur.value != string(old) {
		s.mu.Unlock()
		return false, nil
	}
	m.unlink(s, cur)
	m.insert(s, key, string(value), ttl, now)
	s.mu.Unlock()
	m.evict()
	return true, nil
}
