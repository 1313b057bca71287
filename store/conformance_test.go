package store_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// opener opens a fresh Cache on one backend; cfg.URL is filled in by it.
type opener func(t *testing.T, cfg store.Config) *store.Cache

// backends lists every backend the store contract must hold on.
func backends(t *testing.T) map[string]opener {
	t.Helper()
	srv := storetest.NewServer(t)
	return map[string]opener{
		"memory": func(t *testing.T, cfg store.Config) *store.Cache {
			return openCache(t, cfg)
		},
		"redis": func(t *testing.T, cfg store.Config) *store.Cache {
			cfg.URL = srv.URL()
			if cfg.KeyPrefix == "" {
				// A prefix per test keeps tests sharing one server apart.
				cfg.KeyPrefix = "t" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
			}
			return openCache(t, cfg)
		},
	}
}

func openCache(t *testing.T, cfg store.Config) *store.Cache {
	t.Helper()
	c, err := store.Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestConformance(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()

			t.Run("set get delete", func(t *testing.T) {
				c := open(t, store.Config{})
				_, err := c.Get(ctx, "k")
				require.ErrorIs(t, err, store.ErrNotFound)
				require.NoError(t, c.Set(ctx, "k", []byte("v1"), 0))
				v, err := c.Get(ctx, "k")
				require.NoError(t, err)
				assert.Equal(t, "v1", string(v))
				ok, err := c.Exists(ctx, "k")
				require.NoError(t, err)
				assert.True(t, ok)
				removed, err := c.Delete(ctx, "k")
				require.NoError(t, err)
				assert.True(t, removed)
				removed, err = c.Delete(ctx, "k")
				require.NoError(t, err)
				assert.False(t, removed)
				ok, err = c.Exists(ctx, "k")
				require.NoError(t, err)
				assert.False(t, ok)
				_, err = c.Get(ctx, "k")
				require.ErrorIs(t, err, store.ErrNotFound)
			})

			t.Run("binary-safe keys and values", func(t *testing.T) {
				c := open(t, store.Config{})
				for _, key := range []string{"*", "?", "[", "]", "a\r\nb", "\xff\xfe\x00", "emg_analysis:*", "spaces and\ttabs", "ünïcødé"} {
					t.Run(strconv.Quote(key), func(t *testing.T) {
						val := []byte("value of " + key + "\x00\xff")
						require.NoError(t, c.Set(ctx, key, val, 0))
						got, err := c.Get(ctx, key)
						require.NoError(t, err)
						assert.Equal(t, val, got)
					})
				}
				// Glob characters in a key must not act as patterns.
				_, err := c.Get(ctx, "emg_analysis:x")
				require.ErrorIs(t, err, store.ErrNotFound)
			})

			t.Run("bad input", func(t *testing.T) {
				c := open(t, store.Config{MaxEntryBytes: 1024})
				cases := []struct {
					name string
					err  error
					call func() error
				}{
					{"empty key get", store.ErrInvalidKey, func() error { _, err := c.Get(ctx, ""); return err }},
					{"empty key set", store.ErrInvalidKey, func() error { return c.Set(ctx, "", []byte("x"), 0) }},
					{"empty key delete", store.ErrInvalidKey, func() error { _, err := c.Delete(ctx, ""); return err }},
					{"huge key", store.ErrInvalidKey, func() error { return c.Set(ctx, string(make([]byte, store.MaxKeyBytes+1)), []byte("x"), 0) }},
					{"too large", store.ErrTooLarge, func() error { return c.Set(ctx, "big", make([]byte, 1025), 0) }},
					{"too large setnx", store.ErrTooLarge, func() error { _, err := c.SetNX(ctx, "big", make([]byte, 1025), 0); return err }},
					{"empty pattern", store.ErrInvalidPattern, func() error { _, err := c.DeletePattern(ctx, ""); return err }},
					{"unbalanced pattern", store.ErrInvalidPattern, func() error { _, err := c.DeletePattern(ctx, "emg_[abc"); return err }},
					{"long pattern", store.ErrInvalidPattern, func() error { _, err := c.DeletePattern(ctx, string(make([]byte, 1025))); return err }},
				}
				for _, tc := range cases {
					t.Run(tc.name, func(t *testing.T) {
						require.ErrorIs(t, tc.call(), tc.err)
					})
				}
				// Nothing was stored by the refused writes, and the limit is inclusive.
				_, err := c.Get(ctx, "big")
				require.ErrorIs(t, err, store.ErrNotFound)
				require.NoError(t, c.Set(ctx, "big", make([]byte, 1024), 0))
			})

			t.Run("returned value is the caller's", func(t *testing.T) {
				c := open(t, store.Config{})
				require.NoError(t, c.Set(ctx, "k", []byte("original"), 0))
				for i := 0; i < 3; i++ { // the later reads are local hits on Redis
					v, err := c.Get(ctx, "k")
					require.NoError(t, err)
					require.Equal(t, "original", string(v))
					copy(v, "XXXXXXXX")
				}
				str, err := c.GetString(ctx, "k")
				require.NoError(t, err)
				assert.Equal(t, "original", str)
				in := []byte("reused")
				require.NoError(t, c.Set(ctx, "k2", in, 0))
				copy(in, "ZZZZZZ")
				v, err := c.Get(ctx, "k2")
				require.NoError(t, err)
				assert.Equal(t, "reused", string(v))
			})

			t.Run("ttl", func(t *testing.T) {
				c := open(t, store.Config{DefaultTTL: time.Minute})
				require.NoError(t, c.Set(ctx, "default", []byte("x"), 0))
				d, err := c.TTL(ctx, "default")
				require.NoError(t, err)
				assert.Greater(t, d, 50*time.Second)
				assert.LessOrEqual(t, d, time.Minute)
				_, err = c.TTL(ctx, "missing")
				require.ErrorIs(t, err, store.ErrNotFound)

				// Long enough to read back even on a loaded machine.
				require.NoError(t, c.Set(ctx, "short", []byte("x"), 2*time.Second))
				_, err = c.Get(ctx, "short")
				require.NoError(t, err)
				require.Eventually(t, func() bool {
					_, err := c.Get(ctx, "short")
					return errors.Is(err, store.ErrNotFound)
				}, 10*time.Second, 20*time.Millisecond)
			})

			t.Run("setnx and delete-if-value", func(t *testing.T) {
				c := open(t, store.Config{})
				ok, err := c.SetNX(ctx, "lock", []byte("owner-a"), time.Minute)
				require.NoError(t, err)
				assert.True(t, ok)
				ok, err = c.SetNX(ctx, "lock", []byte("owner-b"), time.Minute)
				require.NoError(t, err)
				assert.False(t, ok)
				ok, err = c.DeleteIfValue(ctx, "lock", []byte("owner-b"))
				require.NoError(t, err)
				assert.False(t, ok, "another owner must not release the lock")
				ok, err = c.DeleteIfValue(ctx, "lock", []byte("owner-a"))
				require.NoError(t, err)
				assert.True(t, ok)
				_, err = c.Get(ctx, "lock")
				require.ErrorIs(t, err, store.ErrNotFound)
			})

			t.Run("read your writes", func(t *testing.T) {
				c := open(t, store.Config{})
				for i := 0; i < 500; i++ {
					want := strconv.Itoa(i)
					require.NoError(t, c.Set(ctx, "ryw", []byte(want), 0))
					got, err := c.Get(ctx, "ryw")
					require.NoError(t, err)
					require.Equal(t, want, string(got), "iteration %d", i)
					got, err = c.Get(ctx, "ryw") // a local hit on Redis
					require.NoError(t, err)
					require.Equal(t, want, string(got), "iteration %d", i)
					if i%10 == 0 {
						_, err = c.Delete(ctx, "ryw")
						require.NoError(t, err)
						_, err = c.Get(ctx, "ryw")
						require.ErrorIs(t, err, store.ErrNotFound, "iteration %d", i)
					}
				}
			})

			t.Run("batch", func(t *testing.T) {
				c := open(t, store.Config{MaxEntryBytes: 100})
				items := []store.Item{
					{Key: "b1", Value: []byte("one")},
					{Key: "", Value: []byte("bad key")},
					{Key: "b2", Value: []byte("two"), TTL: time.Minute},
					{Key: "b3", Value: make([]byte, 101)},
				}
				errs := c.SetMany(ctx, items)
				require.Len(t, errs, 4)
				assert.NoError(t, errs[0])
				assert.ErrorIs(t, errs[1], store.ErrInvalidKey)
				assert.NoError(t, errs[2])
				assert.ErrorIs(t, errs[3], store.ErrTooLarge)

				res := c.GetMany(ctx, []string{"b1", "missing", "b2", "", "b1"})
				require.Len(t, res, 5)
				assert.Equal(t, "one", string(res[0].Value))
				assert.ErrorIs(t, res[1].Err, store.ErrNotFound)
				assert.Equal(t, "two", string(res[2].Value))
				assert.ErrorIs(t, res[3].Err, store.ErrInvalidKey)
				assert.Equal(t, "one", string(res[4].Value))
				n, err := c.DeleteMany(ctx, "b1", "b2", "missing")
				require.NoError(t, err)
				assert.Equal(t, int64(2), n)
			})

			t.Run("pattern delete", func(t *testing.T) {
				c := open(t, store.Config{})
				for i := 0; i < 250; i++ {
					require.NoError(t, c.Set(ctx, fmt.Sprintf("emg_analysis:%03d", i), []byte("a"), 0))
					require.NoError(t, c.Set(ctx, fmt.Sprintf("emg_metadata:%03d", i), []byte("m"), 0))
				}
				require.NoError(t, c.Set(ctx, "emg_analysis[x]", []byte("literal"), 0))
				var seen int
				require.NoError(t, c.Scan(ctx, "emg_metadata:*", func(keys []string) error {
					for _, k := range keys {
						assert.Regexp(t, `^emg_metadata:\d{3}$`, k)
					}
					seen += len(keys)
					return nil
				}))
				assert.Equal(t, 250, seen)
				n, err := c.DeletePattern(ctx, "emg_analysis:1*")
				require.NoError(t, err)
				assert.Equal(t, int64(100), n)
				_, err = c.Get(ctx, "emg_analysis:150")
				require.ErrorIs(t, err, store.ErrNotFound)
				_, err = c.Get(ctx, "emg_analysis:050")
				require.NoError(t, err)
				n, err = c.DeletePattern(ctx, `emg_analysis\[x\]`)
				require.NoError(t, err)
				assert.Equal(t, int64(1), n)
				n, err = c.DeletePattern(ctx, "*")
				require.NoError(t, err)
				assert.Equal(t, int64(400), n)
			})

			t.Run("json", func(t *testing.T) {
				c := open(t, store.Config{})
				type analysis struct {
					RMS      float64  `json:"rms"`
					Channels []string `json:"channels"`
				}
				in := analysis{RMS: 0.42, Channels: []string{"biceps", "triceps"}}
				require.NoError(t, store.SetJSON(ctx, c, "j", in, 0))
				out, err := store.GetJSON[analysis](ctx, c, "j")
				require.NoError(t, err)
				assert.Equal(t, in, out)
				require.NoError(t, c.Set(ctx, "broken", []byte(`{"rms": oops`), 0))
				_, err = store.GetJSON[analysis](ctx, c, "broken")
				require.ErrorIs(t, err, store.ErrDecode)
				assert.Contains(t, err.Error(), `"broken"`)
				_, err = store.GetJSON[analysis](ctx, c, "absent")
				require.ErrorIs(t, err, store.ErrNotFound)
				require.Error(t, store.SetJSON(ctx, c, "chan", make(chan int), 0))
			})

			t.Run("stats", func(t *testing.T) {
				c := open(t, store.Config{})
				require.NoError(t, c.Set(ctx, "s", []byte("x"), 0))
				for i := 0; i < 3; i++ {
					_, err := c.Get(ctx, "s")
					require.NoError(t, err)
				}
				_, _ = c.Get(ctx, "nope")
				s := c.Stats(ctx)
				assert.True(t, s.Healthy)
				assert.Equal(t, uint64(3), s.Hits)
				assert.Equal(t, uint64(1), s.Misses)
				assert.Equal(t, uint64(4), s.TotalRequests)
				assert.InDelta(t, 0.75, s.HitRate, 1e-9)
				assert.GreaterOrEqual(t, s.LocalHits, uint64(2), "repeated reads are served from process memory")
				assert.Equal(t, store.BreakerClosed, s.Breaker)
				assert.Positive(t, s.MemoryBytes)
				// Writes are always timed, reads one in eight.
				assert.GreaterOrEqual(t, s.Latency.Count, uint64(1))
				assert.LessOrEqual(t, s.Latency.Count, uint64(5))
				assert.Positive(t, s.Latency.P50)
				h := c.Health(ctx)
				assert.True(t, h.Healthy)
				assert.Equal(t, c.Backend(), h.Backend)
			})

			t.Run("concurrent use", func(t *testing.T) {
				c := open(t, store.Config{})
				var wg sync.WaitGroup
				for g := 0; g < 8; g++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := 0; i < 200; i++ {
							k := fmt.Sprintf("c%d", i%10)
							if i%3 == 0 {
								assert.NoError(t, c.Set(ctx, k, []byte(k), 0))
								continue
							}
							v, err := c.Get(ctx, k)
							if err == nil {
								assert.Equal(t, k, string(v))
							} else {
								assert.ErrorIs(t, err, store.ErrNotFound)
							}
						}
					}()
				}
				wg.Wait()
			})

			t.Run("closed", func(t *testing.T) {
				c := open(t, store.Config{})
				require.NoError(t, c.Close())
				require.NoError(t, c.Close())
				_, err := c.Get(ctx, "k")
				require.ErrorIs(t, err, store.ErrClosed)
				require.ErrorIs(t, c.Set(ctx, "k", nil, 0), store.ErrClosed)
			})
		})
	}
}

func TestUncountedIsNotCounted(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := open(t, store.Config{})
			require.NoError(t, c.Set(ctx, "k", []byte("v"), 0))
			v, err := c.Uncounted().GetString(ctx, "k")
			require.NoError(t, err)
			assert.Equal(t, "v", v)
			_, err = c.Uncounted().GetString(ctx, "absent")
			require.ErrorIs(t, err, store.ErrNotFound)
			s := c.Stats(ctx)
			assert.Zero(t, s.Hits)
			assert.Zero(t, s.Misses)
			// The same reads through GetString are counted.
			_, err = c.GetString(ctx, "k")
			require.NoError(t, err)
			_, err = c.GetString(ctx, "absent")
			require.ErrorIs(t, err, store.ErrNotFound)
			s = c.Stats(ctx)
			assert.Equal(t, uint64(1), s.Hits)
			assert.Equal(t, uint64(1), s.Misses)
		})
	}
}
