package store

import "github.com/redis/rueidis"

// RedisClient returns the rueidis client of the Redis backend, for commands
// the store has no method for. ok is false for the embedded backend, and
// until the first connection succeeds when Redis was down at Open. The
// client is the store's own: Close closes it, and it must not be closed
// otherwise. Calls through it go around the key prefix, the breaker, the
// timeouts and the counters of the store; a key the store caches that is
// written through it is still invalidated in every process by Redis, but
// this process may serve its old value for a read that races the write.
// DoCache through it serves GET from the store's client-side cache; other
// commands go to Redis every time, since the cache drops entries by key
// and could not drop theirs.
func (c *Cache) RedisClient() (client rueidis.Client, ok bool) {
	if c.rb == nil {
		return nil, false
	}
	cl, err := c.rb.c()
	return cl, err == nil
}
