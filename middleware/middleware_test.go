package middleware_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/emgkey"
	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/store"
)

func TestMissThenHit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		o := &origin{}
		clk := newClock()
		h := fileRoute(middleware.NewWithClock(cache, middleware.Options{}, clk.Now)(o))

		w := get(h, http.MethodGet, analysis(fileA))
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, `{"call":1}`, w.Body.String())
		assertStatus(t, w, "fwd=uri-miss; fwd-status=200; stored")
		assert.Equal(t, "0", w.Header().Get("Age"), "every response from the store carries Age (RFC 9111 §4.2.3)")

		clk.Advance(90 * time.Second)
		w = get(h, http.MethodGet, analysis(fileA))
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, `{"call":1}`, w.Body.String())
		assertStatus(t, w, "hit; ttl=3510")
		assert.Equal(t, "90", w.Header().Get("Age"))
		assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
		assert.Equal(t, "10", w.Header().Get("Content-Length"))
		assert.NotEmpty(t, w.Header().Get("Date"))

		w = get(h, http.MethodHead, analysis(fileA))
		require.Equal(t, http.StatusOK, w.Code)
		assert.Empty(t, w.Body.String(), "HEAD is answered from the GET entry without its body")
		assert.Equal(t, "10", w.Header().Get("Content-Length"))
		assertStatus(t, w, "hit; ttl=3510")

		assert.EqualValues(t, 1, o.calls.Load())
	})
}

func TestHeadMissIsNotStored(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		o := &origin{}
		h := fileRoute(middleware.New(cache, middleware.Options{})(o))

		w := get(h, http.MethodHead, analysis(fileA))
		assert.Equal(t, http.StatusOK, w.Code)
		assertStatus(t, w, "fwd=uri-miss")

		w = get(h, http.MethodGet, analysis(fileA))
		assertStatus(t, w, "fwd=uri-miss; fwd-status=200; stored")
		assert.Equal(t, `{"call":2}`, w.Body.String())
	})
}

func TestKey(t *testing.T) {
	a := analysis(fileA)
	cases := []struct {
		name          string
		first, second string
		hit           bool
	}{
		{"same request", a + "?window=50", a + "?window=50", true},
		{"query order", a + "?window=50&channel=EMG1", a + "?channel=EMG1&window=50", true},
		{"order of one parameter's values", a + "?ch=1&ch=2", a + "?ch=2&ch=1", false},
		{"query value", a + "?window=50", a + "?window=51", false},
		{"escaped query", a + "?channel=%45MG1", a + "?channel=EMG1", true},
		{"plus in query", a + "?q=a+b", a + "?q=a%20b", true},
		{"empty query parameters", a + "?a=1&&b=2", a + "?a=1&b=2", true},
		{"empty query", a + "?", a, true},
		{"query added", a, a + "?window=50", false},
		{"sub-resource", a, a + "/summary", false},
		{"escaped slash", a + "/x%2Fy", a + "/x/y", false},
		{"upper-case file hash is another path", a, analysis(strings.ToUpper(fileA)), false},
		{"other file", a, analysis(fileB), false},
		{"other host", "http://a.example" + a, "http://b.example" + a, false},
		{"host case", "http://EMG.example" + a, "http://emg.example" + a, true},
		{"scheme", "http://emg.example" + a, "https://emg.example" + a, false},
	}
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				o := &origin{}
				m := middleware.NewResponseCache(cache, middleware.Options{})
				h := fileRoute(m.Handler(o))
				w := get(h, http.MethodGet, tc.first)
				require.Equal(t, http.StatusOK, w.Code)
				w = get(h, http.MethodGet, tc.second)
				require.Equal(t, http.StatusOK, w.Code)
				if tc.hit {
					assertStatus(t, w, "hit*")
					assert.EqualValues(t, 1, o.calls.Load())
				} else {
					assertStatus(t, w, "fwd=*")
					assert.EqualValues(t, 2, o.calls.Load())
				}
				require.NoError(t, m.Invalidate(context.Background(), fileA))
				require.NoError(t, m.Invalidate(context.Background(), fileB))
			})
		}
	})
}

func TestVary(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
			w.Header().Set("Vary", "accept-language")
			fmt.Fprintf(w, "%q %d", r.Header.Get("Accept-Language"), n)
		}}
		h := fileRoute(middleware.New(cache, middleware.Options{})(o))
		a := analysis(fileA)

		steps := []struct {
			lang   []string
			status string
			body   string
		}{
			{[]string{"Accept-Language", "en"}, "fwd=uri-miss; fwd-status=200; stored", `"en" 1`},
			{[]string{"Accept-Language", "en"}, "hit*", `"en" 1`},
			{[]string{"Accept-Language", "fr"}, "fwd=vary-miss; fwd-status=200; stored", `"fr" 2`},
			{[]string{"Accept-Language", "fr"}, "hit*", `"fr" 2`},
			{nil, "fwd=vary-miss; fwd-status=200; stored", `"" 3`},
			{nil, "hit*", `"" 3`},
			{[]string{"Accept-Language", ""}, "fwd=vary-miss; fwd-status=200; stored", `"" 4`},
			{[]string{"Accept-Language", "en"}, "hit*", `"en" 1`},
		}
		for i, s := range steps {
			w := get(h, http.MethodGet, a, s.lang...)
			assertStatus(t, w, s.status)
			assert.Equal(t, s.body, w.Body.String(), "step %d", i)
			assert.Equal(t, "accept-language", w.Header().Get("Vary"), "stored as the handler wrote it")
		}
	})
}

