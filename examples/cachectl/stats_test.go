package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/health"
	"github.com/emgcache/emgcache/health/client"
	"github.com/emgcache/emgcache/store"
)

// busyCache returns a cache that has seen one write, three hits and one
// miss: a hit rate of 75%.
func busyCache(t *testing.T) *store.Cache {
	t.Helper()
	ctx := t.Context()
	cache := openMemory(t)
	require.NoError(t, cache.Set(ctx, "emg_metadata:a1", []byte(`{"channels":2}`), 0))
	for range 3 {
		_, err := cache.Get(ctx, "emg_metadata:a1")
		require.NoError(t, err)
	}
	_, err := cache.Get(ctx, "emg_metadata:missing")
	require.ErrorIs(t, err, store.ErrNotFound)
	return cache
}

func TestStats(t *testing.T) {
	url := serveAPI(t, busyCache(t), health.Options{})

	t.Run("table", func(t *testing.T) {
		code, out, errOut := cachectl(t, "-server", url, "stats")
		require.Equal(t, exitOK, code, errOut)
		assert.Empty(t, errOut)
		for _, line := range []string{
			`backend +memory`,
			`healthy +yes`,
			`requests +4`,
			`hits +3`,
			`local hits +\d+`,
			`misses +1`,
			`hit rate +75\.0 %`,
			`errors +0`,
			`writes +1`,
			`memory +\d+\.\d\d MB`,
			`memory limit +256\.00 MB`,
			`latency p50 +[0-9.]+ (µs|ms)`,
			`latency p90 +[0-9.]+ (µs|ms)`,
			`latency p99 +[0-9.]+ (µs|ms)`,
			`breaker +closed`,
		} {
			assert.Regexp(t, "(?m)^"+line+"$", out)
		}
	})

	t.Run("numbers are right-aligned", func(t *testing.T) {
		_, out, _ := cachectl(t, "-server", url, "stats")
		ends := map[int]bool{}
		for _, label := range []string{"requests", "hits", "misses", "errors"} {
			m := regexpLine(t, label+` +\d+$`, out)
			ends[len(m)] = true
		}
		assert.Len(t, ends, 1, "the counters end in different columns:\n%s", out)
	})

	t.Run("json", func(t *testing.T) {
		code, out, errOut := cachectl(t, "-server", url, "stats", "-json")
		require.Equal(t, exitOK, code, errOut)
		var s client.Stats
		require.NoError(t, json.Unmarshal([]byte(out), &s), out)
		assert.Equal(t, uint64(3), s.Hits)
		assert.Equal(t, uint64(1), s.Misses)
		assert.InDelta(t, 0.75, s.HitRate, 1e-9)
		assert.Equal(t, "memory", s.Backend)
	})

	t.Run("global flags after the command", func(t *testing.T) {
		code, out, errOut := cachectl(t, "stats", "-server", url)
		require.Equal(t, exitOK, code, errOut)
		assert.Regexp(t, `(?m)^hits +3$`, out)
	})

	t.Run("server from the environment", func(t *testing.T) {
		t.Setenv(envServer, url)
		code, out, errOut := cachectl(t, "stats")
		require.Equal(t, exitOK, code, errOut)
		assert.Regexp(t, `(?m)^hits +3$`, out)
	})

	t.Run("arguments are refused", func(t *testing.T) {
		code, _, errOut := cachectl(t, "-server", url, "stats", "extra")
		assert.Equal(t, exitError, code)
		assert.Contains(t, errOut, "takes no arguments")
	})
}
