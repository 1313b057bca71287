package store

import (
	"context"
	"fmt"
	"math/bits"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
	"weak"
)

// DefaultDecodedSlots is how many decoded values a Cache keeps for GetValue
// and GetJSON when Config.DecodedSlots is zero: enough for the hot keys of
// a service, 32 KiB of table.
const DefaultDecodedSlots = 4096

// Cloner is implemented by types whose values must not be shared. When T
// (or *T) implements Cloner[T], GetValue and GetJSON return Clone() of the
// shared decoded value instead of the value itself, so every caller gets
// a copy of its own at the cost of Clone, usually far below a decode.
type Cloner[T any] interface {
	Clone() T
}

// The typed tier. Decoding a stored value is a pure function of its bytes,
// the codec and the type, and the store hands out the same immutable string
// for every read of one stored version of a key: the client-side cache
// returns the string of the Redis reply it holds, the embedded backend the
// string it stored. So a read that returns the very string decoded before
// can return the value decoded then. A new version (a write from anywhere,
// a delete and reload, an invalidation sent by Redis, an expiry and
// reload) is another string, decoded anew. The decoded value thus is valid
// exactly as long as the entry it came from: it is only ever returned for
// a read that returned that entry.
//
// Identity is the string's data pointer and length. The table holds the
// string weakly, so that it never keeps alive a value the store has let
// go; a weak pointer that still resolves proves that its memory was not
// freed, and so not reused by another string. When the string is
// collected, a cleanup empties its slot, so the decoded value goes soon
// after the stored one. A slot holds one decoded value; another string
// hashing to it replaces it.

// typedTier is a Cache's codec and its table of decoded values.
type typedTier struct {
	codec *framedCodec
	// size is the table's number of slots, 0 when sharing is off.
	size  int
	table atomic.Pointer[decodedTable]
}

// decodedTable is made on the first typed read, so that a Cache that has
// none pays nothing.
type decodedTable struct {
	slots []atomic.Pointer[decodedEntry]
	shift uint8 // 64 - log2(len(slots))
}

func (t *typedTier) init(cfg Config) error {
	f, err := newFramedCodec(cfg.Codec)
	if err != nil {
		return err
	}
	t.codec = f
	if cfg.DecodedSlots > 0 {
		t.size = 1 << bits.Len(uint(cfg.DecodedSlots-1))
	}
	return nil
}

// slots returns the table, making it if need be; nil when sharing is off.
func (t *typedTier) slots() *decodedTable {
	if tb := t.table.Load(); tb != nil || t.size == 0 {
		return tb
	}
	tb := &decodedTable{
		slots: make([]atomic.Pointer[decodedEntry], t.size),
		shift: uint8(64 - bits.TrailingZeros(uint(t.size))),
	}
	if !t.table.CompareAndSwap(nil, tb) {
		return t.table.Load()
	}
	return tb
}

func (tb *decodedTable) slot(p *byte) *atomic.Pointer[decodedEntry] {
	// Fibonacci hashing: heap addresses differ in their middle bits.
	h := uint64(uintptr(unsafe.Pointer(p))) * 0x9E3779B97F4A7C15
	return &tb.slots[h>>tb.shift]
}

// minSharedBytes is the shortest value whose decoded form is shared.
// Shorter ones decode about as fast as the table is consulted; and the
// runtime's one-byte strings live in read-only memory, to which weak
// pointers cannot point.
const minSharedBytes = 16

// decodedEntry is one string's decoded value, of one type by one codec.
type decodedEntry struct {
	data  weak.Pointer[byte]
	n     int
	codec *framedCodec
	value any // *decoded[T]
}

func (e *decodedEntry) of(p *byte, n int, f *framedCodec) bool {
	return e != nil && e.n == n && e.codec == f && e.data.Value() == p
}

// decoded is a value decoded once, on first use.
type decoded[T any] struct {
	done  atomic.Bool
	mu    sync.Mutex
	v     T
	err   error // the codec's, without the key
	clone func() T
}

// decodedRef is what the cleanup of a string needs to empty its slot.
type decodedRef struct {
	slot  *atomic.Pointer[decodedEntry]
	entry *decodedEntry
}

func forgetDecoded(r decodedRef) { r.slot.CompareAndSwap(r.entry, nil) }

// shared returns the decoded value of s, the stored string, by f as a T:
// the one made before for this very string when the table has it, else a
// new one, not decoded yet. It returns nil when s is not to be shared.
func shared[T any](t *typedTier, f *framedCodec, s string) *decoded[T] {
	tb := t.slots()
	if tb == nil || len(s) < minSharedBytes {
		return nil
	}
	p := unsafe.StringData(s)
	slot := tb.slot(p)
	e := slot.Load()
	if e.of(p, len(s), f) {
		if d, ok := e.value.(*decoded[T]); ok {
			return d
		}
	}
	d := new(decoded[T])
	ne := &decodedEntry{data: weak.Make(p), n: len(s), codec: f, value: d}
	if slot.CompareAndSwap(e, ne) {
		runtime.AddCleanup(p, forgetDecoded, decodedRef{slot, ne})
	} else if cur := slot.Load(); cur.of(p, len(s), f) {
		// Another reader of this string won: share its decode.
		if cd, ok := cur.value.(*decoded[T]); ok {
			d = cd
		}
	}
	return d
}

