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

func TestInvalidateFile(t *testing.T) {
	ctx := context.Background()
	ours := []string{
		"emg_analysis:" + hashA,
		"emg_analysis:" + hashA + ":digest1",
		"emg_analysis:" + hashA + ":digest2",
		"emg_metadata:" + hashA,
		"emg_metadata:" + hashA + ":v2",
	}
	theirs := []string{
		"emg_analysis:" + hashB,
		"emg_analysis:" + hashB + ":digest1",
		"emg_metadata:" + hashB,
		"emg_analysis:" + hashA + "0",         // a longer hash that starts the same
		"emg_other:" + hashA + ":x",           // another family
		"emg_analysis:" + hashB + ":" + hashA, // the hash later in the key
		"user_prefs:" + hashA,
	}
	cases := []struct {
		name string
		hash string
	}{
		{"lower case", hashA},
		{"upper case", strings.ToUpper(hashA)},
	}
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			c := be.open(t, store.Config{KeyPrefix: "file:"})
			p := newPatterns(t, c, patterns.Options{})
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					fill(t, c, ours...)
					fill(t, c, theirs...)
					n, err := p.InvalidateFile(ctx, tc.hash)
					require.NoError(t, err)
					assert.Equal(t, int64(len(ours)), n)
					want := slices.Clone(theirs)
					slices.Sort(want)
					assert.Equal(t, want, keysLeft(t, c))
				})
			}
			t.Run("bad hashes", func(t *testing.T) {
				for _, bad := range []string{"", "abc", "../../etc/passwd", strings.Repeat("g", 64), "*"} {
					n, err := p.InvalidateFile(ctx, bad)
					require.ErrorIs(t, err, store.ErrInvalidKey, bad)
					assert.Zero(t, n)
				}
			})
			t.Run("nothing cached", func(t *testing.T) {
				n, err := p.InvalidateFile(ctx, hashB+hashB)
				require.NoError(t, err)
				assert.Zero(t, n)
			})
		})
	}
}
