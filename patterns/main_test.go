package patterns_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

func TestMain(m *testing.M) {
	// rueidis closes connections to nodes that left a cluster five seconds
	// after a topology refresh, in a goroutine of its own that ends by itself.
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*clusterClient)._refresh.func2"))
}

// backend is a way to open a cache: the embedded backend, or a private
// redis-server started for the test.
type backend struct {
	name string
	open func(t *testing.T, cfg store.Config) *store.Cache
}

// backends returns both store backends, so that every pattern is tested on
// each.
func backends() []backend {
	return []backend{
		{"memory", func(t *testing.T, cfg store.Config) *store.Cache {
			t.Helper()
			cfg.URL = ""
			return openCache(t, cfg)
		}},
		{"redis", func(t *testing.T, cfg store.Config) *store.Cache {
			t.Helper()
			cfg.URL = storetest.NewServer(t).URL()
			return openCache(t, cfg)
		}},
	}
}

func openCache(t testing.TB, cfg store.Config) *store.Cache {
	t.Helper()
	c, err := store.Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newPatterns returns patterns on c that are closed, so that their
// background work is waited for, before c is.
func newPatterns(t testing.TB, c *store.Cache, opts patterns.Options) *patterns.Layer {
	t.Helper()
	p := patterns.New(c, opts)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// errorLog records what Options.OnError is told.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorLog) onError(_ context.Context, _ string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *errorLog) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}
