package health

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// errorBody is the body of every error response.
type errorBody struct {
	Error string `json:"error"`
}

// writeJSON answers with v as JSON. Encoding the types of this package
// cannot fail, and a failed write means the client went away, so neither
// is reported.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// commonHeaders sets the headers every response of the API carries. The
// figures change with every request, so no cache in between may keep them,
// and an invalidation result must never be replayed from a cache.
func commonHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// allow answers 405 with an Allow header to any method not in methods.
// mux's own method matching cannot do this: without a router-wide handler it
// answers 405 with an empty body, and the router belongs to the caller.
func allow(next http.Handler, methods ...string) http.Handler {
	allowed := strings.Join(methods, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(methods, r.Method) {
			methodNotAllowed(w, r, allowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allowed string) {
	w.Header().Set("Allow", allowed)
	writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed; use "+allowed)
}
