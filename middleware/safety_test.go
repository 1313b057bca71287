package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/emgkey"
	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// The safety properties of a shared cache, one test each: what must never
// be stored, what must never be served to whom, and that a broken store
// never breaks a request.

// assertNeverStored fills with respond and checks that the next request
// goes to the handler again.
func assertNeverStored(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, n int64), headers ...string) {
	t.Helper()
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		o := &origin{respond: respond}
		h := fileRoute(middleware.New(cache, middleware.Options{})(o))
		for i := range 3 {
			w := get(h, http.MethodGet, analysis(fileA), headers...)
			assert.NotContains(t, w.Header().Get("Cache-Status"), "stored")
			assert.NotContains(t, w.Header().Get("Cache-Status"), "hit")
			assert.EqualValues(t, i+1, o.calls.Load())
		}
		assertNoKeys(t, cache, fileA)
	})
}

// assertNoKeys checks that nothing is stored for the file.
func assertNoKeys(t *testing.T, cache *store.Cache, hash string) {
	t.Helper()
	var keys []string
	require.NoError(t, cache.Scan(context.Background(), emgkey.AnalysisPrefix+hash+":*", func(ks []string) error {
		keys = append(keys, ks...)
		return nil
	}))
	assert.Empty(t, keys)
}

func TestNeverStoresSetCookie(t *testing.T) {
	assertNeverStored(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		w.Header().Set("Cache-Control", "public, max-age=600")
		http.SetCookie(w, &http.Cookie{Name: "session", Value: fmt.Sprint(n)})
		fmt.Fprint(w, "analysis")
	})
}

func TestNeverStoresCacheControlNoStore(t *testing.T) {
	assertNeverStored(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		w.Header().Set("Cache-Control", "max-age=600, no-store")
		fmt.Fprint(w, "analysis")
	})
}

func TestNeverStoresCacheControlPrivate(t *testing.T) {
	for _, cc := range []string{"private", `private="X-User"`, "max-age=600,PRIVATE"} {
		t.Run(cc, func(t *testing.T) {
			assertNeverStored(t, func(w http.ResponseWriter, r *http.Request, n int64) {
				w.Header().Set("Cache-Control", cc)
				fmt.Fprint(w, "analysis")
			})
		})
	}
}

func TestNeverStoresCacheControlNoCache(t *testing.T) {
	for _, cc := range []string{"no-cache", `no-cache="Set-Cookie"`, "max-age=0", "s-maxage=0, max-age=600"} {
		t.Run(cc, func(t *testing.T) {
			assertNeverStored(t, func(w http.ResponseWriter, r *http.Request, n int64) {
				w.Header().Set("Cache-Control", cc)
				fmt.Fprint(w, "analysis")
			})
		})
	}
}

func TestNeverStoresVaryStar(t *testing.T) {
	assertNeverStored(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		w.Header().Set("Vary", "Accept-Encoding, *")
		fmt.Fprint(w, "analysis")
	})
}

func TestNeverStoresUncacheableStatus(t *testing.T) {
	for _, status := range []int{201, 202, 206, 302, 303, 307, 400, 401, 403, 409, 429, 500, 502, 503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			assertNeverStored(t, func(w http.ResponseWriter, r *http.Request, n int64) {
				w.Header().Set("Cache-Control", "public, max-age=600")
				if status >= 300 && status < 400 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(status)
			})
		})
	}
}

func TestNeverStoresTrailers(t *testing.T) {
	respond := map[string]func(w http.ResponseWriter, r *http.Request, n int64){
		"declared": func(w http.ResponseWriter, r *http.Request, n int64) {
			w.Header().Set("Trailer", "X-Checksum")
			fmt.Fprint(w, "analysis")
			w.Header().Set("X-Checksum", "abc")
		},
		"prefixed": func(w http.ResponseWriter, r *http.Request, n int64) {
			fmt.Fprint(w, "analysis")
			w.Header().Set(http.TrailerPrefix+"X-Checksum", "abc")
		},
	}
	for name, fn := range respond {
		t.Run(name, func(t *testing.T) {
			assertNeverStored(t, fn)
			// The client still gets its trailer.
			srv := server(t, fileRoute(middleware.New(openCache(t, store.Config{}), middleware.Options{})(&origin{respond: fn})))
			resp, err := http.Get(srv.URL + analysis(fileA))
			require.NoError(t, err)
			_, err = io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, "abc", resp.Trailer.Get("X-Checksum"))
		})
	}
}

