package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	gocache "github.com/go-redis/cache/v9"
	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"github.com/emgcache/emgcache/emg"
	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// keyPrefix is the store's key prefix; the other clients spell it out so
// that every client reads and writes the very same Redis keys.
const keyPrefix = "bench:"

// localTTL bounds the local tiers of rueidis and go-redis/cache. An hour,
// so that no entry expires in the middle of a run and turns a local hit
// into a round trip.
const localTTL = time.Hour

// opTimeout bounds the store's round trips like go-redis's default read
// timeout bounds its own. The store's default, 500 ms, is a service's
// choice: on a saturated machine, 16 concurrent 1 MiB reads can exceed it,
// open the breaker and fail the benchmark, while go-redis waits.
const opTimeout = 3 * time.Second

// parallelism is the number of goroutines per GOMAXPROCS that RunParallel
// benchmarks use: a server handles many more requests at once than it has
// cores, and a round-trip client only shows how it pipelines or pools under
// that kind of concurrency.
const parallelism = 8

// valueSizes are the value sizes of the byte reads and writes.
var valueSizes = []struct {
	name string
	n    int
}{
	{"1KiB", 1 << 10},
	{"100KiB", 100 << 10},
	{"1MiB", 1 << 20},
}

// clients holds every client under comparison, all connected to one Redis.
type clients struct {
	srv *storetest.Server
	// store is the emgcache store as a service would open it: the
	// defaults (client-side caching on) but for opTimeout.
	store *store.Cache
	// storeRoundTrip is the store with client-side caching off, so every
	// read is a round trip: the store's overhead over a bare client.
	storeRoundTrip *store.Cache
	// patterns runs on store.
	patterns *patterns.Layer
	rueidis  rueidis.Client
	goredis  *goredis.Client
	// gocache is go-redis/cache with its local TinyLFU tier and its default
	// codec (msgpack, s2 compression above 64 bytes; []byte is stored raw).
	gocache      *gocache.Cache
	gocacheLocal *gocache.TinyLFU
	// gocacheJSON is gocache with a JSON codec, so that typed reads compare
	// the cache layers rather than the codecs.
	gocacheJSON *gocache.Cache
}

// newClients starts a private Redis and connects every client to it. The
// server and clients are closed when tb ends.
func newClients(tb testing.TB) *clients {
	tb.Helper()
	ctx := context.Background()
	srv := storetest.NewServer(tb)
	c := &clients{srv: srv}
	c.store = openStore(tb, store.Config{URL: srv.URL(), KeyPrefix: keyPrefix, OpTimeout: opTimeout})
	c.storeRoundTrip = openStore(tb, store.Config{URL: srv.URL(), KeyPrefix: keyPrefix, OpTimeout: opTimeout, ClientCacheBytes: -1})
	c.patterns = patterns.New(c.store, patterns.Options{})
	tb.Cleanup(func() { _ = c.patterns.Close() })

	var err error
	c.rueidis, err = rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr()}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.rueidis.Close)

	c.goredis = goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	tb.Cleanup(func() { _ = c.goredis.Close() })
	if err := c.goredis.Ping(ctx).Err(); err != nil {
		tb.Fatal(err)
	}
	c.gocacheLocal = gocache.NewTinyLFU(10_000, localTTL)
	c.gocache = gocache.New(&gocache.Options{Redis: c.goredis, LocalCache: c.gocacheLocal})
	c.gocacheJSON = gocache.New(&gocache.Options{
		Redis:      c.goredis,
		LocalCache: gocache.NewTinyLFU(10_000, localTTL),
		Marshal:    json.Marshal,
		Unmarshal:  json.Unmarshal,
	})
	return c
}

func openStore(tb testing.TB, cfg store.Config) *store.Cache {
	tb.Helper()
	c, err := store.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// value returns n deterministic bytes that do not compress, so that no
// layer gains from a run of zeros.
func value(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// Analysis and ChannelAnalysis are the value most read: the example
// server's analysis result.
type (
	Analysis        = emg.Analysis
	ChannelAnalysis = emg.ChannelAnalysis
)

// synthAnalysis returns the analysis of a synthesized recording with the
// given number of channels and seconds at 2 kHz, with the default 250 ms
// half-overlapping windows: a real result of emg.Analyze, so that encoding
// it costs what encoding the server's result costs.
func synthAnalysis(tb testing.TB, channels int, seconds float64) Analysis {
	tb.Helper()
	names := make([]string, channels)
	for i := range names {
		names[i] = fmt.Sprintf("channel_%d", i)
	}
	rec := emg.Synthesize(emg.SynthOptions{DurationSeconds: seconds, Channels: names})
	a, err := emg.Analyze(rec, emg.AnalysisOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return *a
}

// analysisShapes are the typed values read as JSON: the example's shipped
// sample (4 channels, 2 s at 2 kHz) and a longer session (8 channels, 60 s),
// both with 250 ms half-overlapping windows.
var analysisShapes = []struct {
	name     string
	channels int
	seconds  float64
}{
	{"sample-4ch-2s", 4, 2},
	{"session-8ch-60s", 8, 60},
}
