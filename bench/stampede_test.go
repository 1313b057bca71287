package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gocache "github.com/go-redis/cache/v9"
	goredis "github.com/redis/go-redis/v9"

	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
)

// stampedeLoad is how long the origin takes in the stampede: the low end of
// the seed's "50–100 ms database queries".
const stampedeLoad = 50 * time.Millisecond

// stampedeCallers is how many requests arrive at once for one missing key.
const stampedeCallers = 100

// fill is one process's cache-aside read: it returns the value of key,
// calling load on a miss.
type fill func(ctx context.Context, key string, load func(context.Context) (Analysis, error)) (Analysis, error)

// stampedeCase is one way to serve a stampede: fills holds one fill per
// simulated process, each with its own connections and local state, as
// separate processes sharing one Redis would have.
type stampedeCase struct {
	name  string
	fills []fill
}

// stampedeCases returns the cache-aside implementations for processes
// simulated processes sharing srv's Redis. The first is the baseline:
// go-redis/cache Once, which removes duplicate loads within a process.
func stampedeCases(tb testing.TB, c *clients, processes int) []stampedeCase {
	tb.Helper()
	var onceFills, asideFills, noCacheFills []fill
	for range processes {
		rdb := goredis.NewClient(&goredis.Options{Addr: c.srv.Addr()})
		tb.Cleanup(func() { _ = rdb.Close() })
		gc := gocache.New(&gocache.Options{Redis: rdb, LocalCache: gocache.NewTinyLFU(1000, localTTL)})
		onceFills = append(onceFills, func(ctx context.Context, key string, load func(context.Context) (Analysis, error)) (a Analysis, err error) {
			err = gc.Once(&gocache.Item{Ctx: ctx, Key: keyPrefix + key, Value: &a, TTL: time.Hour,
				Do: func(it *gocache.Item) (any, error) { return load(it.Context()) }})
			return a, err
		})

		p := patterns.New(openStore(tb, store.Config{URL: c.srv.URL(), KeyPrefix: keyPrefix, OpTimeout: opTimeout}), patterns.Options{})
		tb.Cleanup(func() { _ = p.Close() })
		asideFills = append(asideFills, func(ctx context.Context, key string, load func(context.Context) (Analysis, error)) (Analysis, error) {
			return patterns.Aside(ctx, p, key, time.Hour, load)
		})

		noCacheFills = append(noCacheFills, func(ctx context.Context, _ string, load func(context.Context) (Analysis, error)) (Analysis, error) {
			return load(ctx)
		})
	}
	return []stampedeCase{
		{"go-redis-cache-Once", onceFills},
		{"patterns-Aside", asideFills},
		// Every request goes to the origin: what a stampede costs without a
		// cache, or with a cache that does nothing about concurrent misses.
		{"no-cache", noCacheFills},
	}
}

// stampede sends callers concurrent reads of the missing key, spread over
// the case's processes, releases them at once and waits for all. It returns
// how many of them failed.
func stampede(ctx context.Context, sc stampedeCase, key string, callers int, load func(context.Context) (Analysis, error)) int {
	var failed atomic.Int32
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		ready.Add(1)
		done.Add(1)
		go func(f fill) {
			defer done.Done()
			ready.Done()
			<-start
			if a, err := f(ctx, key, load); err != nil || len(a.Channels) == 0 {
				failed.Add(1)
			}
		}(sc.fills[i%len(sc.fills)])
	}
	ready.Wait()
	close(start)
	done.Wait()
	return int(failed.Load())
}

// countingLoader returns a loader that takes d and counts its calls.
func countingLoader(calls *atomic.Int64, d time.Duration, a Analysis) func(context.Context) (Analysis, error) {
	return func(ctx context.Context) (Analysis, error) {
		calls.Add(1)
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return Analysis{}, ctx.Err()
		case <-t.C:
			return a, nil
		}
	}
}

// BenchmarkStampede sends 100 concurrent requests for one missing key whose
// load takes 50 ms, in one process and spread over four, and reports the
// loader calls per stampede (loader-calls/op) beside the time until every
// request has its value (ns/op).
func BenchmarkStampede(b *testing.B) {
	c := newClients(b)
	ctx := context.Background()
	a := synthAnalysis(b, 4, 2)
	// seq makes every stampede's key new: -count reruns a sub-benchmark
	// against the same Redis, where an earlier run's keys are still cached.
	var seq atomic.Int64
	for _, processes := range []int{1, 4} {
		for _, sc := range stampedeCases(b, c, processes) {
			name := fmt.Sprintf("callers=%d/processes=%d/client=%s", stampedeCallers, processes, sc.name)
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				var calls atomic.Int64
				load := countingLoader(&calls, stampedeLoad, a)
				stampedes := 0
				for b.Loop() {
					stampedes++
					key := fmt.Sprintf("stampede:%d", seq.Add(1))
					if failed := stampede(ctx, sc, key, stampedeCallers, load); failed > 0 {
						b.Fatalf("%d of %d callers failed", failed, stampedeCallers)
					}
				}
				b.ReportMetric(float64(calls.Load())/float64(stampedes), "loader-calls/op")
			})
		}
	}
}

// TestStampede checks that every caller of every case gets the value, so
// that the benchmark times complete stampedes.
func TestStampede(t *testing.T) {
	c := newClients(t)
	a := synthAnalysis(t, 2, 0.5)
	for _, sc := range stampedeCases(t, c, 2) {
		var calls atomic.Int64
		if failed := stampede(t.Context(), sc, "stampede-test:"+sc.name, 20, countingLoader(&calls, time.Millisecond, a)); failed > 0 {
			t.Errorf("%s: %d of 20 callers failed", sc.name, failed)
		}
		if calls.Load() == 0 {
			t.Errorf("%s: the loader never ran", sc.name)
		}
	}
}