func TestNeverServesOrStoresForCredentials(t *testing.T) {
	for _, cred := range []string{"Authorization", "Cookie", "Proxy-Authorization"} {
		t.Run(cred, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, cache *store.Cache) {
				o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
					fmt.Fprintf(w, "for %q", r.Header.Get(cred))
				}}
				h := fileRoute(middleware.New(cache, middleware.Options{})(o))

				// Not stored...
				w := get(h, http.MethodGet, analysis(fileA), cred, "alice-secret")
				assert.Equal(t, `for "alice-secret"`, w.Body.String())
				assertStatus(t, w, "fwd=bypass; detail=header")
				assertNoKeys(t, cache, fileA)

				// ...and not served from the cache either: the anonymous
				// response is not the one meant for a credential.
				assert.Equal(t, `for ""`, get(h, http.MethodGet, analysis(fileA)).Body.String())
				w = get(h, http.MethodGet, analysis(fileA), cred, "bob-secret")
				assert.Equal(t, `for "bob-secret"`, w.Body.String())
				assertStatus(t, w, "fwd=bypass; detail=header")
			})
		})
	}
}

func TestKeyedCredentialsAreCachedPerCredential(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
			fmt.Fprintf(w, "for %q", r.Header.Get("Authorization"))
		}}
		h := fileRoute(middleware.New(cache, middleware.Options{KeyHeaders: []string{"authorization"}})(o))
		steps := []struct{ auth, status, body string }{
			{"Bearer alice", "fwd=uri-miss; fwd-status=200; stored", `for "Bearer alice"`},
			{"Bearer alice", "hit*", `for "Bearer alice"`},
			{"Bearer bob", "fwd=uri-miss; fwd-status=200; stored", `for "Bearer bob"`},
			{"", "fwd=uri-miss; fwd-status=200; stored", `for ""`},
			{"Bearer bob", "hit*", `for "Bearer bob"`},
		}
		for _, s := range steps {
			var hdr []string
			if s.auth != "" {
				hdr = []string{"Authorization", s.auth}
			}
			w := get(h, http.MethodGet, analysis(fileA), hdr...)
			assertStatus(t, w, s.status)
			assert.Equal(t, s.body, w.Body.String())
		}
		// The credential is hashed into the key; it never appears in one.
		require.NoError(t, cache.Scan(context.Background(), "*", func(keys []string) error {
			for _, k := range keys {
				assert.NotContains(t, k, "alice")
			}
			return nil
		}))
	})
}

func TestRequestNoStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		o := &origin{}
		h := fileRoute(middleware.New(cache, middleware.Options{})(o))
		w := get(h, http.MethodGet, analysis(fileA), "Cache-Control", "no-store")
		assertStatus(t, w, "fwd=bypass; detail=no-store")
		assertNoKeys(t, cache, fileA)

		get(h, http.MethodGet, analysis(fileA))
		w = get(h, http.MethodGet, analysis(fileA), "Cache-Control", "no-store")
		assertStatus(t, w, "fwd=bypass; detail=no-store")
		assert.Equal(t, `{"call":3}`, w.Body.String(), "a stored response is not used for no-store")
	})
}

func TestRequestNoCache(t *testing.T) {
	for _, hdr := range [][]string{{"Cache-Control", "no-cache"}, {"Cache-Control", "max-age=0"}, {"Pragma", "no-cache"}} {
		t.Run(strings.Join(hdr, ": "), func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, cache *store.Cache) {
				o := &origin{}
				h := fileRoute(middleware.New(cache, middleware.Options{})(o))
				get(h, http.MethodGet, analysis(fileA))
				w := get(h, http.MethodGet, analysis(fileA), hdr...)
				assert.Equal(t, `{"call":2}`, w.Body.String())
				assertStatus(t, w, "fwd=request; fwd-status=200; stored")
				// The fresh response replaced the old one.
				w = get(h, http.MethodGet, analysis(fileA))
				assert.Equal(t, `{"call":2}`, w.Body.String())
				assertStatus(t, w, "hit*")
			})
		})
	}
}

// reflecting is a handler with the classic poisoning bug: it builds an
// absolute link from whatever the request says its host and scheme are.
func reflecting() *origin {
	return &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
		var b strings.Builder
		for _, name := range append(middleware.DefaultBypassHeaders(), "X-Tenant") {
			if v := r.Header.Get(name); v != "" {
				fmt.Fprintf(&b, "%s=%s ", name, v)
			}
		}
		if r.Header.Get("X-Tenant") != "" {
			w.Header().Set("Vary", "X-Tenant")
		}
		fmt.Fprintf(w, `{"self":"%s"}`, b.String())
	}}
}

