package browsertest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/health"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

var updateScreenshot = flag.Bool("update-screenshot", false,
	"run varied traffic for a while and write the dashboard screenshot to ../../docs/dashboard.png")

// EnvChromium names the environment variable that selects the browser for
// the dashboard test, for machines where it is not on PATH.
const EnvChromium = "EMGCACHE_CHROMIUM"

// browserWait bounds each wait for the page. The page polls every 200 ms in
// the test; this only has to outlast a slow start of the browser on a loaded
// machine.
const browserWait = 30 * time.Second

const testToken = "test-admin-token-0123456789"

// openRedis opens a cache on a redis-server of its own.
func openRedis(t *testing.T) (*store.Cache, *storetest.Server) {
	t.Helper()
	srv := storetest.NewServer(t)
	c, err := store.Open(t.Context(), store.Config{URL: srv.URL()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c, srv
}

// newRouter mounts a new API on a new router.
func newRouter(cache *store.Cache, opts health.Options) *mux.Router {
	r := mux.NewRouter()
	health.New(cache, opts).Register(r)
	return r
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// readTraffic makes hits hits and misses misses on cache.
func readTraffic(t *testing.T, cache *store.Cache, hits, misses int) {
	t.Helper()
	require.NoError(t, cache.Set(t.Context(), "analysis:present", []byte(`{"rms":1}`), 0))
	for range hits {
		_, err := cache.Get(t.Context(), "analysis:present")
		require.NoError(t, err)
	}
	for range misses {
		_, err := cache.Get(t.Context(), "analysis:absent")
		require.ErrorIs(t, err, store.ErrNotFound)
	}
}

// findChromium returns the browser to drive. A missing browser fails the
// test: a skipped test would hide that the page was never tried.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(EnvChromium); p != "" {
		path, err := exec.LookPath(p)
		require.NoError(t, err, "%s=%q is not an executable", EnvChromium, p)
		return path
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Fatalf("the dashboard test needs Chromium and none was found: install Debian's chromium package "+
		"(apt-get install chromium) or set %s to the browser's path", EnvChromium)
	return ""
}

// newBrowser starts a headless Chromium with a profile of its own and
// returns the context of its first tab. The test's cleanup stops it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := findChromium(t)
	profile := t.TempDir() // registered first, so removed after the browser has exited
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 1000),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser to exit
	})
	require.NoError(t, chromedp.Do(ctx), "start %s", path)
	return ctx
}

// collectConsole records what the page writes to the console, so that a
// script error or a blocked resource fails the test with its message.
func collectConsole(t *testing.T, ctx context.Context) func() []chromedp.ConsoleMessage {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	messages := chromedp.Console(ctx)
	var (
		mu   sync.Mutex
		got  []chromedp.ConsoleMessage
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			got = append(got, m)
			mu.Unlock()
		}
	}()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return func() []chromedp.ConsoleMessage {
		mu.Lock()
		defer mu.Unlock()
		return append([]chromedp.ConsoleMessage(nil), got...)
	}
}

// pageFigures is what the page shows: the text of each figure, and the raw
// value the script keeps beside it.
type pageFigures struct {
	Updates int               `json:"updates"`
	Text    map[string]string `json:"text"`
	Value   map[string]string `json:"value"`
}

const readFigures = `(() => {
	const ids = ["health-state", "backend", "breaker", "hit-rate", "hits", "local-hits", "misses",
		"total-requests", "errors", "memory", "latency-p50", "latency-p99"];
	const out = {updates: Number(document.body.dataset.updates || 0), text: {}, value: {}};
	for (const id of ids) {
		const el = document.getElementById(id);
		out.text[id] = el.textContent;
		out.value[id] = el.dataset.value || "";
	}
	return out;
})()`

func figures(ctx context.Context) (pageFigures, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[pageFigures](readFigures))
}

// getStats reads GET stats the way any client would.
func getStats(t *testing.T, base string) store.Stats {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/api/cache/stats", nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var s store.Stats
	require.NoError(t, json.NewDecoder(res.Body).Decode(&s))
	return s
}

// englishInt formats n as the page does (toLocaleString("en-US")).
func englishInt(n uint64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// waitForStats waits until the page shows the figures of s.
func waitForStats(t *testing.T, ctx context.Context, s store.Stats) pageFigures {
	t.Helper()
	var last pageFigures
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		f, err := figures(ctx)
		if !assert.NoError(c, err) {
			return
		}
		last = f
		assert.Equal(c, "Healthy", f.Text["health-state"])
		assert.Equal(c, s.Backend, f.Text["backend"])
		assert.Equal(c, string(s.Breaker), f.Text["breaker"])
		assert.Equal(c, englishInt(s.Hits), f.Text["hits"])
		assert.Equal(c, englishInt(s.Misses), f.Text["misses"])
		assert.Equal(c, englishInt(s.TotalRequests), f.Text["total-requests"])
		assert.Equal(c, englishInt(s.LocalHits), f.Text["local-hits"])
		assert.Equal(c, englishInt(s.Errors), f.Text["errors"])
		assert.Equal(c, fmt.Sprintf("%.1f%%", s.HitRate*100), f.Text["hit-rate"])
		assert.Equal(c, fmt.Sprint(int64(s.Latency.P50)), f.Value["latency-p50"])
		assert.Equal(c, fmt.Sprint(int64(s.Latency.P99)), f.Value["latency-p99"])
	}, browserWait, 50*time.Millisecond, "the page never showed the API's figures; last seen: %+v", &last)
	return last
}

