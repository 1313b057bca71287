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

	p := startRun(t, map[string]string{"REDIS_URL": redis.URL(), envAdminToken: "in-process"})
	assert.Equal(t, http.StatusServiceUnavailable, p.get(t, "/api/cache/health").StatusCode)
	hash := p.uploadSample(t)
	assert.Equal(t, http.StatusOK, p.get(t, "/api/emg/files/"+hash).StatusCode)
	assert.Equal(t, http.StatusOK, p.get(t, "/api/emg/analysis/"+hash).StatusCode)

	logs := p.stop(t)
	assert.Contains(t, logs, `"msg":"cache unavailable at start; serving from the database until it answers"`)
	assert.Contains(t, logs, `"msg":"shutting down"`)
	assert.Contains(t, logs, `"msg":"stopped"`)
	assert.NotContains(t, logs, "in-process", "the admin token is not logged")
}

// inProcess is the program run in this process by startRun, and a client
// of it.
type inProcess struct {
	addr      string
	transport *http.Transport
	client    *http.Client
	out       *syncBuffer
	cancel    context.CancelFunc
	done      <-chan error
}

// startRun runs the program in this process on a free port, with an
// in-memory database, JSON logs and the environment env, and waits for it
// to listen.
func startRun(t *testing.T, env map[string]string) *inProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", ":memory:", "-log-format", "json"}, envOf(env), out)
	}()
	p := &inProcess{addr: waitListening(t, out, done), transport: &http.Transport{}, out: out, cancel: cancel, done: done}
	t.Cleanup(p.transport.CloseIdleConnections)
	p.client = &http.Client{Transport: p.transport, Timeout: waitLimit}
	return p
}

// get sends a GET of path and returns the response, its body read.
func (p *inProcess) get(t *testing.T, path string) *http.Response {
	t.Helper()
	resp, err := p.client.Get("http://" + p.addr + path)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// uploadSample uploads the shipped sample and returns its file hash.
func (p *inProcess) uploadSample(t *testing.T) string {
	t.Helper()
	sample, err := os.ReadFile(sampleFile)
	require.NoError(t, err)
	resp, err := p.client.Post("http://"+p.addr+"/api/emg/files?sample_rate=2000", "text/csv", bytes.NewReader(sample))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	return sha256Hex(sample)
}

// stop ends the program's context, requires it to return nil in time, and
// returns all it wrote.
func (p *inProcess) stop(t *testing.T) string {
	t.Helper()
	p.transport.CloseIdleConnections()
	p.cancel()
	select {
	case err := <-p.done:
		require.NoError(t, err)
	case <-time.After(waitLimit):
		t.Fatalf("run still running %v after its context ended", waitLimit)
	}
	return p.out.String()
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