func TestCachePoisoningUnkeyedHeaders(t *testing.T) {
	for _, name := range middleware.DefaultBypassHeaders() {
		t.Run(name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, cache *store.Cache) {
				o := reflecting()
				h := fileRoute(middleware.New(cache, middleware.Options{})(o))

				// The attacker goes first, when nothing is cached...
				w := get(h, http.MethodGet, analysis(fileA), name, "evil.example")
				assert.Contains(t, w.Body.String(), "evil.example")
				assertStatus(t, w, "fwd=bypass; detail=header")
				// ...and again once the clean response is cached.
				clean := get(h, http.MethodGet, analysis(fileA))
				w = get(h, http.MethodGet, analysis(fileA), name, "evil.example")
				assertStatus(t, w, "fwd=bypass; detail=header")

				for range 2 {
					w := get(h, http.MethodGet, analysis(fileA))
					assert.NotContains(t, w.Body.String(), "evil")
					assert.Equal(t, clean.Body.String(), w.Body.String())
				}
			})
		})
	}
}

func TestCachePoisoningKeyedHeader(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		o := reflecting()
		opts := middleware.Options{KeyHeaders: []string{"X-Forwarded-Host", "X-Forwarded-Proto"}}
		h := fileRoute(middleware.New(cache, opts)(o))

		w := get(h, http.MethodGet, analysis(fileA), "X-Forwarded-Host", "evil.example")
		assertStatus(t, w, "fwd=uri-miss; fwd-status=200; stored")
		assert.Contains(t, w.Body.String(), "evil.example")

		// The poisoned entry is only reachable with the attacker's header.
		for _, host := range []string{"", "emg.example"} {
			var hdr []string
			if host != "" {
				hdr = []string{"X-Forwarded-Host", host}
			}
			w = get(h, http.MethodGet, analysis(fileA), hdr...)
			assert.NotContains(t, w.Body.String(), "evil")
			assertStatus(t, w, "fwd=uri-miss; fwd-status=200; stored")
			w = get(h, http.MethodGet, analysis(fileA), hdr...)
			assert.NotContains(t, w.Body.String(), "evil")
			assertStatus(t, w, "hit*")
		}
		// Keyed headers no longer bypass, the others still do.
		assertStatus(t, get(h, http.MethodGet, analysis(fileA), "X-Original-URL", "/admin"), "fwd=bypass; detail=header")
	})
}

func TestCachePoisoningVaryHeader(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		o := reflecting()
		h := fileRoute(middleware.New(cache, middleware.Options{})(o))
		w := get(h, http.MethodGet, analysis(fileA), "X-Tenant", "evil")
		assertStatus(t, w, "fwd=uri-miss; fwd-status=200; stored")
		w = get(h, http.MethodGet, analysis(fileA))
		assertStatus(t, w, "fwd=vary-miss; fwd-status=200; stored")
		assert.NotContains(t, w.Body.String(), "evil")
		assertStatus(t, get(h, http.MethodGet, analysis(fileA)), "hit*")
	})
}

func TestCacheDeception(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cache *store.Cache) {
		// A handler that ignores the trailing path and answers with the
		// account of whoever's cookie comes along: the setting of web cache
		// deception, where a victim is lured to .../x.css.
		o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) {
			user := "anonymous"
			if c, err := r.Cookie("session"); err == nil {
				user = c.Value
				w.Header().Set("Cache-Control", "private")
			}
			fmt.Fprintf(w, "account of %s", user)
		}}
		h := fileRoute(middleware.New(cache, middleware.Options{})(o))
		lure := analysis(fileA) + "/style.css"

		w := get(h, http.MethodGet, lure, "Cookie", "session=victim")
		assert.Equal(t, "account of victim", w.Body.String())
		assertStatus(t, w, "fwd=bypass; detail=header")

		for range 2 {
			w = get(h, http.MethodGet, lure)
			assert.Equal(t, "account of anonymous", w.Body.String())
		}
		assertStatus(t, w, "hit*")
	})
}

func TestUpgradeBypasses(t *testing.T) {
	cache := openCache(t, store.Config{})
	o := &origin{}
	h := fileRoute(middleware.New(cache, middleware.Options{})(o))
	w := get(h, http.MethodGet, analysis(fileA), "Connection", "Upgrade", "Upgrade", "websocket")
	assertStatus(t, w, "fwd=bypass; detail=upgrade")
	assertNoKeys(t, cache, fileA)
}

func TestPreconditionsBypass(t *testing.T) {
	cache := openCache(t, store.Config{})
	o := &origin{}
	h := fileRoute(middleware.New(cache, middleware.Options{})(o))
	get(h, http.MethodGet, analysis(fileA))
	for _, hdr := range []string{"If-Match", "If-Unmodified-Since"} {
		w := get(h, http.MethodGet, analysis(fileA), hdr, `"v1"`)
		assertStatus(t, w, "fwd=bypass; detail=precondition")
	}
}

