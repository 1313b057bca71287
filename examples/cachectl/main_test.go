package main

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"os"
	"regexp"
	"testing"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/emgcache/emgcache/health"
	"github.com/emgcache/emgcache/store"
)

func TestMain(m *testing.M) {
	// The defaults must come from the flags of each test, not from the
	// environment of whoever runs them.
	_ = os.Unsetenv(envServer)
	_ = os.Unsetenv(envToken)
	goleak.VerifyTestMain(m)
}

const testToken = "cachectl-test-token-0123456789"

// cachectl runs the program in-process, as main would, and returns its exit
// status and output.
func cachectl(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// openMemory opens a cache on the embedded backend.
func openMemory(t *testing.T) *store.Cache {
	t.Helper()
	return openCache(t, store.Config{})
}

func openCache(t *testing.T, cfg store.Config) *store.Cache {
	t.Helper()
	c, err := store.Open(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// serveAPI runs the real monitoring API of cache, mounted as a server
// mounts it, and returns its base URL.
func serveAPI(t *testing.T, cache *store.Cache, opts health.Options) string {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := mux.NewRouter()
	health.New(cache, opts).Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL
}

// regexpLine returns the line of out that matches pattern, anchored at the
// start of a line, and fails the test when none does.
func regexpLine(t *testing.T, pattern, out string) string {
	t.Helper()
	m := regexp.MustCompile("(?m)^" + pattern).FindString(out)
	require.NotEmpty(t, m, "no line matches %q in:\n%s", pattern, out)
	return m
}
