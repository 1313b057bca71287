package middleware

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/emgcache/emgcache/store"
)

// tombstoneTTL is how long an invalidation is remembered: far longer than
// any handler runs, which is all the tombstone has to outlive.
const tombstoneTTL = 24 * time.Hour

// Invalidate removes every response stored for the file fileHash, by any
// process sharing the cache, and returns how many keys it removed. Call it
// after the file's data has changed. It does not touch emg_analysis:{hash}
// itself, which is not a response.
//
// A fill already running when Invalidate is called does not store its
// (possibly outdated) response afterwards: Invalidate first writes a
// tombstone that every fill reads before and after its handler. What is
// left is the time one store write takes, plus, for fills in other
// processes, the time the tombstone's invalidation takes to reach their
// client-side cache, which Redis delivers within milliseconds.
//
// Removal scans the keyspace (SCAN MATCH emg_analysis:{hash}:[0-9a-f]*,
// never KEYS), so its cost grows with the whole cache, not with the file's
// entries.
// Invalidate fails with store.ErrInvalidKey for a hash that is not a hex
// digest and with store.ErrUnavailable when the store cannot be reached.
func Invalidate(ctx context.Context, cache *store.Cache, fileHash string) (int64, error) {
	h, err := store.ValidateFileHash(fileHash)
	if err != nil {
		return 0, fmt.Errorf("middleware: invalidate: %w", err)
	}
	return invalidateGroup(ctx, cache, store.AnalysisPrefix+h+":", h)
}

// InvalidateKey is Invalidate for a KeyFunc that returns values other than
// file hashes: it removes every response stored for the KeyFunc value key
// (a file hash is accepted too, and means Invalidate). It fails with
// store.ErrInvalidKey for "", which KeyFunc cannot return for a cached
// request, and with store.ErrUnavailable when the store cannot be reached.
func InvalidateKey(ctx context.Context, cache *store.Cache, key string) (int64, error) {
	group, ok := groupFor(key)
	if !ok {
		return 0, fmt.Errorf("middleware: invalidate: %w: empty key", store.ErrInvalidKey)
	}
	return invalidateGroup(ctx, cache, group, key)
}

func invalidateGroup(ctx context.Context, cache *store.Cache, group, h string) (int64, error) {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	if err := cache.Set(ctx, tombstoneKey(group), nonce[:], tombstoneTTL); err != nil {
		return 0, fmt.Errorf("middleware: invalidate %s: %w", h, err)
	}
	n, err := cache.DeletePattern(ctx, groupPattern(group))
	if err != nil {
		return n, fmt.Errorf("middleware: invalidate %s: %w", h, err)
	}
	return n, nil
}