func TestStoreFailureNeverFailsRequest(t *testing.T) {
	cases := []struct {
		name string
		fail func(t *testing.T, srv *storetest.Server, cache *store.Cache)
	}{
		{"redis killed", func(t *testing.T, srv *storetest.Server, cache *store.Cache) {
			require.NoError(t, srv.Kill())
		}},
		{"redis paused", func(t *testing.T, srv *storetest.Server, cache *store.Cache) {
			require.NoError(t, srv.Pause())
			t.Cleanup(func() { _ = srv.Resume() })
		}},
		{"breaker open", func(t *testing.T, srv *storetest.Server, cache *store.Cache) {
			require.NoError(t, srv.Kill())
			require.Eventually(t, func() bool {
				_, _ = cache.Get(context.Background(), "probe")
				s := cache.Stats(context.Background())
				return s.Breaker == store.BreakerOpen
			}, 10*time.Second, time.Millisecond)
		}},
		{"cache closed", func(t *testing.T, srv *storetest.Server, cache *store.Cache) {
			require.NoError(t, cache.Close())
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := storetest.NewServer(t)
			cache := openCache(t, store.Config{
				URL:       srv.URL(),
				OpTimeout: 100 * time.Millisecond,
				Breaker:   store.BreakerConfig{ConsecutiveFailures: 3, OpenTimeout: time.Minute},
			})
			var reported atomic.Int64
			o := &origin{}
			opts := middleware.Options{OnError: func(r *http.Request, err error) {
				assert.True(t, errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrClosed), "%v", err)
				reported.Add(1)
			}}
			h := fileRoute(middleware.New(cache, opts)(o))
			assertStatus(t, get(h, http.MethodGet, analysis(fileA)), "fwd=uri-miss; fwd-status=200; stored")

			tc.fail(t, srv, cache)
			for i := range 6 {
				for _, target := range []string{analysis(fileA), analysis(fileA) + "?new=1"} {
					w := get(h, http.MethodGet, target)
					require.Equal(t, http.StatusOK, w.Code, "request %d", i)
					assert.Contains(t, w.Body.String(), `{"call":`)
					s := w.Header().Get("Cache-Status")
					// A value the client-side cache still holds may be
					// served; anything else goes to the handler.
					assert.True(t, strings.HasPrefix(s, "emgcache; hit") || s == "emgcache; fwd=miss; fwd-status=200", s)
				}
			}
			assert.Positive(t, reported.Load())
		})
	}
}

func TestStoreFailureRecovers(t *testing.T) {
	srv := storetest.NewServer(t)
	cache := openCache(t, store.Config{
		URL:       srv.URL(),
		OpTimeout: 100 * time.Millisecond,
		Breaker:   store.BreakerConfig{ConsecutiveFailures: 2, OpenTimeout: 50 * time.Millisecond},
	})
	o := &origin{}
	h := fileRoute(middleware.New(cache, middleware.Options{})(o))
	require.NoError(t, srv.Kill())
	for range 4 {
		assert.Equal(t, http.StatusOK, get(h, http.MethodGet, analysis(fileA)).Code)
	}
	require.NoError(t, srv.Restart(context.Background()))
	require.Eventually(t, func() bool {
		return strings.HasPrefix(get(h, http.MethodGet, analysis(fileA)).Header().Get("Cache-Status"), "emgcache; hit")
	}, 20*time.Second, 20*time.Millisecond)
}

// Hits on one entry within a second share their Age and Cache-Status
// values; a layer that appends to them after a hit must not change what
// the next hit sends.
func TestSharedHitValuesSurviveAppends(t *testing.T) {
	clk := newClock()
	o := &origin{respond: func(w http.ResponseWriter, r *http.Request, n int64) { _, _ = io.WriteString(w, "body") }}
	inner := fileRoute(middleware.NewWithClock(openCache(t, store.Config{}), middleware.Options{}, clk.Now)(o))
	meddling := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r)
		w.Header().Add("Age", "999")
		w.Header().Add("Cache-Status", "outer; hit")
	})
	get(meddling, http.MethodGet, analysis(fileA))
	clk.Advance(2 * time.Second)
	first := get(meddling, http.MethodGet, analysis(fileA))
	second := get(inner, http.MethodGet, analysis(fileA))
	assert.Equal(t, []string{"2", "999"}, first.Header()["Age"])
	assert.Equal(t, []string{"2"}, second.Result().Header["Age"])
	assert.Len(t, first.Header()["Cache-Status"], 2)
	assert.Equal(t, []string{"emgcache; hit; ttl=3598"}, second.Result().Header["Cache-Status"])
}
