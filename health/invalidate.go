package health

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/emgcache/emgcache/store"
)

// invalidation is the body of a successful POST invalidate.
type invalidation struct {
	Pattern string `json:"pattern"`
	Removed int64  `json:"removed"`
	// Note explains a result that is likely not what the caller meant.
	Note string `json:"note,omitempty"`
}

// prefixNote explains why a pattern that starts with the cache's key
// prefix removed nothing: the prefix is added to every pattern, so the
// caller's own copy of it makes the pattern look for the prefix twice.
func prefixNote(pattern, prefix string, removed int64) string {
	if removed != 0 || prefix == "" || !strings.HasPrefix(pattern, prefix) {
		return ""
	}
	return "patterns are matched under the key prefix " + strconv.Quote(prefix) +
		", which is added to them: this one looked for " + strconv.Quote(prefix+pattern) +
		"; leave the prefix out (" + strconv.Quote(strings.TrimPrefix(pattern, prefix)) + ")"
}

// Outcomes of a call to the invalidate endpoint, as logged.
const (
	outcomeOK               = "ok"
	outcomeMethodNotAllowed = "method_not_allowed"
	outcomeDisabled         = "disabled"
	outcomeUnauthorized     = "unauthorized"
	outcomeBadRequest       = "bad_request"
	outcomeRateLimited      = "rate_limited"
	outcomeUnavailable      = "unavailable"
	outcomeFailed           = "failed"
)

// maxLoggedPattern caps the pattern in log records: a rejected pattern can
// be as long as a URL, and logs should not carry kilobytes of it.
const maxLoggedPattern = store.MaxPatternBytes

// serveInvalidate answers POST invalidate?pattern=... . The checks run from
// the cheapest to the costliest: method, then token, then pattern, then the
// rate limit, so that callers without the token cannot spend the budget of
// those who have it.
func (a *API) serveInvalidate(w http.ResponseWriter, r *http.Request) {
	call := invalidateCall{api: a, r: r, token: tokenFingerprint(r)}
	// Read first so that refusals are logged with the pattern they were for.
	patterns := r.URL.Query()["pattern"]
	if len(patterns) > 0 {
		call.pattern = patterns[0]
	}
	if r.Method != http.MethodPost {
		call.outcome, call.status = outcomeMethodNotAllowed, http.StatusMethodNotAllowed
		call.log()
		methodNotAllowed(w, r, http.MethodPost)
		return
	}
	if a.opts.AdminToken == "" {
		call.fail(w, http.StatusForbidden, outcomeDisabled, "invalidation is disabled: no admin token is configured")
		return
	}
	if !a.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="emgcache"`)
		call.fail(w, http.StatusUnauthorized, outcomeUnauthorized, "missing or invalid bearer token")
		return
	}
	switch {
	case len(patterns) == 0:
		call.fail(w, http.StatusBadRequest, outcomeBadRequest, "missing pattern parameter")
		return
	case len(patterns) > 1:
		call.fail(w, http.StatusBadRequest, outcomeBadRequest, "more than one pattern parameter")
		return
	case call.pattern == "":
		call.fail(w, http.StatusBadRequest, outcomeBadRequest, "empty pattern")
		return
	}
	if ok, wait := a.limiter.take(); !ok {
		secs := strconv.Itoa(retryAfterSeconds(wait))
		w.Header().Set("Retry-After", secs)
		call.fail(w, http.StatusTooManyRequests, outcomeRateLimited, "too many invalidations; retry in "+secs+"s")
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), a.opts.InvalidateTimeout)
	defer cancel()
	n, err := a.invalidator.InvalidatePattern(ctx, call.pattern)
	call.removed, call.err = n, err
	switch {
	case err == nil:
		call.outcome, call.status = outcomeOK, http.StatusOK
		call.log()
		writeJSON(w, http.StatusOK, invalidation{Pattern: call.pattern, Removed: n,
			Note: prefixNote(call.pattern, a.cache.Config().KeyPrefix, n)})
	case errors.Is(err, store.ErrInvalidPattern):
		call.fail(w, http.StatusBadRequest, outcomeBadRequest, err.Error())
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		call.fail(w, http.StatusServiceUnavailable, outcomeUnavailable, err.Error())
	default:
		call.fail(w, http.StatusInternalServerError, outcomeFailed, err.Error())
	}
}

// authorized reports whether r carries the admin token. Both sides are
// hashed first, so the constant-time comparison runs on equal lengths and
// the time taken says nothing about the token, not even its length.
func (a *API) authorized(r *http.Request) bool {
	tok, ok := bearerToken(r)
	if !ok {
		return false
	}
	got := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(got[:], a.tokenSum[:]) == 1
}

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header. The scheme is case-insensitive, as RFC 9110 says.
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// tokenFingerprint names the presented token in logs without revealing it:
// the first 8 hex digits of its SHA-256, enough to tell which of a few
// tokens was used and far too few to recover it.
func tokenFingerprint(r *http.Request) string {
	tok, ok := bearerToken(r)
	if !ok {
		if r.Header.Get("Authorization") != "" {
			return "malformed"
		}
		return "none"
	}
	sum := sha256.Sum256([]byte(tok))
	return "sha256:" + hex.EncodeToString(sum[:4])
}

// retryAfterSeconds rounds up, because a client that retries early is
// refused again.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// invalidateCall gathers what is logged about one call.
type invalidateCall struct {
	api     *API
	r       *http.Request
	token   string
	pattern string
	removed int64
	outcome string
	status  int
	err     error
}

func (c *invalidateCall) fail(w http.ResponseWriter, status int, outcome, msg string) {
	c.status, c.outcome = status, outcome
	c.log()
	writeError(w, status, msg)
}

// log writes one record per call: who (remote address and token
// fingerprint, never the token), the pattern, how many keys went, and the
// outcome. Refusals are warnings, because a stream of them is someone
// guessing; failures are errors.
func (c *invalidateCall) log() {
	level := slog.LevelInfo
	switch {
	case c.status >= 500:
		level = slog.LevelError
	case c.status >= 400:
		level = slog.LevelWarn
	}
	pattern := c.pattern
	if len(pattern) > maxLoggedPattern {
		pattern = pattern[:maxLoggedPattern] + "..."
	}
	attrs := []slog.Attr{
		slog.String("remote", c.r.RemoteAddr),
		slog.String("token", c.token),
		slog.String("method", c.r.Method),
		slog.String("pattern", pattern),
		slog.Int64("removed", c.removed),
		slog.String("outcome", c.outcome),
		slog.Int("status", c.status),
	}
	if c.err != nil {
		attrs = append(attrs, slog.String("error", c.err.Error()))
	}
	c.api.opts.Logger.LogAttrs(c.r.Context(), level, "cache invalidation", attrs...)
}
