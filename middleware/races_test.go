package middleware_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// blockingOrigin answers 200 "call N"; its first GET waits for release
// after closing started.
func blockingOrigin() (o *origin, started, release chan struct{}) {
	started, release = make(chan struct{}), make(chan struct{})
	o = &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		if n == 1 {
			close(started)
			<-release
		}
		if r.Method == http.MethodGet {
			fmt.Fprintf(w, "call %d", n)
		}
	}}
	return o, started, release
}

// An unsafe method that succeeds while a GET fill of its file is running:
// the fill read the state before the method, so after the method returns
// nobody may be served that response, neither from the store nor by
// joining the fill.
func TestUnsafeMethodDuringFill(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		o, started, release := blockingOrigin()
		mw := middleware.NewResponseCache(cache, middleware.Options{})
		var joinedOld atomic.Bool
		var releaseOnce sync.Once
		middleware.OnJoin(mw, func(string) {
			// Joined the old fill: let it finish, so that the test fails
			// on the assertions below instead of waiting for ever.
			joinedOld.Store(true)
			releaseOnce.Do(func() { close(release) })
		})
		h := fileRoute(mw.Handler(o))
		a := analysis(fileA)

		fill := make(chan *httptest.ResponseRecorder)
		go func() { fill <- get(h, http.MethodGet, a) }()
		<-started
		require.Equal(t, http.StatusOK, get(h, http.MethodPost, a).Code)

		// The write poisons the flight: a read after it runs the handler
		// itself, while the old fill is still blocked.
		w := get(h, http.MethodGet, a)
		assert.False(t, joinedOld.Load(), "a request after the POST joined the fill begun before it")
		assert.Equal(t, "call 3", w.Body.String())
		releaseOnce.Do(func() { close(release) })
		assert.Equal(t, "call 1", (<-fill).Body.String(), "the old fill still answers its own client")

		w = get(h, http.MethodGet, a)
		assert.Equal(t, "call 3", w.Body.String(), "the pre-POST response was not stored over the post-POST one")
		assertStatus(t, w, "hit*")
	})
}

// A request that joins a fill after its response was published, while the
// leader is still writing it to a store that is down, is served from
// memory: collapsed, never a hit.
func TestJoinedAfterPublishIsCollapsed(t *testing.T) {
	forCases := []struct {
		name string
		down bool
	}{{"store up", false}, {"store down", true}}
	for _, tc := range forCases {
		t.Run(tc.name, func(t *testing.T) {
			srv := storetest.NewServer(t)
			cache := openCache(t, store.Config{URL: srv.URL(), OpTimeout: 200 * time.Millisecond})
			if tc.down {
				// Before the cache read anything of the file: nothing of
				// it is held in process memory either.
				require.NoError(t, srv.Kill())
			}
			mw := middleware.NewResponseCache(cache, middleware.Options{})
			h := fileRoute(mw.Handler(&origin{}))
			late := make(chan *httptest.ResponseRecorder, 1)
			var once atomic.Bool
			middleware.OnPublished(mw, func() {
				if once.CompareAndSwap(false, true) {
					late <- get(h, http.MethodGet, analysis(fileB))
				}
			})
			first := get(h, http.MethodGet, analysis(fileB))
			w := <-late
			assert.Equal(t, first.Body.String(), w.Body.String())
			if tc.down {
				assertStatus(t, first, "fwd=miss; fwd-status=200")
				assertStatus(t, w, "fwd=miss; fwd-status=200; collapsed")
			} else {
				assertStatus(t, first, "fwd=uri-miss; fwd-status=200; stored")
				assertStatus(t, w, "fwd=uri-miss; fwd-status=200; stored; collapsed")
			}
			assert.EqualValues(t, 1, mw.Stats().Collapsed)
		})
	}
}

// Every request that joined a running fill is labelled collapsed.
func TestJoinedFillIsCollapsed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		const n = 8
		o, started, release := blockingOrigin()
		mw := middleware.NewResponseCache(cache, middleware.Options{})
		var joined atomic.Int64
		allIn := make(chan struct{})
		middleware.OnJoin(mw, func(string) {
			if joined.Add(1) == n-1 {
				close(allIn)
			}
		})
		h := fileRoute(mw.Handler(o))
		out := make(chan *httptest.ResponseRecorder, n)
		go func() { out <- get(h, http.MethodGet, analysis(fileA)) }()
		<-started
		for range n - 1 {
			go func() { out <- get(h, http.MethodGet, analysis(fileA)) }()
		}
		<-allIn
		close(release)
		collapsed := 0
		for range n {
			w := <-out
			assert.Equal(t, "call 1", w.Body.String())
			if w.Header().Get("Cache-Status") == "emgcache; fwd=uri-miss; fwd-status=200; stored; collapsed" {
				collapsed++
			}
		}
		assert.Equal(t, n-1, collapsed)
		s := mw.Stats()
		assert.EqualValues(t, 1, s.Misses)
		assert.EqualValues(t, n-1, s.Collapsed)
		assert.Zero(t, s.Hits)
	})
}

