package patterns

import (
	"context"
	"fmt"
	"strings"

	"github.com/emgcache/emgcache/store"
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

// FileKey returns the key of one family of an EMG file's data (such as
// store.AnalysisPrefix or store.MetadataPrefix) under the file's current
// namespace version: {family}{hash}@{version}. The middleware puts the
// same version into the keys of the file's HTTP responses, so that
// InvalidateFile (or middleware.Invalidate, or an unsafe method through
// the middleware) changes them all at once. Use it with Aside:
//
//	key, err := p.FileKey(ctx, store.MetadataPrefix, hash)
//	meta, err := patterns.Aside(ctx, p, key, ttl, load)
//
// A bad hash is store.ErrInvalidKey; a store that cannot be read is
// store.ErrUnavailable, and the caller then loads without the cache. The
// version is a bookkeeping read, usually served from process memory.
func (p *Patterns) FileKey(ctx context.Context, family, fileHash string) (string, error) {
	ns, err := store.FileNamespace(fileHash)
	if err != nil {
		return "", fmt.Errorf("file key: %w", err)
	}
	v, err := p.cache.NamespaceVersion(ctx, ns)
	if err != nil {
		return "", fmt.Errorf("file key %s: %w", ns, err)
	}
	return family + strings.TrimPrefix(ns, store.FilePrefix) + "@" + v, nil
}

// InvalidateFile makes everything cached for one EMG file under its
// namespace unreachable, in one write whatever the cache holds: the keys
// FileKey returns and every HTTP response the middleware stored for the
// file. It gives the file's namespace (store.FileNamespace) a new version;
// the old entries are never read again and age out by their TTL. A load
// that was running computed its key under the old version, so whatever it
// stores lands where nobody reads, and a caller that arrives after
// InvalidateFile returns makes a new key and does not join it. Other
// processes see the new version as soon as Redis' invalidation reaches
// their client-side cache (milliseconds).
//
// The hash is validated as store.ValidateFileHash does (a bad one is
// store.ErrInvalidKey and invalidates nothing) and may be in either case.
// Keys built without FileKey (store.AnalysisKey) are not versioned: remove
// those with InvalidatePattern.
func (p *Patterns) InvalidateFile(ctx context.Context, fileHash string) error {
	ns, err := store.FileNamespace(fileHash)
	if err != nil {
		return fmt.Errorf("invalidate file: %w", err)
	}
	if err := p.cache.InvalidateNamespace(ctx, ns); err != nil {
		return fmt.Errorf("invalidate file %s: %w", strings.TrimPrefix(ns, store.FilePrefix), err)
	}
	return nil
}
