package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

const (
	// NamespacePrefix starts the key that holds a namespace's version: the
	// version of namespace "files:ab12" is under "ns:files:ab12"
	// (behind the cache's key prefix, like every key).
	NamespacePrefix = "ns:"
	// NamespaceTTL is the lifetime of a namespace's version. When it ends
	// (or Redis evicts the key) the next reader draws a new version, which
	// orphans the namespace's entries: a miss each, never a wrong value.
	NamespaceTTL = 30 * 24 * time.Hour
	// namespaceVersionBytes is the randomness of a version: random rather
	// than counted, so a version lost to eviction can never come back and
	// revive the entries written under it.
	namespaceVersionBytes = 12
)

// NamespaceVersion returns the current version of the namespace ns,
// drawing one if it has none. Callers put the version into the keys of
// everything in the namespace; InvalidateNamespace then replaces it, so
// one write orphans every entry at once, whatever their number, and a
// write that was computed under the old version lands where nobody reads.
//
// The read is bookkeeping (not counted in Stats' hits and misses, like a
// read through Uncounted) and is usually served from process memory. ns
// must be non-empty (ErrInvalidKey); other errors are GetString's and
// SetNX's.
func (c *Cache) NamespaceVersion(ctx context.Context, ns string) (string, error) {
	key, err := namespaceKey(ns)
	if err != nil {
		return "", err
	}
	v, err := c.Uncounted().GetString(ctx, key)
	if !errors.Is(err, ErrNotFound) {
		return v, err
	}
	fresh := newNamespaceVersion()
	ok, err := c.SetNX(ctx, key, []byte(fresh), NamespaceTTL)
	switch {
	case err != nil:
		return "", err
	case ok:
		return fresh, nil
	}
	// Another process drew one first; SetNX dropped any local copy, so this
	// read goes to Redis.
	v, err = c.Uncounted().GetString(ctx, key)
	if errors.Is(err, ErrNotFound) {
		// Replaced and expired in between: extremely unlikely, and a
		// version nobody else uses is always safe.
		return fresh, nil
	}
	return v, err
}

// InvalidateNamespace gives ns a new version, which orphans every entry
// written under the old one: after it returns, a reader of this process
// that asks NamespaceVersion gets the new version, and readers of other
// processes as soon as Redis' invalidation reaches their client-side
// cache (milliseconds). It is one write whatever the namespace holds; the
// orphans are never read again and age out by their TTL.
func (c *Cache) InvalidateNamespace(ctx context.Context, ns string) error {
	key, err := namespaceKey(ns)
	if err != nil {
		return err
	}
	return c.Set(ctx, key, []byte(newNamespaceVersion()), NamespaceTTL)
}

// namespaceKeys remembers the keys of recently read namespaces: the
// middleware reads a namespace's version on every request, which would
// otherwise allocate the key each time. A pure function of ns, so one
// table serves every Cache.
var namespaceKeys = newKeyCache(NamespacePrefix)

func namespaceKey(ns string) (string, error) {
	if ns == "" {
		return "", fmt.Errorf("%w: empty namespace", ErrInvalidKey)
	}
	return namespaceKeys.full(ns), nil
}

func newNamespaceVersion() string {
	var b [namespaceVersionBytes]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
