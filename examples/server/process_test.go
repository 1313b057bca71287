package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testMaxUpload is the upload limit the end-to-end servers run with: small,
// so that the 413 test sends little, and well above the sample recording.
const testMaxUpload = 1 << 20

// waitLimit bounds every wait for the server: for a log line, for the cache
// to report a state. It is a guard against hanging, not an expectation.
const waitLimit = 30 * time.Second

// serverProcess is the server binary running as a child process on a free
// port, with its JSON log collected.
type serverProcess struct {
	cmd    *exec.Cmd
	addr   string // host:port it listens on
	base   string // http://host:port
	client *http.Client

	mu     sync.Mutex
	logs   []map[string]any
	raw    []string
	stderr bytes.Buffer
	grew   chan struct{} // receives after each new log line, capacity 1

	exited  chan struct{}
	waitErr error // valid once exited is closed
}

// startServer starts the server with a fresh database, the embedded cache
// unless env sets REDIS_URL, and env added to a clean environment. It
// returns once the server is listening; the test's cleanup kills it if it
// is still running and, if the test failed, prints its log.
func startServer(t *testing.T, env ...string) *serverProcess {
	t.Helper()
	bin := serverBinary(t)
	cmd := exec.Command(bin,
		"-addr", "127.0.0.1:0",
		"-db", filepath.Join(t.TempDir(), "emg.db"),
		"-log-format", "json",
		"-max-upload", strconv.Itoa(testMaxUpload),
	)
	cmd.Env = append(cleanEnv(), env...)
	s := &serverProcess{
		cmd:    cmd,
		grew:   make(chan struct{}, 1),
		exited: make(chan struct{}),
	}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = lockedWriter{&s.mu, &s.stderr}
	require.NoError(t, cmd.Start())
	go s.collect(stdout)

	transport := &http.Transport{}
	s.client = &http.Client{Transport: transport, Timeout: waitLimit}
	t.Cleanup(func() {
		transport.CloseIdleConnections()
		select {
		case <-s.exited:
		default:
			_ = cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			s.mu.Lock()
			t.Logf("server log:\n%s\nstderr:\n%s", strings.Join(s.raw, "\n"), s.stderr.String())
			s.mu.Unlock()
		}
	})

	rec := s.waitLog(t, "listening")
	addr, ok := rec["addr"].(string)
	require.True(t, ok, "listening record without addr: %v", rec)
	s.addr, s.base = addr, "http://"+addr
	return s
}

// cleanEnv is the test's environment without the variables the server
// reads, so that a developer's settings cannot change what is tested.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name == "REDIS_URL" || name == envAdminToken || name == envAddr || strings.HasPrefix(name, "EMGCACHE_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// collect reads the log until the process closes its output, then reaps
// the process.
func (s *serverProcess) collect(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			rec = map[string]any{"msg": "(not JSON)", "line": line}
		}
		s.mu.Lock()
		s.logs = append(s.logs, rec)
		s.raw = append(s.raw, line)
		s.mu.Unlock()
		select {
		case s.grew <- struct{}{}:
		default:
		}
	}
	_, _ = io.Copy(io.Discard, stdout)
	s.waitErr = s.cmd.Wait()
	close(s.exited)
}

// findLog returns the first record with message msg.
func (s *serverProcess) findLog(msg string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rec := range s.logs {
		if rec["msg"] == msg {
			return rec, true
		}
	}
	return nil, false
}

// waitLog waits for a record with message msg and returns it.
func (s *serverProcess) waitLog(t *testing.T, msg string) map[string]any {
	t.Helper()
	timeout := time.After(waitLimit)
	for {
		if rec, ok := s.findLog(msg); ok {
			return rec
		}
		select {
		case <-s.grew:
		case <-s.exited:
			if rec, ok := s.findLog(msg); ok {
				return rec
			}
			t.Fatalf("server exited (%v) without logging %q", s.waitErr, msg)
		case <-timeout:
			t.Fatalf("server did not log %q within %v", msg, waitLimit)
		}
	}
}

// logText returns the whole log as written.
func (s *serverProcess) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.raw, "\n")
}

// wait waits for the process to exit and returns what cmd.Wait returned.
func (s *serverProcess) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-s.exited:
		return s.waitErr
	case <-time.After(waitLimit):
		t.Fatalf("server still running %v after being told to stop", waitLimit)
		return nil
	}
}

// response is a response read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with the given body (nil for none) and headers
// ("Name", "value" pairs) and reads the response.
func (s *serverProcess) do(t *testing.T, method, path string, body io.Reader, headers ...string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.base+path, body)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.client.Do(req)
	require.NoError(t, err, "%s %s", method, path)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (s *serverProcess) get(t *testing.T, path string) response {
	t.Helper()
	return s.do(t, http.MethodGet, path, nil)
}

// upload posts a recording.
func (s *serverProcess) upload(t *testing.T, query string, body []byte) response {
	t.Helper()
	return s.do(t, http.MethodPost, "/api/emg/files"+query, bytes.NewReader(body), "Content-Type", "text/csv")
}

// object decodes a JSON object body.
func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	require.Equal(t, "application/json", r.header.Get("Content-Type"), "body: %s", r.body)
	var v map[string]any
	require.NoError(t, json.Unmarshal(r.body, &v), "body: %s", r.body)
	return v
}

// requireError checks that r is an error response with the given status
// and a JSON {"error": "..."} body, and returns the message.
func (r response) requireError(t *testing.T, status int) string {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	msg, ok := r.object(t)["error"].(string)
	require.True(t, ok && msg != "", "no error message in %s", r.body)
	return msg
}

// lockedWriter serialises writes to w with mu, which readers of w hold too.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// A configuration error ends the process with status 1, said once (in the
// log) and under the environment variable the operator set.
func TestFatalErrorIsPrintedOnce(t *testing.T) {
	bin := serverBinary(t)
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-db", ":memory:")
	cmd.Env = append(cleanEnv(), "EMGCACHE_STALE_BYTES=-1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "output:\n%s", out)
	require.Equal(t, 1, exit.ExitCode(), "output:\n%s", out)
	const want = `EMGCACHE_STALE_BYTES=\"-1\" is negative`
	require.Equal(t, 1, strings.Count(string(out), want), "the error once, naming the variable; output:\n%s", out)
	require.NotContains(t, string(out), "StaleBytes", "the Go field is not what the operator set")
}
