package client

import (
	"time"

	"github.com/emgcache/emgcache/store"
)

// The results mirror the JSON of the server; durations travel as
// nanoseconds, so they decode straight into time.Duration.

// The health and stats results are the store's own types: the server
// encodes them as they are, so sharing them keeps the two from drifting.
type (
	// Health is the result of GET health: one ping of the cache backend.
	Health = store.Health
	// Stats is the result of GET stats: what the cache counted since it
	// opened.
	Stats = store.Stats
	// LatencyStats summarises how long cache operations took.
	LatencyStats = store.LatencyStats
	// LatencyBucket is one cumulative histogram bucket.
	LatencyBucket = store.LatencyBucket
)

// Dashboard is the result of GET dashboard: health, stats and
// configuration taken together.
type Dashboard struct {
	Healthy bool   `json:"healthy"`
	Health  Health `json:"health"`
	Stats   Stats  `json:"stats"`
	Config  Config `json:"config"`
}

// Config is the part of the server's cache configuration it shows. Fields
// that do not apply to the backend in use are zero.
type Config struct {
	Backend string `json:"backend"`
	// URL is the Redis URL with its password hidden; empty for the embedded
	// backend.
	URL           string        `json:"url"`
	KeyPrefix     string        `json:"key_prefix"`
	DefaultTTL    time.Duration `json:"default_ttl_ns"`
	MaxEntryBytes int           `json:"max_entry_bytes"`
	// MaxMemoryBytes bounds the embedded backend only.
	MaxMemoryBytes     int64              `json:"max_memory_bytes"`
	ClientCacheBytes   int                `json:"client_cache_bytes"`
	ClientCacheTTL     time.Duration      `json:"client_cache_ttl_ns"`
	OpTimeout          time.Duration      `json:"op_timeout_ns"`
	DialTimeout        time.Duration      `json:"dial_timeout_ns"`
	BreakerFailures    uint32             `json:"breaker_failures"`
	BreakerOpenTimeout time.Duration      `json:"breaker_open_timeout_ns"`
	StaleBytes         int64              `json:"stale_bytes"`
	Invalidation       InvalidationConfig `json:"invalidation"`
}

// InvalidationConfig says whether Invalidate is enabled on the server and
// how often it may be called: Burst calls at once, then one per Interval.
type InvalidationConfig struct {
	Enabled  bool          `json:"enabled"`
	Burst    int           `json:"burst"`
	Interval time.Duration `json:"interval_ns"`
}

// Invalidation is the result of Invalidate.
type Invalidation struct {
	Pattern string `json:"pattern"`
	Removed int64  `json:"removed"`
}
