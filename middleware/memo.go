package middleware

import (
	"hash/maphash"
	"sync/atomic"
	"unsafe"
	"weak"
)

// memoSlots is the size of each of the middleware's memo tables: a power
// of two.
const memoSlots = 4096

// The hit path repeats two pieces of work for every request of a hot URI:
// hashing the request into its key, and decoding the stored value. Both
// are pure functions of their inputs, so the middleware remembers their
// last results in fixed direct-mapped tables, the way store's keyCache
// remembers prefixed keys: a slot holds one result, a colliding input
// replaces it, and a slot is swapped whole, without locks. A remembered
// result is used only when its input is exactly the current one, so the
// tables change no response, and the store is still read on every request:
// an invalidation, which replaces the namespace's version or the stored
// value, is seen by the very next request.

// keyMemo remembers the base key of recent requests. Its input is the
// KeyFunc value and the request's key input (method family, scheme, host,
// path, query, KeyHeaders); the namespace version is compared separately,
// so that an invalidation makes the next request compute its new key.
type keyMemo struct {
	seed  maphash.Seed
	slots [memoSlots]atomic.Pointer[memoKey]
}

type memoKey struct {
	input string // field(KeyFunc value) + base input
	key   requestKey
}

func newKeyMemo() *keyMemo { return &keyMemo{seed: maphash.MakeSeed()} }

func (km *keyMemo) slot(input []byte) *atomic.Pointer[memoKey] {
	return &km.slots[maphash.Bytes(km.seed, input)&(memoSlots-1)]
}

// entryMemo remembers the decoded form of recently read stored values,
// keyed by the identity of the string the store handed out: the store
// returns the same immutable string for every read of a value it holds
// (its client-side cache, its embedded backend), so a read that returns
// the very string decoded before gets the entry decoded then. A value
// written again, or dropped and read back, is another string and is
// decoded anew.
//
// A slot points at its entry weakly: the table never keeps alive a value
// the store has let go, so it adds nothing to the store's memory bound,
// and an entry collected by the GC is simply decoded again. While the
// entry lives, it holds the string it was decoded from (entry.raw), so
// that string's memory cannot be reused by another one: equal data
// pointer and length mean the same bytes.
//
// The vary records at the base keys of URIs with Vary are remembered the
// same way, in a table of their own.
type entryMemo struct {
	seed  maphash.Seed
	slots [memoSlots]atomic.Pointer[weak.Pointer[entry]]
	vary  [memoSlots]atomic.Pointer[weak.Pointer[varyRecord]]
}

func newEntryMemo() *entryMemo { return &entryMemo{seed: maphash.MakeSeed()} }

// decode returns the entry stored as s under key, decoded once per stored
// string.
func (em *entryMemo) decode(key, s string) (*entry, error) {
	slot := &em.slots[maphash.String(em.seed, key)&(memoSlots-1)]
	if wp := slot.Load(); wp != nil {
		if e := wp.Value(); e != nil && sameString(e.raw, s) {
			return e, nil
		}
	}
	e := new(entry)
	if err := decodeEntry(s, e); err != nil {
		return nil, err
	}
	wp := weak.Make(e)
	slot.Store(&wp)
	return e, nil
}

// decodeVary is decode for the vary record stored as s under key. The
// record is shared: its names must not be modified.
func (em *entryMemo) decodeVary(key, s string) (*varyRecord, error) {
	slot := &em.vary[maphash.String(em.seed, key)&(memoSlots-1)]
	if wp := slot.Load(); wp != nil {
		if rec := wp.Value(); rec != nil && sameString(rec.raw, s) {
			return rec, nil
		}
	}
	rec := new(varyRecord)
	if err := decodeVaryRecord(s, rec); err != nil {
		return nil, err
	}
	rec.raw = s
	wp := weak.Make(rec)
	slot.Store(&wp)
	return rec, nil
}

// sameString reports whether a and b are the same string in memory, not
// merely equal: comparing the bytes of a large body on every hit would
// cost what decoding saves.
func sameString(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}
