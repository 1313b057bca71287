package health

import (
	"net/http"
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
	s, err := a.cache.Stats(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "stats: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, s)
}