func TestFreshness(t *testing.T) {
	cases := []struct {
		name    string
		opts    middleware.Options
		cc      string
		expires time.Duration // from the response's Date; 0: no Expires
		fresh   time.Duration
	}{
		{"default TTL", middleware.Options{}, "", 0, middleware.DefaultTTL},
		{"TTL option", middleware.Options{TTL: time.Minute}, "", 0, time.Minute},
		{"max-age shortens", middleware.Options{}, "max-age=60", 0, time.Minute},
		{"max-age cannot lengthen", middleware.Options{TTL: time.Minute}, "public, max-age=3600", 0, time.Minute},
		{"s-maxage wins over max-age", middleware.Options{}, "max-age=600, s-maxage=120", 0, 2 * time.Minute},
		{"Expires", middleware.Options{}, "", 5 * time.Minute, 5 * time.Minute},
		{"max-age wins over Expires", middleware.Options{}, "max-age=60", 5 * time.Minute, time.Minute},
		{"duplicate max-age counts the smaller", middleware.Options{}, "max-age=600, max-age=60", 0, time.Minute},
	}
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				clk := newClock()
				o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
					now := clk.Now()
					w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
					if tc.cc != "" {
						w.Header().Set("Cache-Control", tc.cc)
					}
					if tc.expires != 0 {
						w.Header().Set("Expires", now.Add(tc.expires).UTC().Format(http.TimeFormat))
					}
					fmt.Fprintf(w, "call %d", n)
				}}
				h := fileRoute(middleware.NewWithClock(cache, tc.opts, clk.Now)(o))
				target := fmt.Sprintf("%s?case=%d", analysis(fileA), i)

				assertStatus(t, get(h, http.MethodGet, target), "fwd=uri-miss; fwd-status=200; stored")
				assertStatus(t, get(h, http.MethodGet, target), fmt.Sprintf("hit; ttl=%d", int(tc.fresh.Seconds())))
				clk.Advance(tc.fresh - time.Second)
				assertStatus(t, get(h, http.MethodGet, target), "hit; ttl=1")
				clk.Advance(time.Second)
				w := get(h, http.MethodGet, target)
				assertStatus(t, w, "fwd=stale; fwd-status=200; stored")
				assert.Equal(t, "call 2", w.Body.String())
			})
		}
	})
}

func TestStoreTTL(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
			w.Header().Set("Cache-Control", "max-age=60, stale-if-error=600")
			fmt.Fprint(w, "body")
		}}
		h := fileRoute(middleware.New(cache, middleware.Options{StaleWhileRevalidate: 30 * time.Second})(o))
		assertStatus(t, get(h, http.MethodGet, analysis(fileA)), "fwd=uri-miss; fwd-status=200; stored")

		// Kept for its freshness plus the longer stale window.
		var ttls []time.Duration
		require.NoError(t, cache.Scan(context.Background(), emgkey.AnalysisPrefix+fileA+":*", func(keys []string) error {
			for _, k := range keys {
				ttl, err := cache.TTL(context.Background(), k)
				require.NoError(t, err)
				ttls = append(ttls, ttl)
			}
			return nil
		}))
		require.Len(t, ttls, 1)
		assert.LessOrEqual(t, ttls[0], 660*time.Second)
		assert.Greater(t, ttls[0], 600*time.Second)
	})
}

func TestRequestMaxAge(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		o := &origin{}
		clk := newClock()
		h := fileRoute(middleware.NewWithClock(cache, middleware.Options{}, clk.Now)(o))
		get(h, http.MethodGet, analysis(fileA))
		clk.Advance(30 * time.Second)

		assertStatus(t, get(h, http.MethodGet, analysis(fileA), "Cache-Control", "max-age=60"), "hit*")
		w := get(h, http.MethodGet, analysis(fileA), "Cache-Control", "max-age=10")
		assertStatus(t, w, "fwd=request; fwd-status=200; stored")
		assert.Equal(t, `{"call":2}`, w.Body.String())
		assertStatus(t, get(h, http.MethodGet, analysis(fileA)), "hit*")
	})
}

