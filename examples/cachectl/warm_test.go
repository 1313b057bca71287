package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	hashA = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b"
	hashB = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

// origin is a test server standing in for the EMG server: it records the
// requests it gets, fails /fail, and says /hit came from the cache.
type origin struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string // request URIs in arrival order
	inFlight atomic.Int64
	peak     atomic.Int64
	// onRequest, when set, runs at the start of every request.
	onRequest func()
}

func newOrigin(t *testing.T) *origin {
	t.Helper()
	o := &origin{}
	o.Server = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.Close)
	return o
}

func (o *origin) serve(w http.ResponseWriter, r *http.Request) {
	n := o.inFlight.Add(1)
	defer o.inFlight.Add(-1)
	for {
		p := o.peak.Load()
		if n <= p || o.peak.CompareAndSwap(p, n) {
			break
		}
	}
	o.mu.Lock()
	o.requests = append(o.requests, r.URL.RequestURI())
	o.mu.Unlock()
	if o.onRequest != nil {
		o.onRequest()
	}
	switch r.URL.Path {
	case "/fail":
		http.Error(w, "analysis failed", http.StatusInternalServerError)
		return
	case "/hit":
		w.Header().Set("Cache-Status", "emgcache; hit; ttl=42")
	}
	_, _ = w.Write([]byte(`{"ok":true}`))
}

func (o *origin) got() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.requests...)
}

// entriesFile writes the lines to a file and returns its name.
func entriesFile(t *testing.T, lines ...string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "entries.txt")
	require.NoError(t, os.WriteFile(name, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	return name
}

func TestWarm(t *testing.T) {
	tests := []struct {
		name     string
		terminal bool
		// lines are the entries file; {origin} stands for the test server's
		// URL.
		lines []string
		flags []string
		// wantRequests are the request URIs the server must get, in order
		// when ordered is set.
		wantRequests []string
		ordered      bool
		wantCode     int
		wantOut      []string
		wantErrOut   []string
	}{
		{
			name: "every kind of entry",
			lines: []string{
				"# a comment, then a blank line",
				"",
				"{origin}/by-url",
				"/by-path   # a trailing comment",
				"relative/path?x=1",
				strings.ToUpper(hashA),
				"{origin}/by-url  7 # listed again, loaded once",
			},
			wantRequests: []string{"/by-url", "/by-path", "/relative/path?x=1", "/api/emg/analysis/" + hashA},
			wantCode:     exitOK,
			wantOut:      []string{"warmed 4 of 4 entries: 4 loaded, 0 failed\n"},
		},
		{
			name:         "a failing entry",
			lines:        []string{"/ok", "{origin}/fail", hashB},
			wantRequests: []string{"/ok", "/fail", "/api/emg/analysis/" + hashB},
			wantCode:     exitFailed,
			wantOut: []string{
				"warmed 2 of 3 entries: 2 loaded, 1 failed\n",
				"  line 2: {origin}/fail: HTTP 500 Internal Server Error\n",
			},
		},
		{
			name: "higher priorities first, then file order",
			lines: []string{
				"/p0-first",
				"/p5 5",
				"/p-1 -1",
				"/p0-second 0",
				"/p9 9",
				"/p5-second 5",
			},
			flags:        []string{"-concurrency", "1"},
			wantRequests: []string{"/p9", "/p5", "/p5-second", "/p0-first", "/p0-second", "/p-1"},
			ordered:      true,
			wantCode:     exitOK,
			wantOut:      []string{"warmed 6 of 6 entries: 6 loaded, 0 failed\n"},
		},
		{
			name:         "entries already cached are counted",
			lines:        []string{"/hit", "/miss"},
			wantRequests: []string{"/hit", "/miss"},
			wantCode:     exitOK,
			wantOut:      []string{"warmed 2 of 2 entries: 2 loaded (1 already cached), 0 failed\n"},
		},
		{
			name:         "progress bar on a terminal",
			terminal:     true,
			lines:        []string{"/a", "/fail", "/b"},
			wantRequests: []string{"/a", "/fail", "/b"},
			wantCode:     exitFailed,
			wantErrOut: []string{
				"failed: {origin}/fail: HTTP 500 Internal Server Error\n",
				"\r[" + strings.Repeat("#", barWidth) + "] 100%  3/3  loaded 2  failed 1",
			},
		},
		{
			name:       "bad lines are all reported and nothing is loaded",
			lines:      []string{"/fine", "/a 1 2", "/b high", "xyz", "ftp://host/file"},
			wantCode:   exitError,
			wantErrOut: []string{"line 2: 3 fields", `line 3: priority "high" is not an integer`, `line 4: "xyz" is neither`, `line 5: entry "ftp://host/file": not an http or https URL`},
		},
		{
			name:     "an empty file",
			lines:    []string{"# nothing yet"},
			wantCode: exitOK,
			wantOut:  []string{"nothing to warm: "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.terminal {
				pretendTerminal(t)
			}
			o := newOrigin(t)
			lines := make([]string, len(tt.lines))
			for i, l := range tt.lines {
				lines[i] = strings.ReplaceAll(l, "{origin}", o.URL)
			}
			args := append([]string{"-server", o.URL, "warm", "-file", entriesFile(t, lines...)}, tt.flags...)

			code, out, errOut := cachectl(t, args...)

			assert.Equal(t, tt.wantCode, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
			for _, want := range tt.wantOut {
				assert.Contains(t, out, strings.ReplaceAll(want, "{origin}", o.URL))
			}
			for _, want := range tt.wantErrOut {
				assert.Contains(t, errOut, strings.ReplaceAll(want, "{origin}", o.URL))
			}
			if tt.wantErrOut == nil {
				assert.Empty(t, errOut)
			}
			if tt.ordered {
				assert.Equal(t, tt.wantRequests, o.got())
			} else {
				assert.ElementsMatch(t, tt.wantRequests, o.got())
			}
		})
	}
}

func TestWarmConcurrencyIsBounded(t *testing.T) {
	o := newOrigin(t)
	var lines []string
	for i := range 40 {
		lines = append(lines, "/entry/"+strings.Repeat("x", i))
	}
	code, out, errOut := cachectl(t, "-server", o.URL, "warm", "-file", entriesFile(t, lines...), "-concurrency", "3")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "warmed 40 of 40 entries")
	assert.Len(t, o.got(), 40)
	assert.LessOrEqual(t, o.peak.Load(), int64(3))
}

func TestWarmStopsWhenContextEnds(t *testing.T) {
	o := newOrigin(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// Ctrl-C while the first entry loads.
	o.onRequest = cancel
	var out, errOut bytes.Buffer

	code := run(ctx, []string{"-server", o.URL, "warm", "-concurrency", "1", "-file", entriesFile(t, "/a", "/b", "/c")}, &out, &errOut)

	assert.Equal(t, exitFailed, code, errOut.String())
	assert.Equal(t, []string{"/a"}, o.got(), "entries were requested after the interrupt")
	// Whether /a itself counts as loaded depends on which the client sees
	// first, its response or the interrupt; /b and /c are never attempted.
	assert.Regexp(t, `(0 loaded, 0 failed, 3|1 loaded, 0 failed, 2) not attempted \(interrupted\)`, out.String())
}

func TestWarmUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantErrOut string
	}{
		{"no file flag", []string{"warm"}, "-file is required"},
		{"no such file", []string{"warm", "-file", filepath.Join(t.TempDir(), "missing.txt")}, "read entries: open "},
		{"no concurrency", []string{"warm", "-file", "x", "-concurrency", "0"}, "-concurrency must be at least 1"},
		{"an argument", []string{"warm", "-file", "x", "extra"}, "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cachectl(t, tt.args...)
			assert.Equal(t, exitError, code)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tt.wantErrOut)
		})
	}
}

