package store_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

type doc struct {
	N     int      `json:"n"`
	Items []string `json:"items"`
}

// countingCodec is JSON that counts its decodes, and can hold one decode
// until released.
type countingCodec struct {
	decodes atomic.Int64
	// hold, when set, makes the next decode signal entered and wait for
	// release.
	hold             atomic.Bool
	entered, release chan struct{}
	// panics makes the next decode panic.
	panics atomic.Bool
}

func newCountingCodec() *countingCodec {
	return &countingCodec{entered: make(chan struct{}), release: make(chan struct{})}
}

func (c *countingCodec) Name() string                  { return "json" }
func (c *countingCodec) Marshal(v any) ([]byte, error) { return json.Marshal(v) }
func (c *countingCodec) Unmarshal(data []byte, v any) error {
	c.decodes.Add(1)
	if c.panics.Swap(false) {
		panic("codec panic")
	}
	if c.hold.Swap(false) {
		c.entered <- struct{}{}
		<-c.release
	}
	return json.Unmarshal(data, v)
}

// gobCodec is a codec that is not JSON.
type gobCodec struct{}

func (gobCodec) Name() string { return "gob" }
func (gobCodec) Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(v)
	return b.Bytes(), err
}
func (gobCodec) Unmarshal(data []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(data)).Decode(v)
}

// waitFor polls cond until it holds; the deadline only stops a test that
// would otherwise hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// warm reads key until the store serves it from process memory, so that
// what follows measures the steady state of one stored version.
func warm(t *testing.T, c *store.Cache, key string) {
	t.Helper()
	waitFor(t, key+" served locally", func() bool {
		e, err := c.Lookup(context.Background(), key)
		require.NoError(t, err)
		return e.Source == store.SourceLocal
	})
}

func TestTypedDecodesOncePerVersion(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			codec := newCountingCodec()
			c := open(t, store.Config{Codec: codec})
			require.NoError(t, store.SetValue(ctx, c, "k", doc{N: 1, Items: []string{"a"}}, 0))
			warm(t, c, "k")
			first, err := store.GetValue[*doc](ctx, c, "k")
			require.NoError(t, err)
			decodes := codec.decodes.Load()
			for range 50 {
				got, err := store.GetValue[*doc](ctx, c, "k")
				require.NoError(t, err)
				require.Same(t, first, got, "a read of the same version shares its decoded value")
			}
			assert.Equal(t, decodes, codec.decodes.Load(), "reads of one version decode nothing more")

			// The same bytes written again are a new version: decoded anew.
			require.NoError(t, store.SetValue(ctx, c, "k", doc{N: 1, Items: []string{"a"}}, 0))
			warm(t, c, "k")
			again, err := store.GetValue[*doc](ctx, c, "k")
			require.NoError(t, err)
			assert.NotSame(t, first, again)
			assert.Equal(t, first, again)
			assert.Greater(t, codec.decodes.Load(), decodes)
		})
	}
}

func TestTypedNeverOutlivesItsEntry(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := open(t, store.Config{})
			read := func(key string) (int, error) {
				d, err := store.GetJSON[doc](ctx, c, key)
				return d.N, err
			}
			t.Run("write", func(t *testing.T) {
				require.NoError(t, store.SetJSON(ctx, c, "w", doc{N: 1}, 0))
				warm(t, c, "w")
				n, err := read("w")
				require.NoError(t, err)
				require.Equal(t, 1, n)
				require.NoError(t, store.SetJSON(ctx, c, "w", doc{N: 2}, 0))
				n, err = read("w")
				require.NoError(t, err)
				assert.Equal(t, 2, n)
			})
			t.Run("delete", func(t *testing.T) {
				require.NoError(t, store.SetJSON(ctx, c, "d", doc{N: 1}, 0))
				warm(t, c, "d")
				_, err := read("d")
				require.NoError(t, err)
				_, err = c.Delete(ctx, "d")
				require.NoError(t, err)
				_, err = read("d")
				assert.ErrorIs(t, err, store.ErrNotFound)
			})
			t.Run("namespace", func(t *testing.T) {
				key := func() string {
					v, err := c.NamespaceVersion(ctx, "file")
					require.NoError(t, err)
					return "file:" + v + ":meta"
				}
				require.NoError(t, store.SetJSON(ctx, c, key(), doc{N: 1}, 0))
				warm(t, c, key())
				n, err := read(key())
				require.NoError(t, err)
				require.Equal(t, 1, n)
				require.NoError(t, c.InvalidateNamespace(ctx, "file"))
				_, err = read(key())
				assert.ErrorIs(t, err, store.ErrNotFound)
			})
			t.Run("expiry", func(t *testing.T) {
				require.NoError(t, store.SetJSON(ctx, c, "e", doc{N: 1}, 300*time.Millisecond))
				_, err := read("e")
				require.NoError(t, err)
				waitFor(t, "the entry to expire", func() bool {
					_, err := c.GetString(ctx, "e")
					return errors.Is(err, store.ErrNotFound)
				})
				_, err = read("e")
				assert.ErrorIs(t, err, store.ErrNotFound)
			})
		})
	}
}

