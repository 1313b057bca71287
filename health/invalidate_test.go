package health_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/health"
	"github.com/emgcache/emgcache/store"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// fillKeys stores each key on cache.
func fillKeys(t *testing.T, cache *store.Cache, keys ...string) {
	t.Helper()
	for _, k := range keys {
		require.NoError(t, cache.Set(t.Context(), k, []byte("v"), 0))
	}
}

func TestInvalidate(t *testing.T) {
	tests := []struct {
		name    string
		token   string // configured admin token
		header  http.Header
		query   string
		status  int
		removed int64 // on success
		errText string
	}{
		{"removes matching keys", testToken, bearer(testToken), "pattern=analysis:*", 200, 2, ""},
		{"scheme is case-insensitive", testToken, http.Header{"Authorization": {"bearer " + testToken}}, "pattern=analysis:*", 200, 2, ""},
		{"exact key", testToken, bearer(testToken), "pattern=metadata:1", 200, 1, ""},
		{"nothing matches", testToken, bearer(testToken), "pattern=nothing:*", 200, 0, ""},
		{"disabled without a token", "", bearer(testToken), "pattern=*", 403, 0, "disabled"},
		{"disabled even with an empty bearer", "", bearer(""), "pattern=*", 403, 0, "disabled"},
		{"no authorization", testToken, nil, "pattern=*", 401, 0, "bearer token"},
		{"wrong token", testToken, bearer("not-the-token"), "pattern=*", 401, 0, "bearer token"},
		{"token prefix", testToken, bearer(testToken[:10]), "pattern=*", 401, 0, "bearer token"},
		{"token with a suffix", testToken, bearer(testToken + "x"), "pattern=*", 401, 0, "bearer token"},
		{"basic scheme", testToken, http.Header{"Authorization": {"Basic " + testToken}}, "pattern=*", 401, 0, "bearer token"},
		{"token without scheme", testToken, http.Header{"Authorization": {testToken}}, "pattern=*", 401, 0, "bearer token"},
		{"missing pattern", testToken, bearer(testToken), "", 400, 0, "missing pattern"},
		{"empty pattern", testToken, bearer(testToken), "pattern=", 400, 0, "empty pattern"},
		{"two patterns", testToken, bearer(testToken), "pattern=a*&pattern=b*", 400, 0, "more than one"},
		{"unbalanced bracket", testToken, bearer(testToken), "pattern=analysis:[ab", 400, 0, "invalid pattern"},
		{"too long", testToken, bearer(testToken), "pattern=" + strings.Repeat("a", store.MaxPatternBytes+1), 400, 0, "invalid pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := openMemory(t)
			fillKeys(t, cache, "analysis:1", "analysis:2", "metadata:1")
			r := newRouter(cache, health.Options{AdminToken: tt.token, Logger: discardLogger()})

			res, body := do(t, r, http.MethodPost, "/api/cache/invalidate?"+tt.query, tt.header)
			require.Equal(t, tt.status, res.StatusCode, "body: %s", body)
			assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
			if tt.status == http.StatusUnauthorized {
				assert.Equal(t, `Bearer realm="emgcache"`, res.Header.Get("WWW-Authenticate"))
			}
			n, err := cache.DeletePattern(t.Context(), "*")
			require.NoError(t, err)
			if tt.status != http.StatusOK {
				assert.Contains(t, decode[map[string]string](t, body)["error"], tt.errText)
				assert.Equal(t, int64(3), n, "a refused call removes nothing")
				return
			}
			got := decode[map[string]any](t, body)
			assert.Equal(t, map[string]any{"pattern": strings.TrimPrefix(tt.query, "pattern="), "removed": float64(tt.removed)}, got)
			assert.Equal(t, 3-tt.removed, n, "the other keys are still there")
		})
	}
}

