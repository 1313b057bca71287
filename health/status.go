package health

import (
	"net/http"

	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/store"
)

// serveHealth answers GET health: the outcome of one ping, 200 when the
// backend answered and 503 when it did not, so that load balancers and
// orchestrators can read the status code alone.
func (a *API) serveHealth(w http.ResponseWriter, r *http.Request) {
	h := a.cache.Health(r.Context())
	status := http.StatusOK
	if !h.Healthy {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, h)
}

// serveStats answers GET stats with store.Stats, whose JSON holds the
// fields of the original service (healthy, memory_mb, hit_rate, hits,
// misses, total_requests) and what the store measures beyond them. It
// answers 200 even when the backend is down: the counters are still true,
// and healthy says the rest.
func (a *API) serveStats(w http.ResponseWriter, r *http.Request) {
	s := a.cache.Stats(r.Context())
	writeJSON(w, http.StatusOK, statsView{Stats: s, HTTP: a.httpStats()})
}

// statsView is store.Stats, field for field at the top level as the
// original service had them, with the HTTP layers' outcomes beside.
type statsView struct {
	store.Stats
	// HTTP holds one entry per Options.HTTP layer; absent without any.
	HTTP []middleware.Stats `json:"http,omitempty"`
}

// httpStats reads every HTTP layer's counters.
func (a *API) httpStats() []middleware.Stats {
	if len(a.opts.HTTP) == 0 {
		return nil
	}
	out := make([]middleware.Stats, len(a.opts.HTTP))
	for i, l := range a.opts.HTTP {
		out[i] = l.Stats()
	}
	return out
}