// By default a 404 is stored only when the handler says for how long: a
// "not uploaded yet" must not outlive the upload.
func TestDefaultStatuses(t *testing.T) {
	cases := []struct {
		name   string
		status int
		header http.Header
		opts   middleware.Options
		stored bool
	}{
		{"200", 200, nil, middleware.Options{}, true},
		{"301", 301, http.Header{"Location": {"/x"}}, middleware.Options{}, true},
		{"404 heuristic", 404, nil, middleware.Options{}, false},
		{"410 heuristic", 410, nil, middleware.Options{}, false},
		{"404 max-age", 404, http.Header{"Cache-Control": {"max-age=30"}}, middleware.Options{}, true},
		{"404 s-maxage", 404, http.Header{"Cache-Control": {"s-maxage=30"}}, middleware.Options{}, true},
		{"404 expires", 404, http.Header{"Expires": {time.Now().Add(time.Minute).UTC().Format(http.TimeFormat)}}, middleware.Options{}, true},
		{"404 listed", 404, nil, middleware.Options{Statuses: []int{200, 404}}, true},
		{"404 max-age not listed", 404, http.Header{"Cache-Control": {"max-age=30"}}, middleware.Options{Statuses: []int{200}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cache := openCache(t, store.Config{})
			o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
				for k, v := range tc.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tc.status)
				fmt.Fprintf(w, "call %d", n)
			}}
			h := fileRoute(middleware.New(cache, tc.opts)(o))
			get(h, http.MethodGet, analysis(fileA))
			w := get(h, http.MethodGet, analysis(fileA))
			assert.Equal(t, tc.status, w.Code)
			if tc.stored {
				assertStatus(t, w, "hit*")
				assert.EqualValues(t, 1, o.calls.Load())
			} else {
				assertStatus(t, w, fmt.Sprintf("fwd=uri-miss; fwd-status=%d", tc.status))
				assert.EqualValues(t, 2, o.calls.Load())
			}
		})
	}
}

// The store counts one read per request, and the middleware what became
// of each: an HTTP miss is one store miss, not a double lookup.
func TestStatsPerLayer(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		ctx := context.Background()
		mw := middleware.NewResponseCache(cache, middleware.Options{Route: "analysis"})
		h := fileRoute(mw.Handler(&origin{}))
		storeStats := func() store.Stats {
			s := cache.Stats(ctx)
			return s
		}
		base := storeStats()

		assertStatus(t, get(h, http.MethodGet, analysis(fileA)), "fwd=uri-miss*")
		s := storeStats()
		assert.EqualValues(t, 1, s.Misses-base.Misses, "one store miss per HTTP miss")
		assert.EqualValues(t, 0, s.Hits-base.Hits)

		for range 3 {
			assertStatus(t, get(h, http.MethodGet, analysis(fileA)), "hit*")
		}
		get(h, http.MethodGet, analysis(fileA), "Authorization", "Bearer x")
		get(h, http.MethodPost, analysis(fileB))
		s = storeStats()
		assert.EqualValues(t, 1, s.Misses-base.Misses)
		assert.EqualValues(t, 3, s.Hits-base.Hits, "one store hit per HTTP hit")

		got := mw.Stats()
		assert.Equal(t, middleware.Stats{Route: "analysis", Hits: 3, Misses: 1, Bypasses: 2, Requests: 4, HitRate: 0.75}, got)
	})
}

// Close waits for background revalidations and starts no new ones; at
// most MaxRevalidations run at once.
func TestBackgroundRevalidationsBoundedAndClosed(t *testing.T) {
	cache := openCache(t, store.Config{})
	clk := newClock()
	started, release := make(chan struct{}), make(chan struct{})
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		if r.URL.Query().Get("block") == "1" && n > 2 {
			close(started)
			<-release
		}
		fmt.Fprintf(w, "call %d", n)
	}}
	mw := middleware.NewResponseCacheWithClock(cache, middleware.Options{
		TTL: time.Minute, StaleWhileRevalidate: time.Hour, MaxRevalidations: 1,
	}, clk.Now)
	h := fileRoute(mw.Handler(o))
	blocked, other := analysis(fileA)+"?block=1", analysis(fileA)+"?block=0"
	get(h, http.MethodGet, blocked)
	get(h, http.MethodGet, other)
	clk.Advance(2 * time.Minute)

	assertStatus(t, get(h, http.MethodGet, blocked), "hit; ttl=-60; detail=stale-while-revalidate")
	<-started // its revalidation holds the only slot
	assertStatus(t, get(h, http.MethodGet, other), "hit; ttl=-60; detail=stale-while-revalidate")
	assert.EqualValues(t, 3, o.calls.Load(), "no slot: the other key was served stale, not revalidated")

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, mw.Close(cancelled), context.Canceled, "Close waits for the running revalidation")
	close(release)
	require.NoError(t, mw.Close(context.Background()))
	assertStatus(t, get(h, http.MethodGet, blocked), "hit; ttl=*")

	assertStatus(t, get(h, http.MethodGet, other), "hit; ttl=-60; detail=stale-while-revalidate")
	assert.EqualValues(t, 3, o.calls.Load(), "after Close nothing starts in the background")
	assert.EqualValues(t, 3, mw.Stats().Stale)
}