// TestTypedFollowsRedis: a change made on the server, by another Cache or
// by a client that is no Cache at all, reaches typed reads as soon as it
// reaches GetString, never later.
func TestTypedFollowsRedis(t *testing.T) {
	ctx := context.Background()
	srv := storetest.NewServer(t)
	cfg := store.Config{URL: srv.URL(), KeyPrefix: "typed:"}
	c := openCache(t, cfg)
	other := openCache(t, cfg)
	// sees reports whether c's GetString shows the JSON of n, and checks
	// that the typed read agrees with the GetString before it.
	agrees := func(key string, n int) bool {
		s, err := c.GetString(ctx, key)
		require.NoError(t, err)
		d, err := store.GetJSON[*doc](ctx, c, key)
		require.NoError(t, err)
		if s == mustJSON(t, doc{N: n}) {
			require.Equal(t, n, d.N, "a typed read after GetString saw version %d", n)
			return true
		}
		return false
	}

	require.NoError(t, store.SetJSON(ctx, c, "k", doc{N: 1}, 0))
	warm(t, c, "k")
	require.True(t, agrees("k", 1))

	require.NoError(t, store.SetJSON(ctx, other, "k", doc{N: 2}, 0))
	waitFor(t, "the other Cache's write", func() bool { return agrees("k", 2) })

	_, err := srv.Do(ctx, "SET", "typed:k", mustJSON(t, doc{N: 3}))
	require.NoError(t, err)
	waitFor(t, "the server-side SET", func() bool { return agrees("k", 3) })

	warm(t, c, "k")
	_, err = srv.Do(ctx, "FLUSHALL")
	require.NoError(t, err)
	waitFor(t, "the flush", func() bool {
		_, err := c.GetString(ctx, "k")
		return errors.Is(err, store.ErrNotFound)
	})
	_, err = store.GetJSON[*doc](ctx, c, "k")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestTypedTypeSafety(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := open(t, store.Config{})
			require.NoError(t, c.Set(ctx, "k", []byte(`{"n":7,"items":["x"]}`), 0))
			warm(t, c, "k")
			for range 3 {
				d, err := store.GetJSON[doc](ctx, c, "k")
				require.NoError(t, err)
				assert.Equal(t, doc{N: 7, Items: []string{"x"}}, d)

				m, err := store.GetJSON[map[string]any](ctx, c, "k")
				require.NoError(t, err)
				assert.Equal(t, map[string]any{"n": 7.0, "items": []any{"x"}}, m)

				a, err := store.GetJSON[any](ctx, c, "k")
				require.NoError(t, err)
				assert.IsType(t, map[string]any{}, a)

				p, err := store.GetJSON[*doc](ctx, c, "k")
				require.NoError(t, err)
				assert.Equal(t, 7, p.N)

				_, err = store.GetJSON[int](ctx, c, "k")
				assert.ErrorIs(t, err, store.ErrDecode)
				assert.ErrorContains(t, err, `"k"`)
			}
			// One byte: the runtime keeps such strings in read-only memory.
			require.NoError(t, c.Set(ctx, "one", []byte("7"), 0))
			for range 2 {
				n, err := store.GetJSON[int](ctx, c, "one")
				require.NoError(t, err)
				assert.Equal(t, 7, n)
			}
		})
	}
}

