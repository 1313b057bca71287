package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/store"
)

// sharedCache wraps o in a SharedCache middleware on a controllable clock.
func sharedCache(t *testing.T, o http.Handler, opts middleware.Options) (http.Handler, *clock) {
	t.Helper()
	clk := newClock()
	opts.Semantics = middleware.SharedCache
	if opts.KeyFunc == nil {
		opts.KeyFunc = func(r *http.Request) string { return r.URL.Path }
	}
	return middleware.NewWithClock(openCache(t, store.Config{}), opts, clk.Now)(o), clk
}

func TestSharedCacheStoresOnlyWhatMayBeReused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers map[string]string
		req     []string
		stored  bool
	}{
		{"no freshness information", nil, nil, false},
		{"max-age", map[string]string{"Cache-Control": "max-age=60"}, nil, true},
		{"a 500 with max-age", map[string]string{"Cache-Control": "max-age=60", "X-Status": "500"}, nil, true},
		{"a 302 with s-maxage", map[string]string{"Cache-Control": "s-maxage=60", "X-Status": "302", "Location": "/x"}, nil, true},
		{"invalid Expires", map[string]string{"Expires": "Thu, 18 Aug 2050 2:01:18 GMT"}, nil, false},
		{"two Expires", map[string]string{"X-Two-Expires": "Thu, 18 Aug 2050 02:01:18 GMT"}, nil, false},
		{"valid Expires", map[string]string{"Expires": "Thu, 18 Aug 2050 02:01:18 GMT"}, nil, true},
		{"CDN-Cache-Control over Cache-Control no-store", map[string]string{"Cache-Control": "no-store", "Cdn-Cache-Control": "max-age=60"}, nil, true},
		{"own field over CDN-Cache-Control", map[string]string{"Emgcache-Cache-Control": "no-store", "Cdn-Cache-Control": "max-age=60"}, nil, false},
		{"Authorization", map[string]string{"Cache-Control": "max-age=60"}, []string{"Authorization", "Bearer t"}, false},
		{"Authorization with public", map[string]string{"Cache-Control": "max-age=60, public"}, []string{"Authorization", "Bearer t"}, true},
		{"Authorization with s-maxage", map[string]string{"Cache-Control": "s-maxage=60"}, []string{"Authorization", "Bearer t"}, true},
		{"private", map[string]string{"Cache-Control": "max-age=60, private"}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
				status := http.StatusOK
				for k, v := range tc.headers {
					switch k {
					case "X-Status":
						status = map[string]int{"500": 500, "302": 302}[v]
					case "X-Two-Expires":
						w.Header()["Expires"] = []string{v, v}
					default:
						w.Header().Set(k, v)
					}
				}
				w.WriteHeader(status)
				_, _ = w.Write([]byte("body"))
			}}
			h, _ := sharedCache(t, o, middleware.Options{})
			get(h, http.MethodGet, "/r", tc.req...)
			w := get(h, http.MethodGet, "/r", tc.req...)
			if tc.stored {
				assertStatus(t, w, "hit*")
				assert.EqualValues(t, 1, o.calls.Load())
			} else {
				assert.EqualValues(t, 2, o.calls.Load())
			}
		})
	}
}

