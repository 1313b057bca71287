package main

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store"
)

func TestCacheMemoryLimit(t *testing.T) {
	tests := []struct {
		name    string
		cfg     store.Config
		backend string
		want    int64
	}{
		{"embedded", store.Config{MaxMemoryBytes: 256 << 20}, "memory", 320<<20 + memoryLimitBaseline},
		{"redis", store.Config{ClientCacheBytes: 64 << 20}, "redis", 80<<20 + memoryLimitBaseline},
		{"redis with stale copies", store.Config{ClientCacheBytes: 64 << 20, StaleBytes: 64 << 20}, "redis", 160<<20 + memoryLimitBaseline},
		{"redis without client-side cache", store.Config{ClientCacheBytes: -1}, "redis", memoryLimitBaseline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, cacheMemoryLimit(tt.cfg, tt.backend))
		})
	}
}

func TestSetMemoryLimit(t *testing.T) {
	cache, err := store.Open(t.Context(), store.Config{MaxMemoryBytes: 8 << 20})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cache.Close() })
	before := debug.SetMemoryLimit(-1)

	t.Run("derived from the bound", func(t *testing.T) {
		limit, restore := setMemoryLimit(cache, "")
		assert.Equal(t, int64(10<<20+memoryLimitBaseline), limit)
		assert.Equal(t, limit, debug.SetMemoryLimit(-1))
		restore()
		assert.Equal(t, before, debug.SetMemoryLimit(-1))
	})
	t.Run("GOMEMLIMIT wins", func(t *testing.T) {
		limit, restore := setMemoryLimit(cache, "1GiB")
		assert.Zero(t, limit)
		assert.Equal(t, before, debug.SetMemoryLimit(-1))
		restore()
	})
}
