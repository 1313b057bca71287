package middleware_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// A stalled Redis costs a request one cache budget: once the middleware's
// lookup has waited it out, the store calls the handler makes for the same
// request give up at once instead of waiting a timeout each.
func TestCacheBudgetBoundsARequest(t *testing.T) {
	cases := []struct {
		name      string
		budget    time.Duration
		wantSpent bool
	}{
		{"default: one OpTimeout", 0, true},
		{"off", -1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := storetest.NewServer(t)
			cache := openCache(t, store.Config{
				URL:       srv.URL(),
				OpTimeout: 100 * time.Millisecond,
				Breaker:   store.BreakerConfig{ConsecutiveFailures: 1000},
			})
			var mu sync.Mutex
			var errs []error
			opts := middleware.Options{CacheBudget: tc.budget, OnError: func(r *http.Request, err error) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}}
			// The handler reads the cache too, under the request's context.
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, err := cache.Get(r.Context(), "handler-read:"+r.URL.RawQuery)
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				_, _ = w.Write([]byte("{}"))
			})
			h := fileRoute(middleware.New(cache, opts)(handler))
			// The file's version is then held locally, so the request below
			// waits on its lookup and on the handler's read.
			require.Equal(t, http.StatusOK, get(h, http.MethodGet, analysis(fileA)).Code)
			mu.Lock()
			errs = nil
			mu.Unlock()
			require.NoError(t, srv.Pause())
			t.Cleanup(func() { _ = srv.Resume() })

			w := get(h, http.MethodGet, analysis(fileA)+"?other=1")
			require.Equal(t, http.StatusOK, w.Code)
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, errs, 2, "the lookup's and the handler's: %v", errs)
			spent := 0
			for _, err := range errs {
				assert.True(t, errors.Is(err, store.ErrUnavailable), "%v", err)
				if strings.Contains(err.Error(), "budget is spent") {
					spent++
				}
			}
			if tc.wantSpent {
				assert.Positive(t, spent, "every store call of the request waited its own timeout: %v", errs)
			} else {
				assert.Zero(t, spent, "%v", errs)
				assert.ErrorContains(t, errs[1], "deadline exceeded", "the handler's read did not wait its own timeout")
			}
		})
	}
}