func TestConditionalHit(t *testing.T) {
	lastModified := time.Date(2025, 5, 1, 8, 0, 0, 0, time.UTC)
	lm := lastModified.Format(http.TimeFormat)
	cases := []struct {
		name    string
		headers []string
		want    int
	}{
		{"If-None-Match matches", []string{"If-None-Match", `"v1"`}, http.StatusNotModified},
		{"If-None-Match weak", []string{"If-None-Match", `W/"v1"`}, http.StatusNotModified},
		{"If-None-Match list", []string{"If-None-Match", `"v0", "v1"`}, http.StatusNotModified},
		{"If-None-Match star", []string{"If-None-Match", `*`}, http.StatusNotModified},
		{"If-None-Match other", []string{"If-None-Match", `"v2"`}, http.StatusOK},
		{"If-None-Match malformed", []string{"If-None-Match", `v1`}, http.StatusOK},
		{"If-Modified-Since equal", []string{"If-Modified-Since", lm}, http.StatusNotModified},
		{"If-Modified-Since later", []string{"If-Modified-Since", lastModified.Add(time.Hour).Format(http.TimeFormat)}, http.StatusNotModified},
		{"If-Modified-Since earlier", []string{"If-Modified-Since", lastModified.Add(-time.Hour).Format(http.TimeFormat)}, http.StatusOK},
		{"If-None-Match decides over If-Modified-Since", []string{"If-None-Match", `"v2"`, "If-Modified-Since", lm}, http.StatusOK},
	}
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Last-Modified", lm)
			w.Header().Set("Cache-Control", "max-age=600")
			fmt.Fprint(w, "analysis")
		}}
		h := fileRoute(middleware.New(cache, middleware.Options{})(o))
		get(h, http.MethodGet, analysis(fileA))
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				w := get(h, http.MethodGet, analysis(fileA), tc.headers...)
				assert.Equal(t, tc.want, w.Code)
				assertStatus(t, w, "hit*")
				assert.Equal(t, `"v1"`, w.Header().Get("ETag"))
				assert.Equal(t, "max-age=600", w.Header().Get("Cache-Control"))
				if tc.want == http.StatusNotModified {
					assert.Empty(t, w.Body.String())
				} else {
					assert.Equal(t, "analysis", w.Body.String())
				}
			})
		}
		assert.EqualValues(t, 1, o.calls.Load())
	})
}

func TestConditionalMissStoresFullResponse(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
			assert.Empty(t, r.Header.Get("If-None-Match"), "the fill must ask for the full response")
			w.Header().Set("ETag", `"v1"`)
			fmt.Fprint(w, "analysis")
		}}
		h := fileRoute(middleware.New(cache, middleware.Options{})(o))

		w := get(h, http.MethodGet, analysis(fileA), "If-None-Match", `"v1"`)
		assert.Equal(t, http.StatusNotModified, w.Code)
		assertStatus(t, w, "fwd=uri-miss; fwd-status=200; stored")

		w = get(h, http.MethodGet, analysis(fileA))
		assert.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "analysis", w.Body.String())
		assertStatus(t, w, "hit*")
	})
}

// concurrently sends n GETs for target through h, the first one alone until
// the handler has started, and returns the responses.
func concurrently(t *testing.T, h http.Handler, n int, target string, started <-chan struct{}, release chan<- struct{}) []*httptest.ResponseRecorder {
	t.Helper()
	out := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	wg.Go(func() { out[0] = get(h, http.MethodGet, target) })
	<-started
	for i := 1; i < n; i++ {
		wg.Go(func() { out[i] = get(h, http.MethodGet, target) })
	}
	close(release)
	wg.Wait()
	return out
}

func TestConcurrentMissesRunHandlerOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		started, release := make(chan struct{}), make(chan struct{})
		o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
			if n == 1 {
				close(started)
				<-release
			}
			fmt.Fprintf(w, "call %d", n)
		}}
		h := fileRoute(middleware.New(cache, middleware.Options{})(o))

		out := concurrently(t, h, 16, analysis(fileA), started, release)
		assert.EqualValues(t, 1, o.calls.Load())
		assertStatus(t, out[0], "fwd=uri-miss; fwd-status=200; stored")
		for _, w := range out[1:] {
			assert.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, "call 1", w.Body.String())
			s := w.Header().Get("Cache-Status")
			assert.True(t, s == "emgcache; fwd=uri-miss; fwd-status=200; stored; collapsed" || strings.HasPrefix(s, "emgcache; hit; ttl="), s)
		}
	})
}

func TestConcurrentMissesDoNotShareUncacheable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		started, release := make(chan struct{}), make(chan struct{})
		o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
			if n == 1 {
				close(started)
				<-release
			}
			http.SetCookie(w, &http.Cookie{Name: "session", Value: fmt.Sprint(n)})
			fmt.Fprintf(w, "call %d", n)
		}}
		h := fileRoute(middleware.New(cache, middleware.Options{})(o))

		out := concurrently(t, h, 8, analysis(fileA), started, release)
		assert.EqualValues(t, 8, o.calls.Load())
		seen := map[string]bool{}
		for _, w := range out {
			c := w.Header().Get("Set-Cookie")
			assert.False(t, seen[c], "two clients got the cookie %q", c)
			seen[c] = true
			assert.NotContains(t, w.Header().Get("Cache-Status"), "collapsed")
		}
	})
}

func TestConcurrentMissesVaryingDoNotShare(t *testing.T) {
	cache := openCache(t, store.Config{})
	started, release := make(chan struct{}), make(chan struct{})
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		if n == 1 {
			close(started)
			<-release
		}
		w.Header().Set("Vary", "Accept-Language")
		fmt.Fprint(w, r.Header.Get("Accept-Language"))
	}}
	h := fileRoute(middleware.New(cache, middleware.Options{})(o))

	var wg sync.WaitGroup
	var en, fr *httptest.ResponseRecorder
	wg.Go(func() { en = get(h, http.MethodGet, analysis(fileA), "Accept-Language", "en") })
	<-started
	wg.Go(func() { fr = get(h, http.MethodGet, analysis(fileA), "Accept-Language", "fr") })
	close(release)
	wg.Wait()
	assert.Equal(t, "en", en.Body.String())
	assert.Equal(t, "fr", fr.Body.String())
}