func TestSharedCacheRevalidatesWithValidators(t *testing.T) {
	var conditional []string
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		conditional = append(conditional, r.Header.Get("If-None-Match"))
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.Header().Set("Cache-Control", "max-age=100")
			w.Header().Set("X-Refreshed", "yes")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Etag", `"v1"`)
		w.Header().Set("Cache-Control", "max-age=10")
		w.Header().Set("X-Refreshed", "no")
		_, _ = w.Write([]byte("the body"))
	}}
	h, clk := sharedCache(t, o, middleware.Options{})

	w := get(h, http.MethodGet, "/r")
	assertStatus(t, w, "fwd=uri-miss; fwd-status=200; stored")

	clk.Advance(20 * time.Second)
	w = get(h, http.MethodGet, "/r")
	require.Equal(t, http.StatusOK, w.Code, "the client asked unconditionally: it gets the whole response")
	assert.Equal(t, "the body", w.Body.String())
	assert.Equal(t, "yes", w.Header().Get("X-Refreshed"), "the 304's fields are merged (RFC 9111 §4.3.4)")
	assert.Equal(t, "max-age=100", w.Header().Get("Cache-Control"))
	assertStatus(t, w, "fwd=stale; fwd-status=304; stored")

	clk.Advance(50 * time.Second)
	w = get(h, http.MethodGet, "/r")
	assertStatus(t, w, "hit; ttl=50")
	assert.Equal(t, "yes", w.Header().Get("X-Refreshed"))

	// A client's own validators are answered by the cache, also after a
	// revalidation it caused.
	clk.Advance(100 * time.Second)
	w = get(h, http.MethodGet, "/r", "If-None-Match", `"v1"`)
	assert.Equal(t, http.StatusNotModified, w.Code)
	assertStatus(t, w, "fwd=stale; fwd-status=304; stored")
	w = get(h, http.MethodGet, "/r", "If-None-Match", `"v0"`)
	assert.Equal(t, http.StatusOK, w.Code)
	assertStatus(t, w, "hit*")

	assert.Equal(t, []string{"", `"v1"`, `"v1"`}, conditional, "the origin only ever saw the cache's own validator")
}

func TestSharedCacheRevalidatesNoCacheEveryTime(t *testing.T) {
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Last-Modified", "Sun, 01 Jun 2025 11:00:00 GMT")
		if r.Header.Get("If-Modified-Since") == "Sun, 01 Jun 2025 11:00:00 GMT" {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write([]byte("body"))
	}}
	h, _ := sharedCache(t, o, middleware.Options{})
	assertStatus(t, get(h, http.MethodGet, "/r"), "fwd=uri-miss; fwd-status=200; stored")
	for range 2 {
		w := get(h, http.MethodGet, "/r")
		assert.Equal(t, "body", w.Body.String())
		assertStatus(t, w, "fwd=stale; fwd-status=304; stored")
	}
	assert.EqualValues(t, 3, o.calls.Load())
}

func TestSharedCacheAge(t *testing.T) {
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		w.Header().Set("Cache-Control", "max-age=150")
		w.Header().Set("Age", "100")
		_, _ = w.Write([]byte("body"))
	}}
	h, clk := sharedCache(t, o, middleware.Options{})
	w := get(h, http.MethodGet, "/r")
	assert.Equal(t, "100", w.Header().Get("Age"), "the forwarded response keeps the age it arrived with")
	clk.Advance(30 * time.Second)
	w = get(h, http.MethodGet, "/r")
	assert.Equal(t, "130", w.Header().Get("Age"))
	assertStatus(t, w, "hit; ttl=20")
	clk.Advance(30 * time.Second)
	assertStatus(t, get(h, http.MethodGet, "/r"), "fwd=stale; fwd-status=200; stored")
}

func TestOnlyIfCached(t *testing.T) {
	h, _ := sharedCache(t, &origin{}, middleware.Options{})
	w := get(h, http.MethodGet, "/r", "Cache-Control", "only-if-cached")
	assert.Equal(t, http.StatusGatewayTimeout, w.Code)
	assert.JSONEq(t, `{"error":"not in cache and only-if-cached"}`, w.Body.String())
	assertStatus(t, w, "fwd=uri-miss; detail=only-if-cached")
}

