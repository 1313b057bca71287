package store_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store"
)

// TestConformanceCompareAndSet holds the conditional write to one contract
// on both backends.
func TestConformanceCompareAndSet(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := open(t, store.Config{MaxEntryBytes: 1024})
			cases := []struct {
				name   string
				before func(t *testing.T) // what key holds before the call
				old    string
				wantOK bool
				want   string // what key holds after; "" means nothing
			}{
				{"absent never matches", func(t *testing.T) {}, "", false, ""},
				{"placeholder still there", func(t *testing.T) {
					ok, err := c.SetNX(ctx, "k", []byte("token"), time.Minute)
					require.NoError(t, err)
					require.True(t, ok)
				}, "token", true, "value"},
				{"placeholder deleted meanwhile", func(t *testing.T) {
					require.NoError(t, c.Set(ctx, "k", []byte("token"), time.Minute))
					_, err := c.Delete(ctx, "k")
					require.NoError(t, err)
				}, "token", false, ""},
				{"placeholder removed by pattern", func(t *testing.T) {
					require.NoError(t, c.Set(ctx, "k", []byte("token"), time.Minute))
					_, err := c.DeletePattern(ctx, "k*")
					require.NoError(t, err)
				}, "token", false, ""},
				{"overwritten meanwhile", func(t *testing.T) {
					require.NoError(t, c.Set(ctx, "k", []byte("newer"), time.Minute))
				}, "token", false, "newer"},
				{"binary old value", func(t *testing.T) {
					require.NoError(t, c.Set(ctx, "k", []byte("\x00\xff\r\n"), time.Minute))
				}, "\x00\xff\r\n", true, "value"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					_, err := c.Delete(ctx, "k")
					require.NoError(t, err)
					tc.before(t)
					ok, err := c.CompareAndSet(ctx, "k", []byte(tc.old), []byte("value"), time.Minute)
					require.NoError(t, err)
					assert.Equal(t, tc.wantOK, ok)
					got, err := c.Get(ctx, "k")
					if tc.want == "" {
						require.ErrorIs(t, err, store.ErrNotFound)
						return
					}
					require.NoError(t, err)
					assert.Equal(t, tc.want, string(got))
				})
			}

			t.Run("ttl", func(t *testing.T) {
				require.NoError(t, c.Set(ctx, "t", []byte("a"), time.Minute))
				ok, err := c.CompareAndSet(ctx, "t", []byte("a"), []byte("b"), time.Hour)
				require.NoError(t, err)
				require.True(t, ok)
				ttl, err := c.TTL(ctx, "t")
				require.NoError(t, err)
				assert.Greater(t, ttl, 59*time.Minute)
			})

			t.Run("bad input", func(t *testing.T) {
				_, err := c.CompareAndSet(ctx, "", nil, []byte("x"), 0)
				require.ErrorIs(t, err, store.ErrInvalidKey)
				require.NoError(t, c.Set(ctx, "big", []byte("a"), 0))
				ok, err := c.CompareAndSet(ctx, "big", []byte("a"), make([]byte, 1025), 0)
				require.ErrorIs(t, err, store.ErrTooLarge)
				assert.False(t, ok)
				got, err := c.Get(ctx, "big")
				require.NoError(t, err)
				assert.Equal(t, "a", string(got), "nothing was sent")
			})

			t.Run("one winner", func(t *testing.T) {
				require.NoError(t, c.Set(ctx, "race", []byte("start"), time.Minute))
				var wg sync.WaitGroup
				wins := make([]bool, 16)
				for i := range wins {
					wg.Go(func() {
						ok, err := c.CompareAndSet(ctx, "race", []byte("start"), []byte(strconv.Itoa(i)), time.Minute)
						assert.NoError(t, err)
						wins[i] = ok
					})
				}
				wg.Wait()
				n := 0
				for i, w := range wins {
					if w {
						n++
						got, err := c.Get(ctx, "race")
						require.NoError(t, err)
						assert.Equal(t, strconv.Itoa(i), string(got))
					}
				}
				assert.Equal(t, 1, n, "exactly one compare-and-set wins")
			})
		})
	}
}

func TestConformanceNamespace(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := open(t, store.Config{})
			v1, err := c.NamespaceVersion(ctx, "emg_file:ab")
			require.NoError(t, err)
			require.NotEmpty(t, v1)
			again, err := c.NamespaceVersion(ctx, "emg_file:ab")
			require.NoError(t, err)
			assert.Equal(t, v1, again, "a version is stable until invalidated")
			other, err := c.NamespaceVersion(ctx, "emg_file:cd")
			require.NoError(t, err)
			assert.NotEqual(t, v1, other)

			require.NoError(t, c.InvalidateNamespace(ctx, "emg_file:ab"))
			v2, err := c.NamespaceVersion(ctx, "emg_file:ab")
			require.NoError(t, err)
			assert.NotEqual(t, v1, v2, "invalidation draws a new version, seen at once by this process")
			still, err := c.NamespaceVersion(ctx, "emg_file:cd")
			require.NoError(t, err)
			assert.Equal(t, other, still, "other namespaces keep theirs")

			// A version lost (evicted, expired) is replaced by a new one, never
			// by an old one: entries written under it stay orphaned.
			_, err = c.Delete(ctx, store.NamespacePrefix+"emg_file:ab")
			require.NoError(t, err)
			v3, err := c.NamespaceVersion(ctx, "emg_file:ab")
			require.NoError(t, err)
			assert.NotContains(t, []string{v1, v2}, v3)

			_, err = c.NamespaceVersion(ctx, "")
			require.ErrorIs(t, err, store.ErrInvalidKey)
			require.ErrorIs(t, c.InvalidateNamespace(ctx, ""), store.ErrInvalidKey)

			before := c.Stats(ctx)
			_, err = c.NamespaceVersion(ctx, "emg_file:cd")
			require.NoError(t, err)
			after := c.Stats(ctx)
			assert.Equal(t, before.TotalRequests, after.TotalRequests, "reading a version is bookkeeping, not a cache read")
		})
	}
}