func TestUIInBrowserIntegration(t *testing.T) {
	ctx := newBrowser(t)
	console := collectConsole(t, ctx)
	cache, redis := openRedis(t)
	readTraffic(t, cache, 3, 1)
	srv := httptest.NewServer(newRouter(cache, health.Options{AdminToken: testToken, Logger: discardLogger()}))
	t.Cleanup(srv.Close)

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/api/cache/ui?refresh=200")))

	t.Run("shows the API's figures", func(t *testing.T) {
		s := getStats(t, srv.URL)
		require.Equal(t, uint64(3), s.Hits)
		f := waitForStats(t, ctx, s)
		assert.Equal(t, "75.0%", f.Text["hit-rate"])
		assert.Regexp(t, `^\d+\.\d\d MiB$`, f.Text["memory"])
		assert.Regexp(t, `^\d+(\.\d+)? (ns|µs|ms)$`, f.Text["latency-p50"])
	})

	t.Run("updates with more traffic", func(t *testing.T) {
		before, err := figures(ctx)
		require.NoError(t, err)
		readTraffic(t, cache, 6, 1)
		s := getStats(t, srv.URL)
		require.Equal(t, uint64(9), s.Hits)
		after := waitForStats(t, ctx, s)
		assert.Greater(t, after.Updates, before.Updates)
		assert.Equal(t, "81.8%", after.Text["hit-rate"])
	})

	t.Run("formats durations and sizes", func(t *testing.T) {
		tests := []struct {
			expr, want string
		}{
			{"emgcacheFormat.ns(0)", "0 ns"},
			{"emgcacheFormat.ns(850)", "850 ns"},
			{"emgcacheFormat.ns(1500)", "1.50 µs"},
			{"emgcacheFormat.ns(42300)", "42.3 µs"},
			{"emgcacheFormat.ns(999400)", "999 µs"},
			{"emgcacheFormat.ns(2.5e6)", "2.50 ms"},
			{"emgcacheFormat.ns(3e9)", "3.00 s"},
			{"emgcacheFormat.bytes(256 * 1024 * 1024)", "256.0 MiB"},
		}
		for _, tt := range tests {
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](tt.expr))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got, tt.expr)
		}
	})

	t.Run("draws the charts", func(t *testing.T) {
		for _, id := range []string{"chart-hit-rate", "chart-reads", "chart-memory", "chart-latency"} {
			// Counts painted pixels: axes and labels at least, lines once
			// there are points.
			painted, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`(() => {
				const c = document.getElementById(%q);
				const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
				let n = 0;
				for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
				return n;
			})()`, id)))
			require.NoError(t, err)
			assert.Greater(t, painted, 500, "canvas %s looks empty", id)
		}
	})

	if *updateScreenshot {
		makeScreenshotTraffic(t, cache)
	}

	t.Run("screenshot", func(t *testing.T) {
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		cfg, err := png.DecodeConfig(bytes.NewReader(shot))
		require.NoError(t, err)
		assert.Equal(t, 1280, cfg.Width)
		if *updateScreenshot {
			out := filepath.Join("..", "..", "docs", "dashboard.png")
			require.NoError(t, os.WriteFile(out, shot, 0o644))
			t.Logf("wrote %s (%dx%d)", out, cfg.Width, cfg.Height)
		}
	})

	t.Run("shows an unhealthy backend", func(t *testing.T) {
		require.NoError(t, redis.Kill())
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			f, err := figures(ctx)
			if assert.NoError(c, err) {
				assert.Equal(c, "Unhealthy", f.Text["health-state"])
				assert.Equal(c, "bad", f.Value["health-state"])
			}
		}, browserWait, 50*time.Millisecond)
	})

	for _, m := range console() {
		if m.Type == chromedp.ConsoleError || m.IsException() || m.Type == chromedp.ConsoleWarning {
			t.Errorf("the page logged %s", m)
		}
	}
}

// makeScreenshotTraffic runs a minute's worth of varied traffic in a few
// seconds, so that the charts of the screenshot have something to show.
func makeScreenshotTraffic(t *testing.T, cache *store.Cache) {
	t.Helper()
	value := bytes.Repeat([]byte(`{"channel":"EMG L","rms":0.42}`), 200)
	for round := range 60 {
		for j := range 40 {
			require.NoError(t, cache.Set(t.Context(), fmt.Sprintf("analysis:%d-%d", round, j), value, 0))
		}
		// The hit rate swings between about 75% and 97%.
		hitRate := 0.86 + 0.11*math.Sin(float64(round)/5)
		for j := range 200 {
			key := fmt.Sprintf("analysis:%d-%d", round, j%40)
			if float64(j%100)/100 >= hitRate {
				key = fmt.Sprintf("analysis:absent-%d-%d", round, j)
			}
			_, _ = cache.Get(t.Context(), key)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Let the page poll the final figures.
	time.Sleep(500 * time.Millisecond)
}
