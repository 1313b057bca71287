package main

import (
	"runtime/debug"

	"github.com/emgcache/emgcache/store"
)

// envGoMemLimit is the runtime's own soft memory limit; when it is set, the
// server leaves the limit to it.
const envGoMemLimit = "GOMEMLIMIT"

// memoryLimitBaseline is what the server needs besides the cache's memory:
// the runtime, the database, and uploads in flight (each read whole, up to
// -max-upload).
const memoryLimitBaseline = 64 << 20

// cacheMemoryLimit is the soft memory limit for cfg: what the cache keeps in
// this process (the embedded backend's entries, or on Redis the client-side
// cache and the stale copies), a quarter more for the garbage its writes
// leave until the collector runs, and the baseline. The store bounds the
// live entries; only a memory limit makes the collector run before the
// garbage doubles the heap, as the default GOGC=100 lets it.
func cacheMemoryLimit(cfg store.Config, backend string) int64 {
	var held int64
	if backend == "memory" {
		held = cfg.MaxMemoryBytes
	} else {
		held = max(0, int64(cfg.ClientCacheBytes)) + max(0, cfg.StaleBytes)
	}
	return held + held/4 + memoryLimitBaseline
}

// setMemoryLimit sets the soft memory limit for cache unless goMemLimit
// (the value of GOMEMLIMIT) is set, and returns the limit it set (0: none)
// and a function restoring the previous one.
func setMemoryLimit(cache *store.Cache, goMemLimit string) (int64, func()) {
	if goMemLimit != "" {
		return 0, func() {}
	}
	limit := cacheMemoryLimit(cache.Config(), cache.Backend())
	prev := debug.SetMemoryLimit(limit)
	return limit, func() { debug.SetMemoryLimit(prev) }
}