func TestHandlerPanicReleasesWaiters(t *testing.T) {
	cache := openCache(t, store.Config{})
	started, release := make(chan struct{}), make(chan struct{})
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		if n == 1 {
			close(started)
			<-release
			panic("analysis failed")
		}
		fmt.Fprintf(w, "call %d", n)
	}}
	h := fileRoute(middleware.New(cache, middleware.Options{})(o))
	recovering := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}()
		h.ServeHTTP(w, r)
	})

	out := concurrently(t, recovering, 4, analysis(fileA), started, release)
	assert.Equal(t, http.StatusInternalServerError, out[0].Code)
	for _, w := range out[1:] {
		assert.Equal(t, http.StatusOK, w.Code)
		assert.True(t, strings.HasPrefix(w.Body.String(), "call "), w.Body.String())
	}
}

func TestLargeBodyIsNotStored(t *testing.T) {
	cases := []struct {
		name          string
		size          int
		contentLength bool
		stored        bool
	}{
		{"at the limit", 1024, false, true},
		{"over the limit", 1025, false, false},
		{"far over the limit", 64 << 10, false, false},
		{"declared over the limit", 4096, true, false},
	}
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				body := strings.Repeat("x", tc.size)
				o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
					if tc.contentLength {
						w.Header().Set("Content-Length", fmt.Sprint(len(body)))
					}
					for off := 0; off < len(body); off += 100 {
						_, _ = io.WriteString(w, body[off:min(off+100, len(body))])
					}
				}}
				h := fileRoute(middleware.New(cache, middleware.Options{MaxBodyBytes: 1024})(o))
				target := fmt.Sprintf("%s?case=%d", analysis(fileA), i)
				w := get(h, http.MethodGet, target)
				require.Equal(t, http.StatusOK, w.Code)
				assert.Equal(t, body, w.Body.String())
				w = get(h, http.MethodGet, target)
				assert.Equal(t, body, w.Body.String())
				if tc.stored {
					assertStatus(t, w, "hit*")
					assert.EqualValues(t, 1, o.calls.Load())
				} else {
					assertStatus(t, w, "fwd=uri-miss; fwd-status=200")
					assert.EqualValues(t, 2, o.calls.Load())
				}
			})
		}
	})
}

func TestBodyLimitFollowsStore(t *testing.T) {
	cache := openCache(t, store.Config{MaxEntryBytes: 2048})
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		fmt.Fprint(w, strings.Repeat("x", 4096))
	}}
	h := fileRoute(middleware.New(cache, middleware.Options{})(o))
	get(h, http.MethodGet, analysis(fileA))
	w := get(h, http.MethodGet, analysis(fileA))
	assertStatus(t, w, "fwd=uri-miss; fwd-status=200")
	assert.Len(t, w.Body.String(), 4096)
}

// server serves h on a loopback listener for the test.
func server(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestLargeBodyStreamsWhileHandlerRuns(t *testing.T) {
	cache := openCache(t, store.Config{})
	release := make(chan struct{})
	chunk := strings.Repeat("x", 64<<10)
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		_, _ = io.WriteString(w, chunk) // over the limit and net/http's buffer: on the wire now
		<-release
		_, _ = io.WriteString(w, "end")
	}}
	srv := server(t, fileRoute(middleware.New(cache, middleware.Options{MaxBodyBytes: 1024})(o)))

	resp, err := http.Get(srv.URL + analysis(fileA))
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "emgcache; fwd=uri-miss; fwd-status=200", resp.Header.Get("Cache-Status"))
	first := make([]byte, len(chunk))
	_, err = io.ReadFull(resp.Body, first) // arrives while the handler still runs
	require.NoError(t, err)
	close(release)
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "end", string(rest))
}

func TestFlushingHandlerStreams(t *testing.T) {
	cache := openCache(t, store.Config{})
	release := make(chan struct{})
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: 1\n\n")
		require.NoError(t, http.NewResponseController(w).Flush())
		<-release
		fmt.Fprint(w, "data: 2\n\n")
	}}
	srv := server(t, fileRoute(middleware.New(cache, middleware.Options{})(o)))

	resp, err := http.Get(srv.URL + analysis(fileA))
	require.NoError(t, err)
	defer resp.Body.Close()
	first := make([]byte, len("data: 1\n\n"))
	_, err = io.ReadFull(resp.Body, first)
	require.NoError(t, err)
	close(release)
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "data: 1\n\ndata: 2\n\n", string(first)+string(rest))
	assert.Equal(t, "emgcache; fwd=uri-miss; fwd-status=200", resp.Header.Get("Cache-Status"))
}

