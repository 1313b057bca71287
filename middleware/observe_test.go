package middleware_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/store"
)

type hookKey struct{}

// outcomes records what Hooks.Request reports.
type outcomes struct {
	mu  sync.Mutex
	got []middleware.Outcome
}

func (o *outcomes) hooks() middleware.Hooks {
	return middleware.Hooks{Request: func(r *http.Request) (context.Context, func(middleware.Outcome)) {
		return context.WithValue(r.Context(), hookKey{}, "traced"), func(out middleware.Outcome) {
			o.mu.Lock()
			defer o.mu.Unlock()
			o.got = append(o.got, out)
		}
	}}
}

func (o *outcomes) last(t *testing.T) middleware.Outcome {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	require.NotEmpty(t, o.got)
	return o.got[len(o.got)-1]
}

func TestHooksReportTheCacheStatus(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		clk := newClock()
		var mu sync.Mutex
		failing := false
		o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
			if r.Context().Value(hookKey{}) != "traced" {
				http.Error(w, "the handler did not get the hook's context", http.StatusTeapot)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if failing {
				http.Error(w, "database down", http.StatusServiceUnavailable)
				return
			}
			fmt.Fprintf(w, "call %d", n)
		}}
		var rec outcomes
		m := middleware.NewResponseCacheWithClock(cache, middleware.Options{
			TTL: time.Minute, StaleIfError: 10 * time.Minute, Route: "analysis", Hooks: rec.hooks(),
		}, clk.Now)
		h := fileRoute(m.Handler(o))

		for _, tc := range []struct {
			name    string
			do      func() int
			want    middleware.Outcome
			entryIs string
		}{
			{"miss", func() int { return get(h, http.MethodGet, analysis(fileA)).Code },
				middleware.Outcome{Kind: middleware.OutcomeMiss, Fwd: "uri-miss", FwdStatus: 200, Stored: true}, "emgcache; fwd=uri-miss; fwd-status=200; stored"},
			{"hit", func() int { return get(h, http.MethodGet, analysis(fileA)).Code },
				middleware.Outcome{Kind: middleware.OutcomeHit}, "emgcache; hit; ttl=60"},
			{"bypass by request", func() int { return get(h, http.MethodGet, analysis(fileA), "Cache-Control", "no-store").Code },
				middleware.Outcome{Kind: middleware.OutcomeBypass, Fwd: "bypass", Detail: "no-store"}, "emgcache; fwd=bypass; detail=no-store"},
			{"stale if error", func() int {
				mu.Lock()
				failing = true
				mu.Unlock()
				clk.Advance(2 * time.Minute)
				return get(h, http.MethodGet, analysis(fileA)).Code
			}, middleware.Outcome{Kind: middleware.OutcomeStale, Fwd: "stale", FwdStatus: 503, Detail: "stale-if-error"}, "emgcache; fwd=stale; fwd-status=503; detail=stale-if-error"},
			{"another method", func() int { return get(h, http.MethodDelete, analysis(fileA)).Code },
				middleware.Outcome{Kind: middleware.OutcomeBypass, Fwd: "method"}, "emgcache; fwd=method"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code := tc.do()
				require.NotEqual(t, http.StatusTeapot, code)
				got := rec.last(t)
				tc.want.Route, tc.want.CacheStatus = "analysis", tc.entryIs
				assert.Equal(t, tc.want, got)
			})
		}

		counts := map[middleware.OutcomeKind]uint64{}
		for _, o := range rec.got {
			counts[o.Kind]++
		}
		s := m.Stats()
		assert.Equal(t, s.Hits, counts[middleware.OutcomeHit])
		assert.Equal(t, s.Stale, counts[middleware.OutcomeStale])
		assert.Equal(t, s.Bypasses, counts[middleware.OutcomeBypass])
		assert.Equal(t, s.Misses, counts[middleware.OutcomeMiss]+1, "a stale-if-error response is also counted as a miss")
	})
}

func TestHooksCollapsed(t *testing.T) {
	cache := openCache(t, store.Config{})
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		once.Do(func() { close(started) })
		<-release
		fmt.Fprintf(w, "call %d", n)
	}}
	var rec outcomes
	m := middleware.NewResponseCache(cache, middleware.Options{Hooks: rec.hooks()})
	joined := make(chan struct{})
	middleware.OnJoin(m, func(string) { close(joined) })
	h := fileRoute(m.Handler(o))
	var wg sync.WaitGroup
	wg.Go(func() { get(h, http.MethodGet, analysis(fileA)) })
	<-started
	wg.Go(func() { get(h, http.MethodGet, analysis(fileA)) })
	<-joined
	close(release)
	wg.Wait()
	kinds := []middleware.OutcomeKind{rec.got[0].Kind, rec.got[1].Kind}
	assert.ElementsMatch(t, []middleware.OutcomeKind{middleware.OutcomeMiss, middleware.OutcomeCollapsed}, kinds)
	assert.EqualValues(t, 1, m.Stats().Collapsed)
}

func TestLoggerRateLimitsAbsorbedStoreFailures(t *testing.T) {
	var buf bytes.Buffer
	cache := openCache(t, store.Config{})
	clk := newClock()
	m := middleware.NewResponseCacheWithClock(cache, middleware.Options{
		Route: "analysis", Logger: slog.New(slog.NewJSONHandler(&buf, nil)),
	}, clk.Now)
	h := fileRoute(m.Handler(&origin{}))
	require.NoError(t, cache.Close()) // every store call fails from now on
	records := func() []map[string]any {
		var out []map[string]any
		for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
			if len(line) > 0 {
				var r map[string]any
				require.NoError(t, json.Unmarshal(line, &r))
				out = append(out, r)
			}
		}
		return out
	}

	for range 3 {
		require.Equal(t, http.StatusOK, get(h, http.MethodGet, analysis(fileA)).Code, "served by the handler")
	}
	got := records()
	require.Len(t, got, 1, "%v", got)
	assert.Equal(t, "WARN", got[0]["level"])
	assert.Equal(t, "store", got[0]["op"])
	assert.Equal(t, "analysis", got[0]["route"])
	assert.Contains(t, got[0]["error"], store.ErrClosed.Error())

	clk.Advance(store.FailureLogInterval)
	get(h, http.MethodGet, analysis(fileA))
	got = records()
	require.Len(t, got, 2)
	assert.Equal(t, float64(2), got[1]["suppressed"])
}