func TestEntryURL(t *testing.T) {
	tests := []struct {
		name, entry, server, want, wantErr string
	}{
		{"url", "https://emg.example/api/x?y=1", "http://s", "https://emg.example/api/x?y=1", ""},
		{"path", "/api/emg/files", "http://s:8080", "http://s:8080/api/emg/files", ""},
		{"path under a server path", "/api/x", "http://proxy/emg/", "http://proxy/emg/api/x", ""},
		{"relative path", "api/x", "http://s", "http://s/api/x", ""},
		{"sha-256 hash", hashA, "http://s", "http://s/api/emg/analysis/" + hashA, ""},
		{"upper-case hash", strings.ToUpper(hashB), "http://s", "http://s/api/emg/analysis/" + hashB, ""},
		{"md5 hash", "d41d8cd98f00b204e9800998ecf8427e", "http://s", "http://s/api/emg/analysis/d41d8cd98f00b204e9800998ecf8427e", ""},
		{"short hex", "cafe", "http://s", "", "neither a URL"},
		{"word", "stats", "http://s", "", "neither a URL"},
		{"other scheme", "ftp://h/x", "http://s", "", "not an http or https URL"},
		{"no host", "http:///x", "http://s", "", "not an http or https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := entryURL(tt.entry, tt.server)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCacheHit(t *testing.T) {
	for status, want := range map[string]bool{
		"emgcache; hit; ttl=42": true,
		"emgcache; hit":         true,
		"emgcache; fwd=uri-miss; fwd-status=200; stored": false,
		"emgcache; fwd=bypass; detail=hit":               false,
		"":                                               false,
	} {
		assert.Equal(t, want, cacheHit(status), status)
	}
}

// hot-files.txt, which the README tells newcomers to warm with, names the
// recording the README uploads.
func TestHotFilesNameTheSampleRecording(t *testing.T) {
	sample, err := os.ReadFile("../server/testdata/sample_emg.csv")
	require.NoError(t, err)
	sum := sha256.Sum256(sample)
	hash := hex.EncodeToString(sum[:])

	f, err := os.Open("hot-files.txt")
	require.NoError(t, err)
	defer f.Close()
	const server = "http://localhost:8080"
	entries, err := parseWarmFile(f, server)
	require.NoError(t, err)
	var urls []string
	for _, e := range entries {
		urls = append(urls, e.url)
	}
	assert.Equal(t, []string{server + analysisPath + hash, server + "/api/emg/files/" + hash}, urls)
}
