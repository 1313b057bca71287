package patterns_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
)

const (
	hashA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	hashB = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
)

// keysLeft returns every key of the cache, sorted.
func keysLeft(t *testing.T, c *store.Cache) []string {
	t.Helper()
	keys := []string{}
	require.NoError(t, c.Scan(context.Background(), "*", func(batch []string) error {
		keys = append(keys, batch...)
		return nil
	}))
	slices.Sort(keys)
	return keys
}

func fill(t *testing.T, c *store.Cache, keys ...string) {
	t.Helper()
	for _, k := range keys {
		require.NoError(t, c.Set(context.Background(), k, []byte("x"), time.Hour))
	}
}

func TestInvalidatePattern(t *testing.T) {
	ctx := context.Background()
	all := []string{
		"emg_analysis:" + hashA, "emg_analysis:" + hashB, "emg_analysis:" + hashA + ":d1",
		"emg_metadata:" + hashA, "user_prefs:u1", "analysis_123", "a*b", "a[b",
	}
	cases := []struct {
		pattern string
		removed []string
	}{
		{"emg_analysis:*", all[:3]},
		{"emg_*:" + hashA + "*", []string{all[0], all[2], all[3]}},
		{"user_prefs:u?", []string{"user_prefs:u1"}},
		{`a\*b`, []string{"a*b"}},
		{`a\[b`, []string{"a[b"}},
		{"nothing:*", nil},
		{"*", all},
	}
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			c := be.open(t, store.Config{KeyPrefix: "inv:"})
			// Another application's keys, on the same Redis or not: "*" must
			// never reach them.
			other := openCache(t, store.Config{URL: c.Config().URL, KeyPrefix: "other:"})
			fill(t, other, "emg_analysis:"+hashA, "keep")
			p := newPatterns(t, c, patterns.Options{})
			for _, tc := range cases {
				t.Run(tc.pattern, func(t *testing.T) {
					_, err := c.DeletePattern(ctx, "*")
					require.NoError(t, err)
					fill(t, c, all...)
					n, err := p.InvalidatePattern(ctx, tc.pattern)
					require.NoError(t, err)
					assert.Equal(t, int64(len(tc.removed)), n)
					want := slices.DeleteFunc(slices.Clone(all), func(k string) bool { return slices.Contains(tc.removed, k) })
					slices.Sort(want)
					assert.Equal(t, want, keysLeft(t, c))
					assert.Len(t, keysLeft(t, other), 2, "the other prefix is untouched")
				})
			}

			t.Run("bad patterns remove nothing", func(t *testing.T) {
				fill(t, c, all...)
				for _, bad := range []string{"", "emg_[analysis:*", strings.Repeat("a", store.MaxPatternBytes+1)} {
					n, err := p.InvalidatePattern(ctx, bad)
					require.ErrorIs(t, err, store.ErrInvalidPattern)
					assert.Zero(t, n)
				}
				assert.Len(t, keysLeft(t, c), len(all))
			})
		})
	}
}

func TestInvalidateNamespace(t *testing.T) {
	ctx := context.Background()
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			c := be.open(t, store.Config{KeyPrefix: "file:"})
			p := newPatterns(t, c, patterns.Options{})
			key := func(family, hash string) string {
				t.Helper()
				k, err := p.VersionedKey(ctx, "file:"+hash, family+hash)
				require.NoError(t, err)
				return k
			}
			metaA, analysisA, metaB := key("meta:", hashA), key("analysis:", hashA), key("meta:", hashB)
			assert.True(t, strings.HasPrefix(metaA, "meta:"+hashA+"@"), metaA)
			assert.Equal(t, metaA, key("meta:", hashA), "a version is stable until invalidated")
			fill(t, c, metaA, analysisA, metaB)

			require.NoError(t, p.InvalidateNamespace(ctx, "file:"+hashA))
			for _, family := range []string{"meta:", "analysis:"} {
				k := key(family, hashA)
				assert.NotContains(t, []string{metaA, analysisA}, k, "a new version")
				_, err := c.Get(ctx, k)
				assert.ErrorIs(t, err, store.ErrNotFound, "nothing of the file is served")
			}
			assert.Equal(t, metaB, key("meta:", hashB), "other files keep their keys")
			v, err := c.Get(ctx, metaB)
			require.NoError(t, err)
			assert.Equal(t, "x", string(v))

			require.ErrorIs(t, p.InvalidateNamespace(ctx, ""), store.ErrInvalidKey)
			_, err = p.VersionedKey(ctx, "", "meta:x")
			require.ErrorIs(t, err, store.ErrInvalidKey, "empty namespace")
			_, err = p.VersionedKey(ctx, "file:x", "")
			require.ErrorIs(t, err, store.ErrInvalidKey, "empty key")
		})
	}
}
