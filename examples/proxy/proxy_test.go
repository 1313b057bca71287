package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testOrigin is the server behind the proxy: a real listener, each path a
// different caching story, every request counted and its validators kept.
type testOrigin struct {
	*httptest.Server
	mu       sync.Mutex
	calls    map[string]int
	inm      map[string][]string
	lastHost string
	release  chan struct{} // lets /events send its second event
}

func newTestOrigin(t *testing.T) *testOrigin {
	o := &testOrigin{calls: map[string]int{}, inm: map[string][]string{}, release: make(chan struct{})}
	mux := http.NewServeMux()
	body := strings.Repeat("0123456789", 10)
	mux.HandleFunc("/fresh", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Etag", `"f1"`)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, body)
	})
	mux.HandleFunc("/none", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "no freshness information")
	})
	mux.HandleFunc("/revalidate", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Etag", `"r1"`)
		if r.Header.Get("If-None-Match") == `"r1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = io.WriteString(w, "revalidated body")
	})
	mux.HandleFunc("/aged", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Age", "100")
		_, _ = io.WriteString(w, "aged")
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		// 64 KiB in pieces and no Content-Length: sent chunked.
		w.Header().Set("Cache-Control", "max-age=600")
		for range 64 {
			_, _ = w.Write([]byte(strings.Repeat("c", 1<<10)))
		}
	})
	mux.HandleFunc("/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		http.NewResponseController(w).Flush()
		<-o.release
		_, _ = io.WriteString(w, "data: second\n\n")
	})
	mux.HandleFunc("/flaky", func(w http.ResponseWriter, r *http.Request) {
		// Arrives already stale (Age past max-age); then the origin fails.
		if o.count("/flaky") > 1 {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Cache-Control", "max-age=10")
		w.Header().Set("Age", "20")
		_, _ = io.WriteString(w, "still good")
	})
	mux.HandleFunc("/cdn", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("CDN-Cache-Control", "max-age=600")
		_, _ = io.WriteString(w, "for CDNs")
	})
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.calls[r.URL.Path]++
		o.inm[r.URL.Path] = append(o.inm[r.URL.Path], r.Header.Get("If-None-Match"))
		o.lastHost = r.Host
		o.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *testOrigin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls[path]
}

// startProxy runs the program itself on a free port until the test ends.
func startProxy(t *testing.T, origin string, env map[string]string, flags ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	var log bytes.Buffer
	go func() {
		done <- run(ctx, append([]string{"-listen", "127.0.0.1:0", "-origin", origin}, flags...),
			func(k string) string { return env[k] }, &syncWriter{w: &log}, func(a net.Addr) { addr <- a.String() })
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	select {
	case a := <-addr:
		return "http://" + a
	case err := <-done:
		t.Fatalf("proxy did not start: %v", err)
	}
	return ""
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func fetch(t *testing.T, c *http.Client, url string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestProxyEndToEndIntegration(t *testing.T) {
	for _, backend := range []struct {
		name string
		env  map[string]string
	}{
		{"embedded", nil},
		{"redis", map[string]string{"REDIS_URL": redisURL}},
	} {
		t.Run(backend.name, func(t *testing.T) {
			o := newTestOrigin(t)
			proxy := startProxy(t, o.URL, backend.env, "-stale-if-error", "1m")
			c := &http.Client{Transport: &http.Transport{}}
			t.Cleanup(c.CloseIdleConnections)

			t.Run("explicit freshness is a hit", func(t *testing.T) {
				resp, body := fetch(t, c, proxy+"/fresh")
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Len(t, body, 100)
				assert.Contains(t, resp.Header.Get("Cache-Status"), "fwd=uri-miss; fwd-status=200; stored")
				assert.NotEmpty(t, resp.Header.Get("Age"), "Age on the forwarded response too")
				resp, _ = fetch(t, c, proxy+"/fresh")
				assert.Contains(t, resp.Header.Get("Cache-Status"), "emgcache; hit")
				assert.Equal(t, 1, o.count("/fresh"))
			})
			t.Run("a Host header cannot bust the cache", func(t *testing.T) {
				resp, _ := fetch(t, c, proxy+"/fresh", "Host", "random.invalid")
				assert.Contains(t, resp.Header.Get("Cache-Status"), "emgcache; hit")
				assert.Equal(t, 1, o.count("/fresh"))
			})
			t.Run("range on a hit", func(t *testing.T) {
				resp, body := fetch(t, c, proxy+"/fresh", "Range", "bytes=10-14")
				assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
				assert.Equal(t, "01234", body)
				assert.Equal(t, "bytes 10-14/100", resp.Header.Get("Content-Range"))
				resp, _ = fetch(t, c, proxy+"/fresh", "Range", "bytes=500-")
				assert.Equal(t, http.StatusRequestedRangeNotSatisfiable, resp.StatusCode)
				assert.Equal(t, 1, o.count("/fresh"))
			})
			t.Run("client conditional on a hit", func(t *testing.T) {
				resp, _ := fetch(t, c, proxy+"/fresh", "If-None-Match", `"f1"`)
				assert.Equal(t, http.StatusNotModified, resp.StatusCode)
				assert.Equal(t, 1, o.count("/fresh"))
			})
			t.Run("nothing stored without freshness", func(t *testing.T) {
				fetch(t, c, proxy+"/none")
				resp, body := fetch(t, c, proxy+"/none")
				assert.Equal(t, "no freshness information", body)
				assert.NotContains(t, resp.Header.Get("Cache-Status"), "hit")
				assert.Equal(t, 2, o.count("/none"))
			})
			t.Run("no-cache revalidates with the stored ETag", func(t *testing.T) {
				fetch(t, c, proxy+"/revalidate")
				resp, body := fetch(t, c, proxy+"/revalidate")
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, "revalidated body", body)
				assert.Contains(t, resp.Header.Get("Cache-Status"), "fwd=stale; fwd-status=304; stored")
				o.mu.Lock()
				assert.Equal(t, []string{"", `"r1"`}, o.inm["/revalidate"])
				o.mu.Unlock()
			})
			t.Run("Age from upstream is kept", func(t *testing.T) {
				resp, _ := fetch(t, c, proxy+"/aged")
				assert.Equal(t, "100", resp.Header.Get("Age"))
				resp, _ = fetch(t, c, proxy+"/aged")
				age, err := strconv.Atoi(resp.Header.Get("Age"))
				require.NoError(t, err)
				assert.GreaterOrEqual(t, age, 100)
				assert.Contains(t, resp.Header.Get("Cache-Status"), "hit")
			})
			t.Run("a chunked response is stored", func(t *testing.T) {
				_, body := fetch(t, c, proxy+"/chunked")
				assert.Len(t, body, 64<<10)
				resp, body := fetch(t, c, proxy+"/chunked")
				assert.Len(t, body, 64<<10)
				assert.Contains(t, resp.Header.Get("Cache-Status"), "hit")
				assert.Equal(t, 1, o.count("/chunked"))
			})
			t.Run("an event stream streams", func(t *testing.T) {
				// Bounded: a proxy that buffered would hang here otherwise.
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, proxy+"/events", nil)
				require.NoError(t, err)
				resp, err := c.Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				// The origin holds the second event until the first has
				// arrived: a proxy that buffered would never deliver it.
				line, err := bufio.NewReader(resp.Body).ReadString('\n')
				require.NoError(t, err)
				assert.Equal(t, "data: first\n", line)
				close(o.release)
			})
			t.Run("CDN-Cache-Control beats Cache-Control and is forwarded", func(t *testing.T) {
				fetch(t, c, proxy+"/cdn")
				resp, _ := fetch(t, c, proxy+"/cdn")
				assert.Contains(t, resp.Header.Get("Cache-Status"), "hit")
				assert.Equal(t, "max-age=600", resp.Header.Get("CDN-Cache-Control"))
				assert.Equal(t, 1, o.count("/cdn"))
			})
			t.Run("stale-if-error hides an origin failure", func(t *testing.T) {
				fetch(t, c, proxy+"/flaky")
				resp, body := fetch(t, c, proxy+"/flaky")
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, "still good", body)
				assert.Contains(t, resp.Header.Get("Cache-Status"), "fwd-status=503")
				assert.Contains(t, resp.Header.Get("Cache-Status"), "detail=stale-if-error")
				assert.Equal(t, 2, o.count("/flaky"))
			})
			t.Run("the origin sees its own host", func(t *testing.T) {
				o.mu.Lock()
				defer o.mu.Unlock()
				assert.Equal(t, strings.TrimPrefix(o.URL, "http://"), o.lastHost)
			})
			t.Run("a POST invalidates", func(t *testing.T) {
				resp, err := c.Post(proxy+"/fresh", "text/plain", strings.NewReader("x"))
				require.NoError(t, err)
				_ = resp.Body.Close()
				resp, _ = fetch(t, c, proxy+"/fresh")
				assert.Contains(t, resp.Header.Get("Cache-Status"), "fwd=uri-miss")
			})
		})
	}
}

func TestProxyBadOrigin(t *testing.T) {
	for _, origin := range []string{"", "ftp://x", "http://", "::"} {
		t.Run(origin, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), []string{"-origin", origin}, func(string) string { return "" }, &out, nil)
			assert.ErrorIs(t, err, errUsage)
			assert.Contains(t, out.String(), "-origin must be")
		})
	}
}

func TestProxyNegativeStaleWindow(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-origin", "http://127.0.0.1:1", "-stale-if-error", "-1s"}, func(string) string { return "" }, &out, nil)
	assert.ErrorIs(t, err, errUsage)
	assert.Contains(t, out.String(), "cannot be negative")
}