func TestStaleWhileRevalidate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		clk := newClock()
		o := &origin{}
		h := fileRoute(middleware.NewWithClock(cache, middleware.Options{TTL: time.Minute, StaleWhileRevalidate: time.Minute}, clk.Now)(o))
		get(h, http.MethodGet, analysis(fileA))

		clk.Advance(70 * time.Second)
		w := get(h, http.MethodHead, analysis(fileA))
		assertStatus(t, w, "hit; ttl=-10; detail=stale-while-revalidate")
		assert.Equal(t, "70", w.Header().Get("Age"))

		// The background refresh stores a new response, which then is a
		// fresh hit. (Call 2 normally; a later call if a loaded store timed
		// out writing it and the next request refreshed again.)
		require.Eventually(t, func() bool {
			w := get(h, http.MethodGet, analysis(fileA))
			return w.Body.String() != `{"call":1}` && w.Header().Get("Cache-Status") == "emgcache; hit; ttl=60"
		}, 20*time.Second, 5*time.Millisecond)

		// Past the window a stale response is not served.
		clk.Advance(3 * time.Minute)
		w = get(h, http.MethodGet, analysis(fileA))
		assertStatus(t, w, "fwd=stale; fwd-status=200; stored")
	})
}

func TestStaleWhileRevalidateFromResponse(t *testing.T) {
	cache := openCache(t, store.Config{})
	clk := newClock()
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		w.Header().Set("Cache-Control", "max-age=60, stale-while-revalidate=30")
		fmt.Fprintf(w, "call %d", n)
	}}
	h := fileRoute(middleware.NewWithClock(cache, middleware.Options{}, clk.Now)(o))
	get(h, http.MethodGet, analysis(fileA))
	clk.Advance(80 * time.Second)
	assertStatus(t, get(h, http.MethodGet, analysis(fileA)), "hit; ttl=-20; detail=stale-while-revalidate")
	require.Eventually(t, func() bool { return o.calls.Load() == 2 }, 10*time.Second, 5*time.Millisecond)
}

func TestStaleIfError(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		clk := newClock()
		var failing bool
		var mu sync.Mutex
		o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
			mu.Lock()
			defer mu.Unlock()
			if failing {
				http.Error(w, "database down", http.StatusServiceUnavailable)
				return
			}
			fmt.Fprintf(w, "call %d", n)
		}}
		h := fileRoute(middleware.NewWithClock(cache, middleware.Options{TTL: time.Minute, StaleIfError: 10 * time.Minute}, clk.Now)(o))
		get(h, http.MethodGet, analysis(fileA))
		mu.Lock()
		failing = true
		mu.Unlock()

		clk.Advance(2 * time.Minute)
		w := get(h, http.MethodGet, analysis(fileA))
		assert.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "call 1", w.Body.String())
		assertStatus(t, w, "fwd=stale; fwd-status=503; detail=stale-if-error")
		assert.Equal(t, "120", w.Header().Get("Age"))

		clk.Advance(10 * time.Minute)
		w = get(h, http.MethodGet, analysis(fileA))
		assert.Equal(t, http.StatusServiceUnavailable, w.Code)
		assertStatus(t, w, "fwd=stale; fwd-status=503")
	})
}

func TestMustRevalidateIsNeverServedStale(t *testing.T) {
	cache := openCache(t, store.Config{})
	clk := newClock()
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		if n > 1 {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		w.Header().Set("Cache-Control", "max-age=60, must-revalidate")
	}}
	opts := middleware.Options{StaleWhileRevalidate: time.Hour, StaleIfError: time.Hour}
	h := fileRoute(middleware.NewWithClock(cache, opts, clk.Now)(o))
	get(h, http.MethodGet, analysis(fileA))
	clk.Advance(2 * time.Minute)
	w := get(h, http.MethodGet, analysis(fileA))
	assert.Equal(t, http.StatusBadGateway, w.Code)
	assertStatus(t, w, "fwd=stale; fwd-status=502")
}

func TestInvalidate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		ctx := context.Background()
		o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
			if r.URL.Query().Has("vary") {
				w.Header().Set("Vary", "Accept")
			}
			fmt.Fprintf(w, "call %d", n)
		}}
		m := middleware.NewResponseCache(cache, middleware.Options{})
		h := fileRoute(m.Handler(o))
		targets := []string{analysis(fileA), analysis(fileA) + "/summary", analysis(fileA) + "?vary=1", analysis(strings.ToUpper(fileA))}
		for _, target := range targets {
			get(h, http.MethodGet, target)
			assertStatus(t, get(h, http.MethodGet, target), "hit*")
		}
		get(h, http.MethodGet, analysis(fileB))
		bare, err := emgkey.Analysis(fileA)
		require.NoError(t, err)
		require.NoError(t, cache.Set(ctx, bare, []byte("cache-aside value"), time.Hour))

		// The default KeyFunc gives both spellings of the hash one value,
		// the lower-case one, which is what Invalidate takes.
		require.NoError(t, m.Invalidate(ctx, fileA))

		for _, target := range targets {
			assertStatus(t, get(h, http.MethodGet, target), "fwd=uri-miss*")
		}
		assertStatus(t, get(h, http.MethodGet, analysis(fileB)), "hit*")
		v, err := cache.Get(ctx, bare)
		require.NoError(t, err, "Invalidate removes responses, not the file's own data")
		assert.Equal(t, "cache-aside value", string(v))
	})
}

