package main

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/health"
)

// pretendTerminal makes the program draw as it would on a terminal until
// the test ends.
func pretendTerminal(t *testing.T) {
	t.Helper()
	orig := isTerminal
	isTerminal = func(io.Writer) bool { return true }
	t.Cleanup(func() { isTerminal = orig })
}

func TestWatch(t *testing.T) {
	url := serveAPI(t, busyCache(t), health.Options{})
	down := httptest.NewServer(nil)
	down.Close()

	tests := []struct {
		name     string
		terminal bool
		args     []string
		wantCode int
		check    func(t *testing.T, out string)
	}{
		{
			name:     "appends one line per refresh",
			args:     []string{"-server", url, "watch", "-count", "2", "-interval", "10ms"},
			wantCode: exitOK,
			check: func(t *testing.T, out string) {
				lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
				require.Len(t, lines, 2, out)
				for _, l := range lines {
					assert.Regexp(t, `^\S+ status=healthy backend=memory breaker=closed requests=4 hits=3 local_hits=\d+ misses=1 hit_rate=75\.0% errors=0 memory_mb=[0-9.]+ p50=\S+ p90=\S+ p99=\S+ req_per_s=\S+$`, l)
				}
				assert.True(t, strings.HasSuffix(lines[0], "req_per_s=-"), "no rate before a second refresh: %s", lines[0])
				assert.NotContains(t, out, "\x1b", "escapes in plain output")
			},
		},
		{
			name:     "redraws in place on a terminal",
			terminal: true,
			args:     []string{"-server", url, "watch", "-count", "2", "-interval", "10ms"},
			wantCode: exitOK,
			check: func(t *testing.T, out string) {
				assert.Equal(t, 1, strings.Count(out, ansiClearScreen), "the screen is cleared once")
				assert.Equal(t, 2, strings.Count(out, ansiHome), "each refresh starts at the top")
				assert.Equal(t, 2, strings.Count(out, ansiClearBelow))
				assert.Regexp(t, `status +healthy`, out)
				assert.Regexp(t, `hit rate +75\.0 %`, out)
				assert.Contains(t, out, "every 10ms")
			},
		},
		{
			name:     "refreshes that fail are shown",
			args:     []string{"-server", down.URL, "-timeout", "100ms", "watch", "-count", "2", "-interval", "10ms"},
			wantCode: exitError,
			check: func(t *testing.T, out string) {
				lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
				require.Len(t, lines, 2, out)
				for _, l := range lines {
					assert.Regexp(t, `^\S+ error="no answer from http://127\.0\.0\.1:\d+ within -timeout 100ms.*"$`, l)
				}
			},
		},
		{
			name:     "bad interval",
			args:     []string{"-server", url, "watch", "-interval", "0s"},
			wantCode: exitError,
			check:    func(t *testing.T, out string) { assert.Empty(t, out) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.terminal {
				pretendTerminal(t)
			}
			code, out, errOut := cachectl(t, tt.args...)
			assert.Equal(t, tt.wantCode, code, "stderr: %s", errOut)
			tt.check(t, out)
		})
	}
}

// cancelOnWrite cancels a context at its first write, the way Ctrl-C would
// arrive while a view is on the screen.
type cancelOnWrite struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	cancel context.CancelFunc
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cancel()
	return w.buf.Write(p)
}

func TestWatchStopsWhenContextEnds(t *testing.T) {
	url := serveAPI(t, busyCache(t), health.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &cancelOnWrite{cancel: cancel}
	var errOut bytes.Buffer

	// No -count: only the context can end it. The interval is long so that
	// a second refresh would show the context was ignored.
	code := run(ctx, []string{"-server", url, "watch", "-interval", "1h"}, out, &errOut)

	assert.Equal(t, exitOK, code, errOut.String())
	assert.Equal(t, 1, strings.Count(out.buf.String(), "\n"), out.buf.String())
}
