package middleware

import (
	"context"
	"fmt"

	"github.com/emgcache/emgcache/store"
)

// Invalidate makes every response stored for value, a value the KeyFunc
// returns, unreachable for every process sharing the cache. Call it after what the value
// names has changed. It gives the value's namespace
// ({NamespacePrefix}{value}) a new version, which is part of every key the
// middleware makes for the value: one write whatever the cache holds; the
// old responses are never served again and age out by their TTL. Data that
// patterns.Layer.VersionedKey keyed under the same namespace is
// invalidated with them.
//
// A fill already running when Invalidate is called computed its key under
// the old version: whatever it stores lands where nobody reads, and a
// request of this process that arrives after Invalidate returns makes a
// new key, so it cannot join that fill either. Other processes read the
// new version as soon as Redis' invalidation reaches their client-side
// cache, within milliseconds.
//
// Invalidate fails with store.ErrInvalidKey for "", which a KeyFunc cannot
// return for a cached request, and with store.ErrUnavailable when the
// store cannot be reached.
func (m *ResponseCache) Invalidate(ctx context.Context, value string) error {
	ns, ok := m.cfg.namespaceFor(value)
	if !ok {
		return fmt.Errorf("middleware: invalidate: %w: empty value", store.ErrInvalidKey)
	}
	if err := m.cache.InvalidateNamespace(ctx, ns); err != nil {
		return fmt.Errorf("middleware: invalidate %s: %w", ns, err)
	}
	return nil
}