func TestInvalidateRejectsEmptyValue(t *testing.T) {
	m := middleware.NewResponseCache(openCache(t, store.Config{}), middleware.Options{})
	err := m.Invalidate(context.Background(), "")
	assert.ErrorIs(t, err, store.ErrInvalidKey)
}

func TestInvalidateDuringFill(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		started, release := make(chan struct{}), make(chan struct{})
		o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
			if n == 1 {
				close(started)
				<-release
			}
			fmt.Fprintf(w, "call %d", n)
		}}
		m := middleware.NewResponseCache(cache, middleware.Options{})
		h := fileRoute(m.Handler(o))

		done := make(chan *httptest.ResponseRecorder)
		go func() { done <- get(h, http.MethodGet, analysis(fileA)) }()
		<-started
		require.NoError(t, m.Invalidate(context.Background(), fileA))
		close(release)
		assert.Equal(t, "call 1", (<-done).Body.String())

		// call 1 began before the invalidation: it was served, not stored.
		w := get(h, http.MethodGet, analysis(fileA))
		assert.Equal(t, "call 2", w.Body.String())
		assertStatus(t, w, "fwd=uri-miss; fwd-status=200; stored")
		assertStatus(t, get(h, http.MethodGet, analysis(fileA)), "hit*")
	})
}

func TestUnsafeMethodInvalidatesURI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
			switch {
			case r.Method == http.MethodPost && r.Header.Get("X-Allowed") == "":
				http.Error(w, "forbidden", http.StatusForbidden)
			case r.Method == http.MethodPost:
				w.WriteHeader(http.StatusAccepted)
			default:
				w.Header().Set("Vary", "Accept")
				fmt.Fprintf(w, "call %d", n)
			}
		}}
		h := fileRoute(middleware.New(cache, middleware.Options{})(o))
		a := analysis(fileA)
		get(h, http.MethodGet, a, "Accept", "text/csv")
		assertStatus(t, get(h, http.MethodGet, a, "Accept", "text/csv"), "hit*")

		w := get(h, http.MethodPost, a)
		assert.Equal(t, http.StatusForbidden, w.Code)
		assertStatus(t, w, "fwd=method")
		assertStatus(t, get(h, http.MethodGet, a, "Accept", "text/csv"), "hit*")

		w = get(h, http.MethodOptions, a)
		assertStatus(t, w, "fwd=method")
		assertStatus(t, get(h, http.MethodGet, a, "Accept", "text/csv"), "hit*")

		assert.Equal(t, http.StatusAccepted, get(h, http.MethodPost, a, "X-Allowed", "yes").Code)
		// The variant is orphaned with the vary record, not found again.
		w = get(h, http.MethodGet, a, "Accept", "text/csv")
		assertStatus(t, w, "fwd=uri-miss; fwd-status=200; stored")
		assertStatus(t, get(h, http.MethodGet, a, "Accept", "text/csv"), "hit*")
	})
}

func TestRangeRequests(t *testing.T) {
	cache := openCache(t, store.Config{})
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		http.ServeContent(w, r, "analysis.json", time.Time{}, strings.NewReader("0123456789"))
	}}
	h := fileRoute(middleware.New(cache, middleware.Options{})(o))

	w := get(h, http.MethodGet, analysis(fileA), "Range", "bytes=0-3")
	assert.Equal(t, http.StatusPartialContent, w.Code)
	assert.Equal(t, "0123", w.Body.String())
	assertStatus(t, w, "fwd=uri-miss; detail=range")

	get(h, http.MethodGet, analysis(fileA))
	// On a hit, ranges are cut from the stored complete response.
	for _, tc := range []struct {
		name, rng, ifRange string
		status             int
		body, contentRange string
	}{
		{"first bytes", "bytes=0-3", "", http.StatusPartialContent, "0123", "bytes 0-3/10"},
		{"suffix", "bytes=-2", "", http.StatusPartialContent, "89", "bytes 8-9/10"},
		{"open-ended", "bytes=7-", "", http.StatusPartialContent, "789", "bytes 7-9/10"},
		{"unsatisfiable", "bytes=20-30", "", http.StatusRequestedRangeNotSatisfiable, "", "bytes */10"},
		{"If-Range with another ETag gets it all", "bytes=0-3", `"other"`, http.StatusOK, "0123456789", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdrs := []string{"Range", tc.rng}
			if tc.ifRange != "" {
				hdrs = append(hdrs, "If-Range", tc.ifRange)
			}
			w := get(h, http.MethodGet, analysis(fileA), hdrs...)
			assert.Equal(t, tc.status, w.Code)
			if tc.body != "" {
				assert.Equal(t, tc.body, w.Body.String())
			}
			assert.Equal(t, tc.contentRange, w.Header().Get("Content-Range"))
			assertStatus(t, w, "hit*")
		})
	}
	assert.EqualValues(t, 2, o.calls.Load(), "the ranged miss and the full fill; every ranged hit from the store")
}

func TestEmptyKeyBypasses(t *testing.T) {
	cache := openCache(t, store.Config{})
	o := &origin{}
	mw := middleware.New(cache, middleware.Options{KeyFunc: func(*http.Request) string { return "" }})
	h := mw(o)
	for range 2 {
		w := get(h, http.MethodGet, "/anything")
		assert.Equal(t, http.StatusOK, w.Code)
		assertStatus(t, w, "fwd=bypass; detail=key")
	}
	assert.EqualValues(t, 2, o.calls.Load())
}