func TestTypedCodecs(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := open(t, store.Config{Codec: gobCodec{}})
			want := doc{N: 3, Items: []string{"a", "b"}}
			require.NoError(t, store.SetValue(ctx, c, "g", want, 0))
			got, err := store.GetValue[doc](ctx, c, "g")
			require.NoError(t, err)
			assert.Equal(t, want, got)

			raw, err := c.GetString(ctx, "g")
			require.NoError(t, err)
			assert.True(t, len(raw) > 0 && raw[0] == 0, "a codec other than JSON stores a header")

			_, err = store.GetJSON[doc](ctx, c, "g")
			assert.ErrorIs(t, err, store.ErrDecode, "JSON refuses what gob wrote")
			assert.ErrorContains(t, err, `"gob"`)

			require.NoError(t, store.SetJSON(ctx, c, "j", want, 0))
			_, err = store.GetValue[doc](ctx, c, "j")
			assert.ErrorIs(t, err, store.ErrDecode, "gob refuses what JSON wrote")
			got, err = store.GetJSON[doc](ctx, c, "j")
			require.NoError(t, err)
			assert.Equal(t, want, got)

			// Cache.Codec is the framed codec: its bytes are what SetValue stores.
			b, err := c.Codec().Marshal(want)
			require.NoError(t, err)
			assert.Equal(t, raw, string(b))
			var back doc
			require.NoError(t, c.Codec().Unmarshal(b, &back))
			assert.Equal(t, want, back)
			assert.Error(t, c.Codec().Unmarshal([]byte(`{"n":3}`), &back))
			assert.Equal(t, "gob", c.Codec().Name())

			// Another Cache's Codec is framed once, not twice.
			same := open(t, store.Config{Codec: c.Codec()})
			b2, err := same.Codec().Marshal(want)
			require.NoError(t, err)
			assert.Equal(t, b, b2)
		})
	}
}

func TestTypedCodecSharedByCaches(t *testing.T) {
	ctx := context.Background()
	srv := storetest.NewServer(t)
	gobCache := openCache(t, store.Config{URL: srv.URL(), KeyPrefix: "codec:", Codec: gobCodec{}})
	jsonCache := openCache(t, store.Config{URL: srv.URL(), KeyPrefix: "codec:"})
	require.NoError(t, store.SetValue(ctx, gobCache, "k", doc{N: 1}, 0))
	_, err := store.GetValue[doc](ctx, jsonCache, "k")
	assert.ErrorIs(t, err, store.ErrDecode, "a Cache with another codec refuses the value")
	d, err := store.GetValue[doc](ctx, gobCache, "k")
	require.NoError(t, err)
	assert.Equal(t, 1, d.N)
}

func TestTypedCodecName(t *testing.T) {
	for _, name := range []string{"", "has space", "nul\x00", "a-very-long-codec-name-of-more-than-32-bytes"} {
		t.Run(strconv.Quote(name), func(t *testing.T) {
			_, err := store.Open(context.Background(), store.Config{Codec: namedCodec(name)})
			assert.ErrorIs(t, err, store.ErrInvalidConfig)
		})
	}
	c, err := store.Open(context.Background(), store.Config{Codec: namedCodec("msgpack/v5")})
	require.NoError(t, err)
	require.NoError(t, c.Close())
}

type namedCodec string

func (n namedCodec) Name() string                  { return string(n) }
func (namedCodec) Marshal(v any) ([]byte, error)   { return json.Marshal(v) }
func (namedCodec) Unmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// clonable counts its clones.
type clonable struct {
	Items []int `json:"items"`
}

var clones atomic.Int64

func (c clonable) Clone() clonable {
	clones.Add(1)
	return clonable{Items: slices.Clone(c.Items)}
}

func TestTypedCloner(t *testing.T) {
	ctx := context.Background()
	c := openCache(t, store.Config{})
	require.NoError(t, store.SetJSON(ctx, c, "k", clonable{Items: []int{1, 2, 3, 4, 5}}, 0))
	before := clones.Load()
	v, err := store.GetJSON[clonable](ctx, c, "k")
	require.NoError(t, err)
	v.Items[0] = 99 // the caller's own copy
	again, err := store.GetJSON[clonable](ctx, c, "k")
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 3, 4, 5}, again.Items)
	assert.Equal(t, before+2, clones.Load())
}

