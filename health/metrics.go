package health

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/emgcache/emgcache/store"
)

// collector turns one store.Stats snapshot per scrape into constant
// metrics. The store keeps its own atomic counters, so mirroring them into
// Prometheus counters would count everything twice and drift; reading them
// at scrape time is exact and costs nothing between scrapes.
type collector struct {
	cache *store.Cache
	http  []HTTPLayer

	up, info                        *prometheus.Desc
	hits, localHits, staleHits      *prometheus.Desc
	misses, errors, writes, deletes *prometheus.Desc
	breakerState, breakerTrips      *prometheus.Desc
	memory, memoryLimit             *prometheus.Desc
	latency                         *prometheus.Desc
	httpRequests                    *prometheus.Desc
}

var _ prometheus.Collector = (*collector)(nil)

func newCollector(cache *store.Cache, http []HTTPLayer) *collector {
	name := func(n string) string { return prometheus.BuildFQName("emgcache", "cache", n) }
	desc := func(n, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name(n), help, labels, nil)
	}
	return &collector{
		cache: cache,
		http:  http,
		httpRequests: prometheus.NewDesc(prometheus.BuildFQName("emgcache", "http", "requests_total"),
			"Requests a response cache saw, by route and outcome: hit (from the store), stale, collapsed (joined another request's fill), miss (the handler ran), bypass.",
			[]string{"route", "outcome"}, nil),
		up:           desc("up", "Whether the cache backend answered just now (1) or not (0)."),
		info:         desc("info", "The cache backend in use; the value is always 1.", "backend"),
		hits:         desc("hits_total", "Reads that found a value, local and stale hits included."),
		localHits:    desc("local_hits_total", "Hits served from process memory without a round trip."),
		staleHits:    desc("stale_hits_total", "Hits served from the stale copy while Redis was unavailable."),
		misses:       desc("misses_total", "Reads that found no value."),
		errors:       desc("errors_total", "Calls that failed, including those refused by the open circuit breaker."),
		writes:       desc("writes_total", "Successful writes."),
		deletes:      desc("deletes_total", "Successful deletes."),
		breakerState: desc("breaker_state", "Circuit breaker state: 1 for the current state, 0 for the others.", "state"),
		breakerTrips: desc("breaker_trips_total", "Times the circuit breaker opened."),
		memory:       desc("memory_bytes", "Memory used by the backend (Redis used_memory, summed over primaries)."),
		memoryLimit:  desc("memory_limit_bytes", "Memory limit of the backend (Redis maxmemory); 0 when none is set."),
		latency:      desc("operation_duration_seconds", "Duration of cache operations; reads are sampled one in eight."),
	}
}

// Describe sends every descriptor, so that registries can check names.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.up, c.info, c.hits, c.localHits, c.staleHits, c.misses, c.errors, c.writes, c.deletes,
		c.breakerState, c.breakerTrips, c.memory, c.memoryLimit, c.latency, c.httpRequests,
	} {
		ch <- d
	}
}

// Collect reads one snapshot. The store bounds its backend call by
// store.DefaultHealthTimeout, so a dead Redis delays a scrape by at most
// that.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.cache.Stats(context.Background())
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge(c.up, boolFloat(s.Healthy))
	gauge(c.info, 1, s.Backend)
	counter(c.hits, s.Hits)
	counter(c.localHits, s.LocalHits)
	counter(c.staleHits, s.StaleHits)
	counter(c.misses, s.Misses)
	counter(c.errors, s.Errors)
	counter(c.writes, s.Writes)
	counter(c.deletes, s.Deletes)
	for _, st := range []store.BreakerState{store.BreakerClosed, store.BreakerOpen, store.BreakerHalfOpen} {
		gauge(c.breakerState, boolFloat(s.Breaker == st), string(st))
	}
	counter(c.breakerTrips, s.BreakerTrips)
	// Memory is only known while the backend answers; a 0 would draw a
	// false drop on every graph, so the series is left out instead.
	if s.Healthy {
		gauge(c.memory, float64(s.MemoryBytes))
		gauge(c.memoryLimit, float64(s.MaxMemoryBytes))
	}
	buckets := make(map[float64]uint64, len(s.Latency.Buckets))
	for _, b := range s.Latency.Buckets {
		buckets[b.UpperBound.Seconds()] = b.Count
	}
	ch <- prometheus.MustNewConstHistogram(c.latency, s.Latency.Count, s.Latency.Sum.Seconds(), buckets)
	for _, l := range c.http {
		hs := l.Stats()
		for _, o := range []struct {
			name string
			n    uint64
		}{{"hit", hs.Hits}, {"stale", hs.Stale}, {"collapsed", hs.Collapsed}, {"miss", hs.Misses}, {"bypass", hs.Bypasses}} {
			ch <- prometheus.MustNewConstMetric(c.httpRequests, prometheus.CounterValue, float64(o.n), hs.Route, o.name)
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