func TestInvalidateRateLimit(t *testing.T) {
	cache := openMemory(t)
	clock := newFakeClock()
	r := mux.NewRouter()
	health.NewWithClock(cache, health.Options{
		AdminToken:         testToken,
		InvalidateBurst:    2,
		InvalidateInterval: 10 * time.Second,
		Logger:             discardLogger(),
	}, clock.Now).Register(r)
	call := func(header http.Header, query string) (int, string) {
		res, _ := do(t, r, http.MethodPost, "/api/cache/invalidate?"+query, header)
		return res.StatusCode, res.Header.Get("Retry-After")
	}
	const ok = "pattern=x:*"

	// Refused calls spend nothing: the budget belongs to those with the token.
	for range 5 {
		status, _ := call(nil, ok)
		require.Equal(t, http.StatusUnauthorized, status)
		status, _ = call(bearer(testToken), "")
		require.Equal(t, http.StatusBadRequest, status)
	}

	steps := []struct {
		name       string
		advance    time.Duration
		status     int
		retryAfter string
	}{
		{"first of the burst", 0, 200, ""},
		{"second of the burst", 0, 200, ""},
		{"burst spent", 0, 429, "10"},
		{"half an interval later", 5 * time.Second, 429, "5"},
		{"rounded up", 4500 * time.Millisecond, 429, "1"},
		{"one interval later", 500 * time.Millisecond, 200, ""},
		{"only one came back", 0, 429, "10"},
		{"a long pause refills the burst only", time.Hour, 200, ""},
		{"second after the pause", 0, 200, ""},
		{"third after the pause", 0, 429, "10"},
	}
	for _, s := range steps {
		clock.Advance(s.advance)
		status, retryAfter := call(bearer(testToken), ok)
		assert.Equal(t, s.status, status, s.name)
		assert.Equal(t, s.retryAfter, retryAfter, s.name)
	}
}

// logRecords decodes the JSON lines of a slog.JSONHandler.
func logRecords(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "log line %q", line)
		out = append(out, m)
	}
	return out
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestInvalidateLogsEveryCall(t *testing.T) {
	cache := openMemory(t)
	fillKeys(t, cache, "analysis:1", "analysis:2")
	var buf bytes.Buffer
	clock := newFakeClock()
	r := mux.NewRouter()
	health.NewWithClock(cache, health.Options{
		AdminToken:      testToken,
		InvalidateBurst: 1,
		Logger:          slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}, clock.Now).Register(r)

	calls := []struct {
		method  string
		header  http.Header
		query   string
		level   string
		outcome string
		status  float64
		removed float64
		token   string
	}{
		{http.MethodPost, bearer(testToken), "pattern=analysis:*", "INFO", "ok", 200, 2, fingerprint(testToken)},
		{http.MethodPost, bearer(testToken), "pattern=analysis:*", "WARN", "rate_limited", 429, 0, fingerprint(testToken)},
		{http.MethodPost, bearer("guess"), "pattern=*", "WARN", "unauthorized", 401, 0, fingerprint("guess")},
		{http.MethodPost, nil, "pattern=*", "WARN", "unauthorized", 401, 0, "none"},
		{http.MethodPost, http.Header{"Authorization": {"Basic abc"}}, "pattern=*", "WARN", "unauthorized", 401, 0, "malformed"},
		{http.MethodGet, bearer(testToken), "pattern=*", "WARN", "method_not_allowed", 405, 0, fingerprint(testToken)},
	}
	for _, c := range calls {
		do(t, r, c.method, "/api/cache/invalidate?"+c.query, c.header)
	}

	records := logRecords(t, &buf)
	require.Len(t, records, len(calls), "one record per call")
	for i, c := range calls {
		rec := records[i]
		t.Run(fmt.Sprintf("%d_%s", i, c.outcome), func(t *testing.T) {
			assert.Equal(t, "cache invalidation", rec["msg"])
			assert.Equal(t, c.level, rec["level"])
			assert.Equal(t, c.outcome, rec["outcome"])
			assert.Equal(t, c.status, rec["status"])
			assert.Equal(t, c.removed, rec["removed"])
			assert.Equal(t, c.token, rec["token"])
			assert.Equal(t, strings.TrimPrefix(c.query, "pattern="), rec["pattern"])
			assert.Equal(t, c.method, rec["method"])
			assert.NotEmpty(t, rec["remote"])
		})
	}
	assert.NotContains(t, buf.String(), testToken, "the token itself is never logged")
	assert.NotContains(t, buf.String(), "guess", "nor a wrong one")
}