func TestTypedSharingOff(t *testing.T) {
	ctx := context.Background()
	codec := newCountingCodec()
	c := openCache(t, store.Config{Codec: codec, DecodedSlots: -1})
	require.NoError(t, store.SetValue(ctx, c, "k", doc{N: 1}, 0))
	a, err := store.GetValue[*doc](ctx, c, "k")
	require.NoError(t, err)
	b, err := store.GetValue[*doc](ctx, c, "k")
	require.NoError(t, err)
	assert.NotSame(t, a, b)
	assert.Equal(t, int64(2), codec.decodes.Load())
}

// TestTypedConcurrentFirstReads: readers that find a version while its
// first reader decodes it wait for that decode instead of making their own.
func TestTypedConcurrentFirstReads(t *testing.T) {
	ctx := context.Background()
	codec := newCountingCodec()
	c := openCache(t, store.Config{Codec: codec})
	require.NoError(t, store.SetValue(ctx, c, "k", doc{N: 1}, 0))
	codec.hold.Store(true)
	results := make(chan *doc, 2)
	go func() {
		d, _ := store.GetValue[*doc](ctx, c, "k")
		results <- d
	}()
	<-codec.entered // the first reader decodes, and holds
	waiting := make(chan struct{})
	store.SetTypedHooks(t, nil, func() { close(waiting) })
	go func() {
		d, _ := store.GetValue[*doc](ctx, c, "k")
		results <- d
	}()
	<-waiting // the second reader found the value undecoded
	close(codec.release)
	a, b := <-results, <-results
	require.NotNil(t, a)
	assert.Same(t, a, b)
	assert.Equal(t, int64(1), codec.decodes.Load())
}

// TestTypedLateReaderOfOldVersion: a reader that read a version before a
// write, and decodes it after, gets that version (its read came first);
// and its late decode does not hide the new version from later reads.
func TestTypedLateReaderOfOldVersion(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := open(t, store.Config{})
			require.NoError(t, store.SetJSON(ctx, c, "k", doc{N: 1}, 0))
			warm(t, c, "k")
			paused, resume := make(chan struct{}), make(chan struct{})
			var first atomic.Bool
			store.SetTypedHooks(t, func(string) {
				if first.CompareAndSwap(false, true) {
					close(paused)
					<-resume
				}
			}, nil)
			late := make(chan int)
			go func() {
				d, err := store.GetJSON[doc](ctx, c, "k")
				assert.NoError(t, err)
				late <- d.N
			}()
			<-paused
			require.NoError(t, store.SetJSON(ctx, c, "k", doc{N: 2}, 0))
			d, err := store.GetJSON[doc](ctx, c, "k")
			require.NoError(t, err)
			require.Equal(t, 2, d.N)
			close(resume)
			assert.Equal(t, 1, <-late)
			for range 3 {
				d, err := store.GetJSON[doc](ctx, c, "k")
				require.NoError(t, err)
				assert.Equal(t, 2, d.N)
			}
		})
	}
}

// TestTypedPanickingCodec: a decode that panics leaves nothing behind; the
// next read decodes again.
func TestTypedPanickingCodec(t *testing.T) {
	ctx := context.Background()
	codec := newCountingCodec()
	c := openCache(t, store.Config{Codec: codec})
	require.NoError(t, store.SetValue(ctx, c, "k", doc{N: 5}, 0))
	codec.panics.Store(true)
	assert.Panics(t, func() { _, _ = store.GetValue[doc](ctx, c, "k") })
	d, err := store.GetValue[doc](ctx, c, "k")
	require.NoError(t, err)
	assert.Equal(t, 5, d.N)
}

// TestTypedSlotFreedWithItsEntry: once the store lets a value go, its
// decoded value goes too: the table holds the stored string weakly.
func TestTypedSlotFreedWithItsEntry(t *testing.T) {
	ctx := context.Background()
	c := openCache(t, store.Config{})
	require.NoError(t, store.SetJSON(ctx, c, "k", doc{N: 1, Items: make([]string, 100)}, 0))
	_, err := store.GetJSON[doc](ctx, c, "k")
	require.NoError(t, err)
	require.Equal(t, 1, store.DecodedEntries(c))
	_, err = c.Delete(ctx, "k")
	require.NoError(t, err)
	waitFor(t, "the slot to empty", func() bool {
		runtime.GC()
		return store.DecodedEntries(c) == 0
	})
}
