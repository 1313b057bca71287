package patterns_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// A stalled Redis costs a request one cache budget however many Aside calls
// it makes: Aside keeps the budget its context carries (the middleware's)
// instead of starting one of its own, so once the first call has waited it
// out the next gives up at once; the loaders' values are returned all the
// same.
func TestAsideCacheBudgetIntegration(t *testing.T) {
	cases := []struct {
		name      string
		request   bool // the calls share a request's budget
		budget    time.Duration
		wantSpent bool
	}{
		{"request budget", true, 0, true},
		{"request budget, patterns' own off", true, -1, true},
		{"a budget per call", false, 0, false},
		{"off", false, -1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := storetest.NewServer(t)
			c := openCache(t, store.Config{URL: srv.URL(), OpTimeout: 100 * time.Millisecond,
				Breaker: store.BreakerConfig{ConsecutiveFailures: 1000}})
			var mu sync.Mutex
			var errs []error
			p := newPatterns(t, c, patterns.Options{CacheBudget: tc.budget, OnError: func(_ context.Context, _ string, err error) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}})
			require.NoError(t, srv.Pause())
			t.Cleanup(func() { _ = srv.Resume() })

			ctx := context.Background()
			if tc.request {
				ctx = store.WithBudget(ctx, 100*time.Millisecond)
			}
			var calls atomic.Int32
			for _, k := range []string{"a", "b"} {
				got, err := patterns.Aside(ctx, p, k, time.Hour, countingLoader(&calls, "loaded", nil))
				require.NoError(t, err)
				assert.Equal(t, "loaded", got)
			}
			mu.Lock()
			defer mu.Unlock()
			require.NotEmpty(t, errs)
			spent := 0
			for _, err := range errs {
				assert.ErrorIs(t, err, store.ErrUnavailable)
				if strings.Contains(err.Error(), "budget is spent") {
					spent++
				}
			}
			if tc.wantSpent {
				assert.Positive(t, spent, "each Aside of the request waited its own timeout: %v", errs)
			} else {
				assert.Zero(t, spent, "%v", errs)
			}
		})
	}
}
