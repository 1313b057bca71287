package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUsage(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    []string
		wantErrOut string
		// hidden must appear in no output.
		hidden string
	}{
		{
			name:     "-h",
			args:     []string{"-h"},
			wantCode: exitOK,
			wantOut:  []string{"Usage:\n  cachectl [flags] <command>", "Exit status:", "Examples:", "invalidate PATTERN", "warm -file F"},
		},
		{
			name:     "help",
			args:     []string{"help"},
			wantCode: exitOK,
			wantOut:  []string{"Commands:"},
		},
		{
			name:     "help of a command",
			args:     []string{"help", "watch"},
			wantCode: exitOK,
			wantOut:  []string{"Usage: cachectl watch [-interval D] [-count N]", "-interval duration", "-server URL"},
			// The server's default is said once, in the flag's text.
			hidden: `(default "http://localhost:8080")`,
		},
		{
			name:     "-h of a command",
			args:     []string{"warm", "-h"},
			wantCode: exitOK,
			wantOut:  []string{"Usage: cachectl warm -file F", "# today's recordings first", "-concurrency int"},
		},
		{
			name:     "the token is never shown",
			args:     []string{"-token", "s3cret-token", "invalidate", "-h"},
			wantCode: exitOK,
			wantOut:  []string{"-token token"},
			hidden:   "s3cret-token",
		},
		{
			name:       "no command",
			args:       nil,
			wantCode:   exitError,
			wantErrOut: "Usage:\n  cachectl",
		},
		{
			name:       "unknown command",
			args:       []string{"purge"},
			wantCode:   exitError,
			wantErrOut: `cachectl: unknown command "purge"; run 'cachectl -h' for usage`,
		},
		{
			name:       "unknown flag",
			args:       []string{"stats", "-verbose"},
			wantCode:   exitError,
			wantErrOut: "cachectl stats: flag provided but not defined: -verbose\nrun 'cachectl stats -h' for usage",
		},
		{
			name:       "help of an unknown command",
			args:       []string{"help", "purge"},
			wantCode:   exitError,
			wantErrOut: `unknown command "purge"`,
		},
		{
			name:       "negative timeout",
			args:       []string{"-timeout", "-1s", "health"},
			wantCode:   exitError,
			wantErrOut: "cachectl health: negative -timeout -1s",
		},
		{
			name:       "server that is not a url",
			args:       []string{"-server", "localhost:8080", "health"},
			wantCode:   exitError,
			wantErrOut: "cachectl health: base url",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cachectl(t, tt.args...)
			assert.Equal(t, tt.wantCode, code, "stderr: %s", errOut)
			for _, want := range tt.wantOut {
				assert.Contains(t, out, want)
			}
			if tt.wantErrOut == "" {
				assert.Empty(t, errOut)
			} else {
				assert.Contains(t, errOut, tt.wantErrOut)
				assert.Empty(t, out, "errors go to stderr")
			}
			if tt.hidden != "" {
				assert.NotContains(t, out+errOut, tt.hidden)
			}
		})
	}
}

func TestTable(t *testing.T) {
	var b strings.Builder
	require.NoError(t, writeTable(&b, []row{
		{"backend", "memory", ""},
		{"hits", "1,234", ""},
		{"hit rate", "75.0", "%"},
		{"latency p99", "12.5", "µs"},
		{"breaker", "half-open", ""},
	}))
	assert.Equal(t, ""+
		"backend      memory\n"+
		"hits             1,234\n"+
		"hit rate          75.0 %\n"+
		"latency p99       12.5 µs\n"+
		"breaker      half-open\n", b.String())
}

func TestFormats(t *testing.T) {
	counts := []struct {
		n    uint64
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1,000"}, {123456, "123,456"}, {1234567, "1,234,567"},
	}
	for _, tt := range counts {
		assert.Equal(t, tt.want, count(tt.n))
	}
	latencies := []struct {
		d    time.Duration
		want string
	}{
		{0, "0.0µs"},
		{1500 * time.Nanosecond, "1.5µs"},
		{999 * time.Microsecond, "999.0µs"},
		{1200 * time.Microsecond, "1.2ms"},
		{2500 * time.Millisecond, "2.50s"},
	}
	for _, tt := range latencies {
		assert.Equal(t, tt.want, compactLatency(tt.d), tt.d.String())
	}
}