// fingerprint is what the log shows for a token, computed independently of
// the package so that a change of format is noticed.
func fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:])[:8]
}

// invalidatorFunc adapts a function to health.Invalidator.
type invalidatorFunc func(ctx context.Context, pattern string) (int64, error)

func (f invalidatorFunc) InvalidatePattern(ctx context.Context, pattern string) (int64, error) {
	return f(ctx, pattern)
}

func TestInvalidateFailures(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
	}{
		{"backend down", fmt.Errorf("invalidate %q: %w", "x", store.ErrUnavailable), http.StatusServiceUnavailable},
		{"took too long", fmt.Errorf("scan: %w", context.DeadlineExceeded), http.StatusServiceUnavailable},
		{"bad pattern from a custom invalidator", fmt.Errorf("nope: %w", store.ErrInvalidPattern), http.StatusBadRequest},
		{"anything else", errors.New("disk on fire"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			var sawDeadline bool
			r := newRouter(openMemory(t), health.Options{
				AdminToken:        testToken,
				InvalidateTimeout: time.Hour,
				Logger:            slog.New(slog.NewJSONHandler(&buf, nil)),
				Invalidator: invalidatorFunc(func(ctx context.Context, _ string) (int64, error) {
					_, sawDeadline = ctx.Deadline()
					return 7, tt.err
				}),
			})
			res, body := do(t, r, http.MethodPost, "/api/cache/invalidate?pattern=x*", bearer(testToken))
			assert.Equal(t, tt.status, res.StatusCode)
			assert.Contains(t, decode[map[string]string](t, body)["error"], tt.err.Error())
			assert.True(t, sawDeadline, "the invalidation runs under InvalidateTimeout")
			recs := logRecords(t, &buf)
			require.Len(t, recs, 1)
			assert.Equal(t, tt.err.Error(), recs[0]["error"])
			assert.Equal(t, float64(7), recs[0]["removed"], "a partial count is logged")
		})
	}
}

// A pattern that repeats the key prefix matches nothing, since the prefix
// is added to it; the answer says so instead of a silent zero.
func TestInvalidateNotesARepeatedPrefix(t *testing.T) {
	tests := []struct {
		name, pattern string
		removed       int64
		note          string // a part of it; empty: no note
	}{
		{"repeated prefix", "emgcache:*", 0, `leave the prefix out ("*")`},
		{"repeated prefix of a family", "emgcache:analysis:*", 0, `looked for "emgcache:emgcache:analysis:*"`},
		{"without the prefix", "analysis:*", 2, ""},
		{"nothing matches, no prefix", "nothing:*", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := openMemory(t) // the default prefix, "emgcache:"
			require.Equal(t, "emgcache:", cache.Config().KeyPrefix)
			fillKeys(t, cache, "analysis:1", "analysis:2")
			r := newRouter(cache, health.Options{AdminToken: testToken, Logger: discardLogger()})
			res, body := do(t, r, http.MethodPost, "/api/cache/invalidate?pattern="+tt.pattern, bearer(testToken))
			require.Equal(t, http.StatusOK, res.StatusCode, "body: %s", body)
			got := decode[map[string]any](t, body)
			assert.Equal(t, float64(tt.removed), got["removed"])
			if tt.note == "" {
				assert.NotContains(t, got, "note")
			} else {
				assert.Contains(t, got["note"], tt.note)
			}
		})
	}
}
