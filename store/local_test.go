package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// The Local reads answer what GetString and NamespaceVersion would from
// process memory, say ErrNotLocal where those would take a round trip, and
// never return a value this process has replaced.
func TestConformanceLocalReads(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			remote := name != "memory"
			c := open(t, store.Config{})

			t.Run("values", func(t *testing.T) {
				require.NoError(t, c.Set(ctx, "k", []byte("v1"), time.Hour))
				if remote {
					// A write drops the local copy: the next read goes to Redis.
					_, err := c.LocalString("k")
					require.ErrorIs(t, err, store.ErrNotLocal)
					v, err := c.GetString(ctx, "k")
					require.NoError(t, err)
					require.Equal(t, "v1", v)
				}
				v, err := c.LocalString("k")
				require.NoError(t, err)
				assert.Equal(t, "v1", v)

				require.NoError(t, c.Set(ctx, "k", []byte("v2"), time.Hour))
				v, err = c.LocalString("k")
				if remote {
					require.ErrorIs(t, err, store.ErrNotLocal, "the replaced value is not served")
				} else {
					require.NoError(t, err)
					assert.Equal(t, "v2", v)
				}

				_, err = c.Delete(ctx, "k")
				require.NoError(t, err)
				_, err = c.LocalString("k")
				if remote {
					require.ErrorIs(t, err, store.ErrNotLocal)
					_, err = c.GetString(ctx, "k")
					require.ErrorIs(t, err, store.ErrNotFound)
					_, err = c.LocalString("k")
				}
				require.ErrorIs(t, err, store.ErrNotFound, "an absence held in memory is an answer")

				_, err = c.LocalString("")
				require.ErrorIs(t, err, store.ErrInvalidKey)
			})

			t.Run("counted when answered", func(t *testing.T) {
				c := open(t, store.Config{})
				require.NoError(t, c.Set(ctx, "k", []byte("v"), time.Hour))
				if remote {
					_, err := c.LocalString("k")
					require.ErrorIs(t, err, store.ErrNotLocal)
					s := c.Stats(ctx)
					assert.Zero(t, s.Hits+s.Misses, "an unanswered read is not counted")
					_, err = c.GetString(ctx, "k")
					require.NoError(t, err)
				}
				before := c.Stats(ctx)
				_, err := c.LocalString("k")
				require.NoError(t, err)
				after := c.Stats(ctx)
				assert.Equal(t, before.Hits+1, after.Hits)
				assert.Equal(t, before.LocalHits+1, after.LocalHits)
			})

			t.Run("namespace versions", func(t *testing.T) {
				_, err := c.LocalNamespaceVersion("emg_file:ab")
				require.ErrorIs(t, err, store.ErrNotLocal, "a namespace without a version has none to give")
				v1, err := c.NamespaceVersion(ctx, "emg_file:ab")
				require.NoError(t, err)
				if remote {
					// The version was drawn by SetNX, which dropped any copy.
					_, err = c.LocalNamespaceVersion("emg_file:ab")
					require.ErrorIs(t, err, store.ErrNotLocal)
					_, err = c.NamespaceVersion(ctx, "emg_file:ab")
					require.NoError(t, err)
				}
				got, err := c.LocalNamespaceVersion("emg_file:ab")
				require.NoError(t, err)
				assert.Equal(t, v1, got)

				before := c.Stats(ctx)
				require.NoError(t, c.InvalidateNamespace(ctx, "emg_file:ab"))
				got, err = c.LocalNamespaceVersion("emg_file:ab")
				if err == nil {
					assert.NotEqual(t, v1, got, "an invalidated version is never served")
				} else {
					require.ErrorIs(t, err, store.ErrNotLocal)
				}
				after := c.Stats(ctx)
				assert.Equal(t, before.TotalRequests, after.TotalRequests, "a version read is bookkeeping")

				_, err = c.LocalNamespaceVersion("")
				require.ErrorIs(t, err, store.ErrInvalidKey)
			})

			t.Run("closed", func(t *testing.T) {
				c := open(t, store.Config{})
				require.NoError(t, c.Close())
				_, err := c.LocalString("k")
				require.ErrorIs(t, err, store.ErrClosed)
				_, err = c.LocalNamespaceVersion("ns")
				require.ErrorIs(t, err, store.ErrClosed)
			})
		})
	}
}

// Another process's write reaches the local copy through Redis'
// invalidation: from then on the old value is not served locally.
func TestLocalStringFollowsOtherWritersIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	c := openCache(t, store.Config{URL: srv.URL(), KeyPrefix: "local:"})
	require.NoError(t, c.Set(ctx, "k", []byte("v1"), time.Hour))
	_, err := c.GetString(ctx, "k")
	require.NoError(t, err)
	v, err := c.LocalString("k")
	require.NoError(t, err)
	require.Equal(t, "v1", v)

	_, err = srv.Do(ctx, "SET", "local:k", "v2")
	require.NoError(t, err)
	waitFor(t, "the other writer's invalidation to reach the local copy", func() bool {
		v, err := c.LocalString("k")
		return err != nil || v != "v1"
	})
	v, err = c.LocalString("k")
	if err == nil {
		assert.Equal(t, "v2", v)
	} else {
		require.ErrorIs(t, err, store.ErrNotLocal)
	}
}
