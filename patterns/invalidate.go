package patterns

import (
	"context"
	"fmt"
)

// InvalidatePattern removes every key of the cache matching the glob
// pattern and returns how many it removed. It walks the keyspace with SCAN
// and UNLINK in batches on every primary of a cluster, never KEYS. The
// pattern is confined to the cache's key prefix, so "*" means everything this
// cache wrote and never another application's keys. A bad pattern (empty,
// over 1 KiB, an unbalanced '[') gets store.ErrInvalidPattern and removes
// nothing.
func (p *Patterns) InvalidatePattern(ctx context.Context, pattern string) (int64, error) {
	n, err := p.cache.DeletePattern(ctx, pattern)
	if err != nil {
		return n, fmt.Errorf("invalidate %q: %w", pattern, err)
	}
	return n, nil
}
