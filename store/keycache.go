package store

import (
	"hash/maphash"
	"sync/atomic"
)

// keySlots is the size of the prefixed-key cache: a power of two.
const keySlots = 4096

// keyCache remembers the prefixed form of recently used keys in a fixed,
// direct-mapped table, so that a read of a hot key allocates only the value
// it returns. A slot holds one key; a colliding key replaces it. Lock-free:
// a slot is swapped whole.
type keyCache struct {
	prefix string
	seed   maphash.Seed
	slots  [keySlots]atomic.Pointer[keyPair]
}

type keyPair struct{ key, full string }

func newKeyCache(prefix string) *keyCache {
	return &keyCache{prefix: prefix, seed: maphash.MakeSeed()}
}

// full returns prefix+key.
func (kc *keyCache) full(key string) string {
	slot := &kc.slots[maphash.String(kc.seed, key)&(keySlots-1)]
	if p := slot.Load(); p != nil && p.key == key {
		return p.full
	}
	full := kc.prefix + key
	slot.Store(&keyPair{key: key, full: full})
	return full
}
