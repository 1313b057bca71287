package middleware

import (
	"context"
	"fmt"

	"github.com/emgcache/emgcache/store"
)

// Invalidate makes every response stored for the file fileHash, by any
// process sharing the cache, unreachable. Call it after the file's data has
// changed. It gives the file's namespace (store.FileNamespace) a new
// version, which is part of every key the middleware makes for the file:
// one write whatever the cache holds; the old responses are never served
// again and age out by their TTL. patterns.Patterns puts the same version
// into the keys of the file's analysis and metadata, so it invalidates
// those too.
//
// A fill already running when Invalidate is called computed its key under
// the old version: whatever it stores lands where nobody reads, and a
// request of this process that arrives after Invalidate returns makes a
// new key, so it cannot join that fill either. Other processes read the
// new version as soon as Redis' invalidation reaches their client-side
// cache, within milliseconds.
//
// Invalidate fails with store.ErrInvalidKey for a hash that is not a hex
// digest and with store.ErrUnavailable when the store cannot be reached.
func Invalidate(ctx context.Context, cache *store.Cache, fileHash string) error {
	ns, err := store.FileNamespace(fileHash)
	if err != nil {
		return fmt.Errorf("middleware: invalidate: %w", err)
	}
	return invalidateNamespace(ctx, cache, ns)
}

// InvalidateKey is Invalidate for a KeyFunc that returns values other than
// file hashes: it makes every response stored for the KeyFunc value key
// unreachable (a file hash is accepted too, and means Invalidate). It fails
// with store.ErrInvalidKey for "", which KeyFunc cannot return for a cached
// request, and with store.ErrUnavailable when the store cannot be reached.
func InvalidateKey(ctx context.Context, cache *store.Cache, key string) error {
	ns, ok := namespaceFor(key)
	if !ok {
		return fmt.Errorf("middleware: invalidate: %w: empty key", store.ErrInvalidKey)
	}
	return invalidateNamespace(ctx, cache, ns)
}

func invalidateNamespace(ctx context.Context, cache *store.Cache, ns string) error {
	if err := cache.InvalidateNamespace(ctx, ns); err != nil {
		return fmt.Errorf("middleware: invalidate %s: %w", ns, err)
	}
	return nil
}