func TestKeyFuncAnyString(t *testing.T) {
	for _, tc := range []struct {
		value, prefix string
	}{
		{"abc", "emg_analysis:abc:"},
		{fileA[:31], "emg_analysis:" + fileA[:31] + ":"},
		{"../" + fileA[3:] + "*?[", "emg_analysis:../" + fileA[3:] + "*?[:"},
		{strings.ToUpper(fileA), "emg_analysis:" + strings.ToUpper(fileA) + ":"},
		{"a value with spaces", "emg_analysis:#"},
		{"#" + fileA, "emg_analysis:#"},
		{strings.Repeat("x", 129), "emg_analysis:#"},
	} {
		t.Run(fmt.Sprintf("%q", tc.value), func(t *testing.T) {
			cache := openCache(t, store.Config{})
			o := &origin{}
			m := middleware.NewResponseCache(cache, middleware.Options{KeyFunc: func(*http.Request) string { return tc.value }})
			h := m.Handler(o)
			assertStatus(t, get(h, http.MethodGet, "/anything"), "fwd=uri-miss; fwd-status=200; stored")
			assertStatus(t, get(h, http.MethodGet, "/anything"), "hit*")
			assert.EqualValues(t, 1, o.calls.Load())
			keys := storedKeys(t, cache)
			require.Len(t, keys, 1)
			assert.True(t, strings.HasPrefix(keys[0], tc.prefix), keys[0])
			if strings.HasSuffix(tc.prefix, "#") {
				assert.NotContains(t, keys[0], tc.value[1:], "no byte of a value that is not plain reaches the key")
			}

			require.NoError(t, m.Invalidate(t.Context(), tc.value))
			assertStatus(t, get(h, http.MethodGet, "/anything"), "fwd=uri-miss; fwd-status=200; stored")
		})
	}
}

func TestKeyAndNamespacePrefixes(t *testing.T) {
	ctx := t.Context()
	cache := openCache(t, store.Config{})
	o := &origin{}
	m := middleware.NewResponseCache(cache, middleware.Options{
		KeyFunc:         func(r *http.Request) string { return r.URL.Path },
		KeyPrefix:       "page:",
		NamespacePrefix: "site:",
	})
	h := m.Handler(o)
	assertStatus(t, get(h, http.MethodGet, "/a"), "fwd=uri-miss; fwd-status=200; stored")
	assertStatus(t, get(h, http.MethodGet, "/b"), "fwd=uri-miss; fwd-status=200; stored")
	keys := storedKeys(t, cache)
	require.Len(t, keys, 2)
	for _, k := range keys {
		assert.Regexp(t, `^page:/[ab]:[0-9a-f]{32}$`, k)
	}
	// The namespace is {NamespacePrefix}{value}: one write of it from
	// outside the middleware drops the value's responses, and only those.
	require.NoError(t, cache.InvalidateNamespace(ctx, "site:/a"))
	assertStatus(t, get(h, http.MethodGet, "/a"), "fwd=uri-miss; fwd-status=200; stored")
	assertStatus(t, get(h, http.MethodGet, "/b"), "hit*")
	assert.Panics(t, func() {
		middleware.NewResponseCache(cache, middleware.Options{KeyPrefix: strings.Repeat("p", 65)})
	})
}

func TestQueryThatCannotBeNormalisedBypasses(t *testing.T) {
	cache := openCache(t, store.Config{})
	o := &origin{}
	h := fileRoute(middleware.New(cache, middleware.Options{})(o))
	for _, q := range []string{"a=%zz", "a=1;b=2", strings.Repeat("a=1&", 1001)} {
		w := get(h, http.MethodGet, analysis(fileA)+"?"+q)
		assertStatus(t, w, "fwd=bypass; detail=key")
	}
}

func TestServeMux(t *testing.T) {
	cache := openCache(t, store.Config{URL: redisURL, KeyPrefix: "servemux:"})
	o := &origin{}
	mw := middleware.New(cache, middleware.Options{})
	mux := http.NewServeMux()
	mux.Handle("GET /api/emg/analysis/{file_hash}", mw(o))
	srv := server(t, mux)

	for _, want := range []string{"fwd=uri-miss; fwd-status=200; stored", "hit"} {
		resp, err := http.Get(srv.URL + analysis(fileA))
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, `{"call":1}`, string(body))
		assert.True(t, strings.HasPrefix(resp.Header.Get("Cache-Status"), "emgcache; "+want), resp.Header.Get("Cache-Status"))
	}

	// Around the mux, the default KeyFunc sees no path value yet: nothing is
	// cached, nothing breaks.
	plain := http.NewServeMux()
	plain.Handle("GET /api/emg/analysis/{file_hash}", o)
	outer := server(t, mw(plain))
	resp, err := http.Get(outer.URL + analysis(fileA))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "emgcache; fwd=bypass; detail=key", resp.Header.Get("Cache-Status"))
}

// routeVars is where a router that is not ServeMux keeps its path
// variables; gorilla/mux's mux.Vars and chi's URLParam read a context value
// just like this.
type routeVars struct{}

