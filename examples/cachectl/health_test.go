package main

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/health"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

func TestHealth(t *testing.T) {
	tests := []struct {
		name       string
		server     func(t *testing.T) string
		args       []string
		wantCode   int
		wantOut    []string
		wantErrOut string
	}{
		{
			name:     "healthy",
			server:   func(t *testing.T) string { return serveAPI(t, openMemory(t), health.Options{}) },
			wantCode: exitOK,
			wantOut:  []string{`(?m)^status +healthy$`, `(?m)^backend +memory$`, `(?m)^breaker +closed$`, `(?m)^latency +[0-9.]+ (µs|ms)$`},
		},
		{
			name: "unhealthy when redis is gone",
			server: func(t *testing.T) string {
				redis := storetest.NewServer(t)
				cache := openCache(t, store.Config{URL: redis.URL()})
				require.NoError(t, redis.Kill())
				return serveAPI(t, cache, health.Options{})
			},
			wantCode: exitFailed,
			wantOut:  []string{`(?m)^status +unhealthy$`, `(?m)^backend +redis$`, `(?m)^error: .+`},
		},
		{
			name: "no server",
			server: func(t *testing.T) string {
				srv := httptest.NewServer(nil)
				srv.Close()
				return srv.URL
			},
			// The client retries refused connections; the timeout keeps the
			// test short.
			args:       []string{"-timeout", "300ms"},
			wantCode:   exitError,
			wantErrOut: "cachectl health: no answer from http://127.0.0.1:",
		},
		{
			name: "no cache api at the url",
			server: func(t *testing.T) string {
				return serveAPI(t, openMemory(t), health.Options{}) + "/elsewhere"
			},
			wantCode:   exitError,
			wantErrOut: "/elsewhere: check -server or $CACHECTL_SERVER",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-server", tt.server(t)}, tt.args...)
			code, out, errOut := cachectl(t, append(args, "health")...)
			assert.Equal(t, tt.wantCode, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
			for _, want := range tt.wantOut {
				assert.Regexp(t, want, out)
			}
			if tt.wantErrOut != "" {
				assert.Contains(t, errOut, tt.wantErrOut)
			} else {
				assert.Empty(t, errOut)
			}
		})
	}
}
