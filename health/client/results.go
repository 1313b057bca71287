package client

import "time"

// The results mirror the JSON of the server; durations travel as
// nanoseconds, so they decode straight into time.Duration. They are the
// client's own types rather than the store's, so that a program that only
// talks to the API does not link the Redis client and the breaker; a test
// of this package holds their JSON fields equal to the store's.

// Health is the result of GET health: one ping of the cache backend.
type Health struct {
	Healthy bool          `json:"healthy"`
	Backend string        `json:"backend"`
	Latency time.Duration `json:"latency_ns"`
	// Breaker is "closed", "open" or "half-open".
	Breaker string `json:"breaker_state"`
	// Error says why the check failed; empty when healthy.
	Error     string    `json:"error,omitempty"`
	CheckedAt time.Time `json:"checked_at"`
}

// Stats is the result of GET stats: what the cache counted since it
// opened.
type Stats struct {
	// Backend is "memory", "redis", "redis-cluster" or "redis-sentinel".
	Backend string `json:"backend"`
	// Healthy reports whether the backend answered the memory query of
	// this snapshot.
	Healthy bool `json:"healthy"`
	// Hits counts reads that found a value; LocalHits and StaleHits are the
	// parts served from process memory and from the stale copy.
	Hits          uint64  `json:"hits"`
	LocalHits     uint64  `json:"local_hits"`
	StaleHits     uint64  `json:"stale_hits"`
	Misses        uint64  `json:"misses"`
	TotalRequests uint64  `json:"total_requests"`
	HitRate       float64 `json:"hit_rate"`
	Errors        uint64  `json:"errors"`
	Writes        uint64  `json:"writes"`
	Deletes       uint64  `json:"deletes"`
	// Breaker is "closed", "open" or "half-open": the worst of the
	// primaries' breakers; BreakerTrips counts how often any opened; Nodes
	// gives each primary's own state (empty for the embedded backend).
	Breaker      string      `json:"breaker_state"`
	BreakerTrips uint64      `json:"breaker_trips"`
	Nodes        []NodeState `json:"nodes,omitempty"`
	// MemoryBytes and MemoryMB (in MiB) are the backend's memory use, zero
	// when it did not answer; MaxMemoryBytes is its limit, 0 when none is
	// set.
	MemoryBytes    int64        `json:"memory_bytes"`
	MemoryMB       float64      `json:"memory_mb"`
	MaxMemoryBytes int64        `json:"max_memory_bytes"`
	Latency        LatencyStats `json:"latency"`
}

// NodeState is one primary Redis node and the state of its breaker.
type NodeState struct {
	Addr    string `json:"addr"`
	Breaker string `json:"breaker_state"`
}

// LatencyStats summarises how long cache operations took.
type LatencyStats struct {
	Count   uint64          `json:"count"`
	Mean    time.Duration   `json:"mean_ns"`
	P50     time.Duration   `json:"p50_ns"`
	P90     time.Duration   `json:"p90_ns"`
	P99     time.Duration   `json:"p99_ns"`
	Max     time.Duration   `json:"max_ns"`
	Buckets []LatencyBucket `json:"buckets,omitempty"`
	Sum     time.Duration   `json:"sum_ns"`
}

// LatencyBucket is one cumulative histogram bucket: Count operations took
// at most UpperBound.
type LatencyBucket struct {
	UpperBound time.Duration `json:"le_ns"`
	Count      uint64        `json:"count"`
}

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
	// Note, when not empty, explains a result that is likely not what the
	// caller meant, such as a pattern that repeats the key prefix the
	// server adds itself.
	Note string `json:"note,omitempty"`
}