func TestKeyFuncForOtherRouters(t *testing.T) {
	cache := openCache(t, store.Config{URL: redisURL, KeyPrefix: "routers:"})
	o := &origin{}
	mw := middleware.New(cache, middleware.Options{KeyFunc: func(r *http.Request) string {
		vars, _ := r.Context().Value(routeVars{}).(map[string]string)
		return vars["file_hash"]
	}})
	inner := mw(o)
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hash, ok := strings.CutPrefix(r.URL.Path, "/files/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		inner.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), routeVars{}, map[string]string{"file_hash": hash})))
	})
	srv := server(t, router)
	for i, want := range []string{"fwd=uri-miss", "hit"} {
		resp, err := http.Get(srv.URL + "/files/" + fileB)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		s := resp.Header.Get("Cache-Status")
		// The first response reaches the client before it is in the
		// store; a second request that quick joins its fill.
		ok := strings.HasPrefix(s, "emgcache; "+want) || i == 1 && strings.HasSuffix(s, "; collapsed")
		assert.True(t, ok, s)
	}
	assert.EqualValues(t, 1, o.calls.Load())
}

func TestCorruptEntryIsAMiss(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		ctx := context.Background()
		var reported []error
		var mu sync.Mutex
		o := &origin{}
		h := fileRoute(middleware.New(cache, middleware.Options{OnError: func(r *http.Request, err error) {
			mu.Lock()
			reported = append(reported, err)
			mu.Unlock()
		}})(o))
		get(h, http.MethodGet, analysis(fileA))
		require.NoError(t, cache.Scan(ctx, emgkey.AnalysisPrefix+fileA+":*", func(keys []string) error {
			for _, k := range keys {
				require.NoError(t, cache.Set(ctx, k, []byte("e\x01garbage"), time.Hour))
			}
			return nil
		}))

		w := get(h, http.MethodGet, analysis(fileA))
		assert.Equal(t, http.StatusOK, w.Code)
		assertStatus(t, w, "fwd=uri-miss; fwd-status=200; stored")
		assertStatus(t, get(h, http.MethodGet, analysis(fileA)), "hit*")
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, reported, 1)
		assert.Contains(t, reported[0].Error(), "unreadable stored response")
	})
}

func TestStatusesOption(t *testing.T) {
	cache := openCache(t, store.Config{})
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		http.NotFound(w, r)
	}}
	h := fileRoute(middleware.New(cache, middleware.Options{Statuses: []int{http.StatusOK}})(o))
	get(h, http.MethodGet, analysis(fileA))
	w := get(h, http.MethodGet, analysis(fileA))
	assert.Equal(t, http.StatusNotFound, w.Code)
	assertStatus(t, w, "fwd=uri-miss; fwd-status=404")

	h = fileRoute(middleware.New(cache, middleware.Options{Statuses: []int{http.StatusNotFound}})(o))
	get(h, http.MethodGet, analysis(fileA))
	w = get(h, http.MethodGet, analysis(fileA))
	assert.Equal(t, http.StatusNotFound, w.Code)
	assertStatus(t, w, "hit*")
}

func TestName(t *testing.T) {
	cache := openCache(t, store.Config{})
	h := fileRoute(middleware.New(cache, middleware.Options{Name: "emg-api"})(&origin{}))
	w := get(h, http.MethodGet, analysis(fileA))
	assert.Equal(t, "emg-api; fwd=uri-miss; fwd-status=200; stored", w.Header().Get("Cache-Status"))
}

func TestOptionsPanic(t *testing.T) {
	cache := openCache(t, store.Config{MaxEntryBytes: 1 << 20})
	cases := []struct {
		name string
		opts middleware.Options
		want string
	}{
		{"negative TTL", middleware.Options{TTL: -time.Second}, "middleware: negative TTL -1s"},
		{"negative stale window", middleware.Options{StaleIfError: -time.Second}, "middleware: negative StaleIfError -1s"},
		{"negative body limit", middleware.Options{MaxBodyBytes: -1}, "middleware: negative MaxBodyBytes -1"},
		{"body limit over the store's", middleware.Options{MaxBodyBytes: 2 << 20}, "middleware: MaxBodyBytes 2097152 is over the cache's MaxEntryBytes 1048576"},
		{"uncacheable status", middleware.Options{Statuses: []int{500}}, "middleware: status 500 is not heuristically cacheable (RFC 9110 §15.1)"},
		{"bad key header", middleware.Options{KeyHeaders: []string{"X Bad"}}, `middleware: KeyHeaders: "X Bad" is not a header name`},
		{"bad bypass header", middleware.Options{BypassHeaders: []string{""}}, `middleware: BypassHeaders: "" is not a header name`},
		{"bad name", middleware.Options{Name: "emg cache"}, `middleware: Name "emg cache" is not an HTTP token`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.PanicsWithValue(t, tc.want, func() { middleware.New(cache, tc.opts) })
		})
	}
	assert.PanicsWithValue(t, "middleware: nil cache", func() { middleware.New(nil, middleware.Options{}) })
	assert.PanicsWithValue(t, "middleware: nil handler", func() { middleware.New(cache, middleware.Options{})(nil) })
}