func TestMaxStale(t *testing.T) {
	for _, tc := range []struct {
		cc     string
		served bool
	}{
		{"max-age=10", true},
		{"max-age=10, must-revalidate", false},
		{"s-maxage=10", false},
	} {
		t.Run(tc.cc, func(t *testing.T) {
			o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
				w.Header().Set("Cache-Control", tc.cc)
				_, _ = w.Write([]byte("body"))
			}}
			h, clk := sharedCache(t, o, middleware.Options{})
			get(h, http.MethodGet, "/r")
			clk.Advance(20 * time.Second)
			w := get(h, http.MethodGet, "/r", "Cache-Control", "max-stale=60")
			if tc.served {
				assertStatus(t, w, "hit; ttl=-10; detail=max-stale")
			} else {
				assertStatus(t, w, "fwd=stale; fwd-status=200; stored")
			}
		})
	}
}

func TestCanonicalHost(t *testing.T) {
	for _, tc := range []struct {
		name  string
		host  string
		calls int64
	}{
		{"Host is in the key by default", "", 3},
		{"a canonical host shares entries", "emg.example", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &origin{}
			cache := openCache(t, store.Config{})
			h := fileRoute(middleware.New(cache, middleware.Options{CanonicalHost: tc.host})(o))
			for _, host := range []string{"localhost", "127.0.0.1", "random.invalid"} {
				r := httptest.NewRequest(http.MethodGet, analysis(fileA), nil)
				r.Host = host
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
			assert.Equal(t, tc.calls, o.calls.Load())
		})
	}
}

func TestSharedCacheRefetchesAfterA304ForAnotherETag(t *testing.T) {
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		w.Header().Set("Cache-Control", "max-age=10")
		if r.Header.Get("If-None-Match") != "" {
			// An origin that contradicts the validator it was sent.
			w.Header().Set("Etag", `"other"`)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Etag", `"v2"`)
		_, _ = w.Write([]byte("body " + strconv.FormatInt(n, 10)))
	}}
	h, clk := sharedCache(t, o, middleware.Options{})
	get(h, http.MethodGet, "/r")
	clk.Advance(20 * time.Second)
	w := get(h, http.MethodGet, "/r")
	assert.Equal(t, http.StatusOK, w.Code, "the client asked for the response, not for a 304")
	assert.Equal(t, "body 3", w.Body.String(), "fetched again, unconditionally")
	assert.EqualValues(t, 3, o.calls.Load())
}

func TestUnsafeMethodInvalidatesLocation(t *testing.T) {
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		if r.Method == http.MethodPost {
			w.Header().Set("Location", "/created")
			w.Header().Set("Content-Location", "http://elsewhere.example/other")
			w.WriteHeader(http.StatusCreated)
			return
		}
		w.Header().Set("Cache-Control", "max-age=600")
		_, _ = w.Write([]byte("x"))
	}}
	h, _ := sharedCache(t, o, middleware.Options{})
	get(h, http.MethodGet, "/created")
	assertStatus(t, get(h, http.MethodGet, "/created"), "hit*")
	get(h, http.MethodPost, "/collection")
	assertStatus(t, get(h, http.MethodGet, "/created"), "fwd=uri-miss; fwd-status=200; stored")
}

func TestEarlyHintsReachTheClient(t *testing.T) {
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write([]byte("body"))
	}}
	h, _ := sharedCache(t, o, middleware.Options{})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	var hints []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, header textproto.MIMEHeader) error {
		hints = append(hints, strconv.Itoa(code)+" "+header.Get("Link"))
		return nil
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), http.MethodGet, srv.URL+"/r", nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, []string{"103 </style.css>; rel=preload"}, hints)
	assert.Empty(t, resp.Header.Get("Link"), "the hint's fields are not the response's")
	assert.Contains(t, resp.Header.Get("Cache-Status"), "stored")
}

func TestRequestNoCacheRevalidates(t *testing.T) {
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Etag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write([]byte("body"))
	}}
	h, _ := sharedCache(t, o, middleware.Options{})
	get(h, http.MethodGet, "/r")
	w := get(h, http.MethodGet, "/r", "Cache-Control", "no-cache")
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "body", w.Body.String())
	assertStatus(t, w, "fwd=request; fwd-status=304; stored")
	assert.EqualValues(t, 2, o.calls.Load())
}