// fill decodes s, once: readers that arrive meanwhile wait for it. A codec
// that panics leaves d undecoded, and the next reader tries again.
func (d *decoded[T]) fill(f *framedCodec, s string) {
	if h := hookFill; h != nil {
		h()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done.Load() {
		return
	}
	var v T
	err := decodeString(f, s, &v)
	d.v, d.err = v, err
	if err == nil {
		d.clone = cloneFunc(&d.v)
	}
	d.done.Store(true)
}

// decodeString decodes the stored string s without copying it: codecs
// read their input and never write it, so the immutable string can be
// viewed as bytes.
func decodeString(f *framedCodec, s string, v any) error {
	return f.Unmarshal(unsafe.Slice(unsafe.StringData(s), len(s)), v)
}

func decodeError(key string, err error) error {
	return fmt.Errorf("%w: key %q: %w", ErrDecode, key, err)
}

// cloneFunc returns Clone of the shared value when its type has one.
func cloneFunc[T any](v *T) func() T {
	if c, ok := any(v).(Cloner[T]); ok {
		return c.Clone
	}
	// T itself may be a pointer whose type implements Cloner[T]; a nil one
	// (JSON null) has nothing to clone.
	if c, ok := any(*v).(Cloner[T]); ok {
		if rv := reflect.ValueOf(c); rv.Kind() != reflect.Pointer || !rv.IsNil() {
			return c.Clone
		}
	}
	return nil
}

// Codec returns the codec of GetValue, SetValue and the patterns package
// (Config.Codec, JSON when nil), framed as the store stores it: Marshal
// puts the header that names a codec other than JSON in front of the
// encoded bytes, and Unmarshal refuses bytes another codec wrote.
func (c *Cache) Codec() Codec { return c.typed.codec }

// GetValue reads key and decodes its value with the cache's codec
// (Config.Codec) into a T. A miss is ErrNotFound; a value that does not
// decode into a T, or that another codec wrote, is ErrDecode naming the
// key, never a panic.
//
// The value is decoded once per stored version of the key and shared:
// every read that finds the same stored entry (in the client-side cache or
// the embedded backend) gets the same decoded value, without decoding or
// allocating, and no read ever gets a value decoded from an entry it did
// not find: a write, delete, expiry or invalidation of the key, in this
// process or any other, makes the next read decode the new entry. The
// decoded value lives while the entry does (up to a garbage collection
// more), outside the store's byte bounds, at most Config.DecodedSlots of
// them. Values under 16 bytes, which decode about as fast as the table is
// consulted, are decoded on every read.
//
// Sharing means that callers must not modify the value: not the fields
// of a struct reached through a pointer, nor the elements of its slices
// and maps (assigning a field of the returned struct itself is fine; it is
// a copy). A type implementing Cloner is returned as a Clone of the shared
// value instead; a Cache with a negative Config.DecodedSlots decodes every
// read into a value of its caller's own. A value decoded as a T is never
// returned as another type, nor one decoded by another codec.
func GetValue[T any](ctx context.Context, c *Cache, key string) (T, error) {
	return getDecoded[T](ctx, c, c.typed.codec, key)
}

func getDecoded[T any](ctx context.Context, c *Cache, f *framedCodec, key string) (T, error) {
	s, err := c.GetString(ctx, key)
	if err != nil {
		var zero T
		return zero, err
	}
	if h := hookAfterRead; h != nil {
		h(key)
	}
	// The value is copied once, here: a T returned through each call
	// would be copied at each (the cost of a hit on a large struct).
	d := shared[T](&c.typed, f, s)
	if d == nil {
		var v T
		if err := decodeString(f, s, &v); err != nil {
			return v, decodeError(key, err)
		}
		return v, nil
	}
	if !d.done.Load() {
		d.fill(f, s)
	}
	if d.err != nil {
		var zero T
		return zero, decodeError(key, d.err)
	}
	if d.clone != nil {
		return d.clone(), nil
	}
	return d.v, nil
}

// Test hooks, set only by the package's tests, before the goroutines they
// watch start.
var (
	// hookAfterRead runs between a typed read's GetString and its decode.
	hookAfterRead func(key string)
	// hookFill runs when a reader finds a value not decoded yet, before it
	// decodes it or waits for the reader decoding it.
	hookFill func()
)

// SetValue encodes v with the cache's codec (Config.Codec) and stores it
// under key for ttl (0: Config.DefaultTTL). A value that cannot be encoded
// is an error and nothing is stored.
func SetValue(ctx context.Context, c *Cache, key string, v any, ttl time.Duration) error {
	return setEncoded(ctx, c, c.typed.codec, key, v, ttl)
}

func setEncoded(ctx context.Context, c *Cache, f *framedCodec, key string, v any, ttl time.Duration) error {
	b, err := f.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q as %s: %w", key, f.name, err)
	}
	return c.Set(ctx, key, b, ttl)
}
