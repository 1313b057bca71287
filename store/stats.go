package store

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// latencyBuckets is the number of histogram buckets: bucket i counts
// operations that took less than 2^i µs, the last one everything slower.
const latencyBuckets = 25

// Stats is a snapshot of what a Cache has counted since Open.
type Stats struct {
	// Backend is "memory", "redis", "redis-cluster" or "redis-sentinel".
	Backend string `json:"backend"`
	// Healthy reports whether the backend answered the memory request made
	// for these stats: on Redis, every primary answered INFO memory within
	// DefaultHealthTimeout (or the caller's deadline); the embedded backend
	// always does. It is false after Close. The MemoryBytes figures are
	// only set when it is true.
	Healthy bool `json:"healthy"`
	// Hits counts reads that found a value; LocalHits is the part of them
	// served from process memory without a round trip, StaleHits the part
	// served from the stale copy while Redis was unavailable.
	Hits      uint64 `json:"hits"`
	LocalHits uint64 `json:"local_hits"`
	StaleHits uint64 `json:"stale_hits"`
	// Misses counts reads that found nothing.
	Misses uint64 `json:"misses"`
	// TotalRequests is Hits + Misses, the reads that got an answer.
	TotalRequests uint64 `json:"total_requests"`
	// HitRate is Hits / TotalRequests, 0 when there were none.
	HitRate float64 `json:"hit_rate"`
	// Errors counts calls of any kind that failed, including those refused
	// by the open breaker.
	Errors uint64 `json:"errors"`
	// Writes and Deletes count successful Set-like and Delete-like calls.
	Writes  uint64 `json:"writes"`
	Deletes uint64 `json:"deletes"`
	// Breaker is the worst state of the primaries' circuit breakers (open
	// if any is open); BreakerTrips counts how often any of them opened.
	// Nodes gives each primary's own state; it is empty for the embedded
	// backend.
	Breaker      BreakerState `json:"breaker_state"`
	BreakerTrips uint64       `json:"breaker_trips"`
	Nodes        []NodeState  `json:"nodes,omitempty"`
	// MemoryBytes is the backend's memory use (INFO memory used_memory on
	// Redis, summed over primaries), MemoryMB the same in MiB, and
	// MaxMemoryBytes its limit (0: none set).
	MemoryBytes    int64   `json:"memory_bytes"`
	MemoryMB       float64 `json:"memory_mb"`
	MaxMemoryBytes int64   `json:"max_memory_bytes"`
	// Latency summarises how long operations took.
	Latency LatencyStats `json:"latency"`
}

// LatencyStats summarises operation latencies from a histogram with
// power-of-two microsecond buckets; percentiles are interpolated within a
// bucket. Writes and other calls are all timed; reads are sampled one in
// eight, because reading the clock twice costs about as much as a read
// served from process memory. Count is therefore the number of timed calls.
type LatencyStats struct {
	Count uint64        `json:"count"`
	Mean  time.Duration `json:"mean_ns"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"`
	// Buckets holds cumulative counts for a Prometheus histogram: Count of
	// operations that took at most UpperBound.
	Buckets []LatencyBucket `json:"buckets,omitempty"`
	// Sum is the total time of all counted operations.
	Sum time.Duration `json:"sum_ns"`
}

// LatencyBucket is one cumulative histogram bucket.
type LatencyBucket struct {
	UpperBound time.Duration `json:"le_ns"`
	Count      uint64        `json:"count"`
}

// counters are updated with atomics on every call, so they cost a few
// nanoseconds and never block.
type counters struct {
	hits, localHits, staleHits, misses atomic.Uint64
	errors, writes, deletes            atomic.Uint64
	latency                            histogram
}

type histogram struct {
	buckets [latencyBuckets]atomic.Uint64
	sum     atomic.Int64
	max     atomic.Int64
}

func (h *histogram) observe(d time.Duration) {
	if d < 0 {
		d = 0
	}
	us := uint64(d / time.Microsecond)
	i := bits.Len64(us) // 0 for <1µs, 1 for [1,2)µs, ...
	if i >= latencyBuckets {
		i = latencyBuckets - 1
	}
	h.buckets[i].Add(1)
	h.sum.Add(int64(d))
	for {
		cur := h.max.Load()
		if int64(d) <= cur || h.max.CompareAndSwap(cur, int64(d)) {
			return
		}
	}
}

// upper is bucket i's exclusive upper bound.
func bucketUpper(i int) time.Duration { return time.Duration(uint64(1)<<uint(i)) * time.Microsecond }

func (h *histogram) snapshot() LatencyStats {
	var counts [latencyBuckets]uint64
	var total uint64
	for i := range h.buckets {
		counts[i] = h.buckets[i].Load()
		total += counts[i]
	}
	s := LatencyStats{Count: total, Max: time.Duration(h.max.Load()), Sum: time.Duration(h.sum.Load())}
	var cum uint64
	for i := 0; i < latencyBuckets-1; i++ {
		cum += counts[i]
		s.Buckets = append(s.Buckets, LatencyBucket{UpperBound: bucketUpper(i), Count: cum})
	}
	if total == 0 {
		return s
	}
	s.Mean = s.Sum / time.Duration(total)
	pct := func(q float64) time.Duration {
		rank := q * float64(total)
		var seen float64
		for i, c := range counts {
			if c == 0 {
				continue
			}
			if seen+float64(c) >= rank {
				lo := time.Duration(0)
				if i > 0 {
					lo = bucketUpper(i - 1)
				}
				hi := bucketUpper(i)
				if i == latencyBuckets-1 || hi > s.Max {
					hi = s.Max
				}
				if hi < lo {
					return lo
				}
				frac := (rank - seen) / float64(c)
				return lo + time.Duration(frac*float64(hi-lo))
			}
			seen += float64(c)
		}
		return s.Max
	}
	s.P50, s.P90, s.P99 = pct(0.50), pct(0.90), pct(0.99)
	return s
}
