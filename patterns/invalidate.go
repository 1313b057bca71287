package patterns

import (
	"context"
	"fmt"

	"github.com/emgcache/emgcache/store"
)

// InvalidatePattern removes every key of the cache matching the glob
// pattern and returns how many it removed. It walks the keyspace with SCAN
// and UNLINK in batches on every primary of a cluster, never KEYS. The
// pattern is confined to the cache's key prefix, so "*" means everything this
// cache wrote and never another application's keys. A bad pattern (empty,
// over 1 KiB, an unbalanced '[') gets store.ErrInvalidPattern and removes
// nothing.
func (p *Layer) InvalidatePattern(ctx context.Context, pattern string) (int64, error) {
	n, err := p.cache.DeletePattern(ctx, pattern)
	if err != nil {
		return n, fmt.Errorf("invalidate %q: %w", pattern, err)
	}
	return n, nil
}

// VersionedKey returns key under the current version of the namespace ns:
// {key}@{version}. Give every key of one family (a user's data, a
// document's renderings) the same namespace, and InvalidateNamespace drops
// all of them in one write, whatever their number. Use it with Aside:
//
//	key, err := p.VersionedKey(ctx, "doc:"+id, "doc-html:"+id)
//	html, err := patterns.Aside(ctx, p, key, ttl, render)
//
// The middleware puts the version of a request's namespace into the keys
// of its responses the same way (middleware.Options.NamespacePrefix), so a
// layer and a middleware that name one namespace are invalidated together.
// An empty ns or key is store.ErrInvalidKey; a store that cannot be read
// is store.ErrUnavailable, and the caller then loads without the cache.
// The version is a bookkeeping read, usually served from process memory.
func (p *Layer) VersionedKey(ctx context.Context, ns, key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("versioned key: %w: empty key", store.ErrInvalidKey)
	}
	v, err := p.cache.NamespaceVersion(ctx, ns)
	if err != nil {
		return "", fmt.Errorf("versioned key %s: %w", ns, err)
	}
	return key + "@" + v, nil
}

// InvalidateNamespace makes everything cached under the namespace ns
// unreachable, in one write whatever the cache holds: the keys
// VersionedKey returns for it and every HTTP response the middleware
// stored under it. It gives ns a new version (store.Cache.InvalidateNamespace);
// the old entries are never read again and age out by their TTL. A load
// that was running computed its key under the old version, so whatever it
// stores lands where nobody reads, and a caller that arrives after
// InvalidateNamespace returns makes a new key and does not join it. Other
// processes see the new version as soon as Redis' invalidation reaches
// their client-side cache (milliseconds).
//
// An empty ns is store.ErrInvalidKey and invalidates nothing. Keys built
// without VersionedKey are not versioned: remove those with
// InvalidatePattern.
func (p *Layer) InvalidateNamespace(ctx context.Context, ns string) error {
	if err := p.cache.InvalidateNamespace(ctx, ns); err != nil {
		return fmt.Errorf("invalidate namespace %s: %w", ns, err)
	}
	return nil
}
