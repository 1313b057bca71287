package store

import (
	"context"
	"strings"
)

// Scan calls fn with batches of keys (without the prefix) that match the
// glob pattern, on every primary of a cluster, using SCAN with MATCH, never
// KEYS. The pattern is confined to the cache's prefix: "*" means every key
// this cache wrote. A bad pattern gets ErrInvalidPattern before anything is
// scanned. Keys written or deleted during the scan may or may not be seen;
// a key present for the whole scan is seen at least once. An error from fn
// stops the scan and is returned.
func (c *Cache) Scan(ctx context.Context, pattern string, fn func(keys []string) error) error {
	if err := validatePattern(pattern); err != nil {
		return err
	}
	match := escapeGlob(c.cfg.KeyPrefix) + pattern
	return c.run(ctx, "scan", c.cfg.KeyPrefix+pattern, false, func(ctx context.Context) error {
		return c.be.scan(ctx, match, func(keys []string) error {
			for i, k := range keys {
				keys[i] = strings.TrimPrefix(k, c.cfg.KeyPrefix)
			}
			return fn(keys)
		})
	})
}

// DeletePattern removes every key of this cache matching the glob pattern,
// with SCAN and UNLINK in batches on every primary, and returns how many it
// removed. The pattern is confined to the cache's prefix, and a bad pattern
// (empty, over MaxPatternBytes, an unbalanced '[') gets ErrInvalidPattern
// and removes nothing.
func (c *Cache) DeletePattern(ctx context.Context, pattern string) (int64, error) {
	if err := validatePattern(pattern); err != nil {
		return 0, err
	}
	match := escapeGlob(c.cfg.KeyPrefix) + pattern
	var n int64
	err := c.run(ctx, "delete-pattern", c.cfg.KeyPrefix+pattern, false, func(ctx context.Context) (err error) {
		n, err = c.be.deleteMatching(ctx, match)
		return err
	})
	c.stats.deletes.Add(uint64(n))
	if c.stale != nil && n > 0 {
		_, _ = c.stale.deleteMatching(context.Background(), match)
	}
	return n, err
}
