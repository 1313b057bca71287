package health

import (
	"net/http"
	"sync"
	"time"

	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/store"
)

// dashboardView is the body of GET dashboard: everything the UI shows in
// one request, so that its charts never mix figures of different moments.
type dashboardView struct {
	Healthy bool         `json:"healthy"`
	Health  store.Health `json:"health"`
	Stats   store.Stats  `json:"stats"`
	// HTTP is what the HTTP layers did with their requests: the hit rate
	// a target applies to. Empty without Options.HTTP.
	HTTP   []middleware.Stats `json:"http"`
	Config configView         `json:"config"`
}

// configView is the part of the configuration worth seeing on a dashboard.
// It is built field by field, never by serialising store.Config, so that a
// field added there later cannot leak a secret here. Durations are in
// nanoseconds, like those of store.Health and store.Stats.
type configView struct {
	Backend string `json:"backend"`
	// URL has its password replaced; empty for the embedded backend.
	URL           string        `json:"url,omitempty"`
	KeyPrefix     string        `json:"key_prefix"`
	DefaultTTL    time.Duration `json:"default_ttl_ns"`
	MaxEntryBytes int           `json:"max_entry_bytes"`
	// MaxMemoryBytes bounds the embedded backend only; Redis' own limit is
	// in stats.max_memory_bytes.
	MaxMemoryBytes int64 `json:"max_memory_bytes,omitempty"`
	// The rest apply to Redis only.
	ClientCacheBytes   int              `json:"client_cache_bytes,omitempty"`
	ClientCacheTTL     time.Duration    `json:"client_cache_ttl_ns,omitempty"`
	OpTimeout          time.Duration    `json:"op_timeout_ns,omitempty"`
	DialTimeout        time.Duration    `json:"dial_timeout_ns,omitempty"`
	BreakerFailures    uint32           `json:"breaker_failures,omitempty"`
	BreakerOpenTimeout time.Duration    `json:"breaker_open_timeout_ns,omitempty"`
	StaleBytes         int64            `json:"stale_bytes,omitempty"`
	Invalidation       invalidationView `json:"invalidation"`
}

// invalidationView tells whether POST invalidate is enabled and how often it
// may be called; it never holds the token.
type invalidationView struct {
	Enabled  bool          `json:"enabled"`
	Burst    int           `json:"burst"`
	Interval time.Duration `json:"interval_ns"`
}

// serveDashboard answers GET dashboard. It is 200 whatever the backend's
// state: the page shows an unhealthy cache, it does not fail.
func (a *API) serveDashboard(w http.ResponseWriter, r *http.Request) {
	var (
		v  dashboardView
		wg sync.WaitGroup
	)
	// Concurrently, so that a backend that does not answer costs one
	// timeout, not two.
	wg.Go(func() { v.Health = a.cache.Health(r.Context()) })
	wg.Go(func() { v.Stats = a.cache.Stats(r.Context()) })
	wg.Wait()
	v.Healthy = v.Health.Healthy
	v.HTTP = a.httpStats()
	if v.HTTP == nil {
		v.HTTP = []middleware.Stats{}
	}
	v.Config = a.configView()
	writeJSON(w, http.StatusOK, v)
}

func (a *API) configView() configView {
	cfg := a.cache.Config()
	v := configView{
		// Asked each time: a Redis backend learns whether it is a cluster
		// only once it has connected.
		Backend:       a.cache.Backend(),
		URL:           cfg.RedactedURL(),
		KeyPrefix:     cfg.KeyPrefix,
		DefaultTTL:    cfg.DefaultTTL,
		MaxEntryBytes: cfg.MaxEntryBytes,
		Invalidation: invalidationView{
			Enabled:  a.opts.AdminToken != "",
			Burst:    a.opts.InvalidateBurst,
			Interval: a.opts.InvalidateInterval,
		},
	}
	if cfg.URL == "" {
		v.MaxMemoryBytes = cfg.MaxMemoryBytes
		return v
	}
	v.ClientCacheBytes = cfg.ClientCacheBytes
	v.ClientCacheTTL = cfg.ClientCacheTTL
	v.OpTimeout = cfg.OpTimeout
	v.DialTimeout = cfg.DialTimeout
	v.BreakerFailures = cfg.Breaker.ConsecutiveFailures
	v.BreakerOpenTimeout = cfg.Breaker.OpenTimeout
	v.StaleBytes = cfg.StaleBytes
	return v
}
