package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store/storetest"
)

func TestParseConfig(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		cfg, err := parseConfig(nil, envOf(nil), io.Discard)
		require.NoError(t, err)
		assert.Equal(t, defaultAddr, cfg.addr)
		assert.Equal(t, defaultDBPath, cfg.dbPath)
		assert.Equal(t, int64(defaultMaxUploadBytes), cfg.maxUploadBytes)
		assert.Equal(t, defaultShutdownTimeout, cfg.shutdownTimeout)
		assert.Empty(t, cfg.adminToken)
		assert.Empty(t, cfg.store.URL, "the embedded cache")
	})
	t.Run("environment", func(t *testing.T) {
		cfg, err := parseConfig(nil, envOf(map[string]string{
			envAddr:       "127.0.0.1:9000",
			envAdminToken: " secret \n",
			"REDIS_URL":   "redis://127.0.0.1:6390/0",
		}), io.Discard)
		require.NoError(t, err)
		assert.Equal(t, "127.0.0.1:9000", cfg.addr)
		assert.Equal(t, "secret", cfg.adminToken)
		assert.Equal(t, "redis://127.0.0.1:6390/0", cfg.store.URL)
	})
	t.Run("flags over environment", func(t *testing.T) {
		cfg, err := parseConfig([]string{"-addr", ":9001", "-db", ":memory:", "-max-upload", "1024", "-log-level", "debug"},
			envOf(map[string]string{envAddr: ":9000"}), io.Discard)
		require.NoError(t, err)
		assert.Equal(t, ":9001", cfg.addr)
		assert.Equal(t, ":memory:", cfg.dbPath)
		assert.Equal(t, int64(1024), cfg.maxUploadBytes)
		assert.Equal(t, "DEBUG", cfg.logLevel.String())
	})
}

func TestRunRejectsBadCommandLines(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want error
	}{
		{"help", []string{"-h"}, flag.ErrHelp},
		{"unknown flag", []string{"-port", "80"}, errUsage},
		{"stray argument", []string{"serve"}, errUsage},
		{"empty address", []string{"-addr", ""}, errUsage},
		{"zero upload limit", []string{"-max-upload", "0"}, errUsage},
		{"upload limit not a number", []string{"-max-upload", "32MiB"}, errUsage},
		{"negative shutdown timeout", []string{"-shutdown-timeout", "-1s"}, errUsage},
		{"unknown log format", []string{"-log-format", "xml"}, errUsage},
		{"unknown log level", []string{"-log-level", "loud"}, errUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(t.Context(), tc.args, envOf(nil), &out)
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, out.String(), "Usage: server")
		})
	}
}

// TestRunInProcess runs the program in this process, with Redis down from
// the start: it must serve from the database, and stop everything it
// started when its context ends (TestMain checks for leaked goroutines).
func TestRunInProcess(t *testing.T) {
	redis := storetest.NewServer(t)
	require.NoError(t, redis.Kill())

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", ":memory:", "-log-format", "json"},
			envOf(map[string]string{"REDIS_URL": redis.URL(), envAdminToken: "in-process"}), out)
	}()
	addr := waitListening(t, out, done)

	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: waitLimit}
	get := func(path string) *http.Response {
		resp, err := client.Get("http://" + addr + path)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	assert.Equal(t, http.StatusServiceUnavailable, get("/api/cache/health").StatusCode)

	sample, err := os.ReadFile("testdata/sample_emg.csv")
	require.NoError(t, err)
	resp, err := client.Post("http://"+addr+"/api/emg/files?sample_rate=2000", "text/csv", bytes.NewReader(sample))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	hash := sha256Hex(sample)
	assert.Equal(t, http.StatusOK, get("/api/emg/files/"+hash).StatusCode)
	assert.Equal(t, http.StatusOK, get("/api/emg/analysis/"+hash).StatusCode)

	transport.CloseIdleConnections()
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(waitLimit):
		t.Fatalf("run still running %v after its context ended", waitLimit)
	}
	logs := out.String()
	assert.Contains(t, logs, `"msg":"cache unavailable at start; serving from the database until it answers"`)
	assert.Contains(t, logs, `"msg":"shutting down"`)
	assert.Contains(t, logs, `"msg":"stopped"`)
	assert.NotContains(t, logs, "in-process", "the admin token is not logged")
}

// waitListening waits for run to log its address.
func waitListening(t *testing.T, out *syncBuffer, done <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		for line := range strings.SplitSeq(out.String(), "\n") {
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				return rec.Addr
			}
		}
		select {
		case err := <-done:
			t.Fatalf("run returned %v before listening; output:\n%s", err, out.String())
		default:
		}
		require.True(t, time.Now().Before(deadline), "run did not log its address within %v", waitLimit)
		time.Sleep(10 * time.Millisecond)
	}
}

// envOf returns a getenv reading m.
func envOf(m map[string]string) func(string) string {
	return func(name string) string { return m[name] }
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// make run tells a newcomer that the first build takes a while and lists
// the packages as they compile, instead of a silent `go run`.
func TestMakeRunBuildsVisiblyFirst(t *testing.T) {
	out, err := exec.Command("make", "-s", "-n", "-C", "../..", "run").CombinedOutput()
	require.NoError(t, err, "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	step := func(substr string) int {
		t.Helper()
		for i, l := range lines {
			if strings.Contains(l, substr) {
				return i
			}
		}
		t.Fatalf("make run has no step with %q:\n%s", substr, out)
		return -1
	}
	say, build, start := step("can take minutes"), step("build -v"), step("bin/server -addr")
	assert.Less(t, say, build, "the note comes before the build")
	assert.Less(t, build, start, "the build is its own step, before the server starts")
}
