package patterns_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// waitFor bounds how long a test waits for something to happen; it is a
// safety net against hangs, never a measure of speed.
const (
	waitFor = 10 * time.Second
	tick    = 5 * time.Millisecond
)

type analysis struct {
	RMS      float64   `json:"rms"`
	Channels []string  `json:"channels"`
	Peaks    []float64 `json:"peaks,omitempty"`
}

// countingLoader returns a loader that counts its calls and returns v.
func countingLoader[T any](calls *atomic.Int32, v T, err error) func(context.Context) (T, error) {
	return func(context.Context) (T, error) {
		calls.Add(1)
		return v, err
	}
}

func TestAside(t *testing.T) {
	ctx := context.Background()
	want := analysis{RMS: 0.42, Channels: []string{"biceps", "triceps"}}
	errBoom := errors.New("database on fire")

	cases := []struct {
		name string
		run  func(t *testing.T, p *patterns.Layer, log *errorLog)
	}{
		{"a miss loads and stores, a hit does not load", func(t *testing.T, p *patterns.Layer, log *errorLog) {
			var calls atomic.Int32
			for range 3 {
				got, err := patterns.Aside(ctx, p, "emg_analysis:aa", time.Hour, countingLoader(&calls, want, nil))
				require.NoError(t, err)
				assert.Equal(t, want, got)
			}
			assert.Equal(t, int32(1), calls.Load())
			stored, err := store.GetJSON[analysis](ctx, p.Cache(), "emg_analysis:aa")
			require.NoError(t, err, "the value is plain JSON that store.GetJSON reads")
			assert.Equal(t, want, stored)
			assert.Empty(t, log.all())
		}},
		{"a loader error is returned and not cached", func(t *testing.T, p *patterns.Layer, _ *errorLog) {
			var calls atomic.Int32
			for range 2 {
				_, err := patterns.Aside(ctx, p, "k", time.Hour, countingLoader(&calls, analysis{}, errBoom))
				require.ErrorIs(t, err, errBoom)
			}
			assert.Equal(t, int32(2), calls.Load())
			ok, err := p.Cache().Exists(ctx, "k")
			require.NoError(t, err)
			assert.False(t, ok, "no value, and the load's placeholder is gone")
		}},
		{"not found is cached with WithNegativeCache", func(t *testing.T, p *patterns.Layer, _ *errorLog) {
			var calls atomic.Int32
			notFound := fmt.Errorf("file aa: %w", patterns.ErrNotFound)
			for range 3 {
				_, err := patterns.Aside(ctx, p, "k", time.Hour, countingLoader(&calls, analysis{}, notFound), patterns.WithNegativeCache(time.Minute))
				require.ErrorIs(t, err, patterns.ErrNotFound)
				require.ErrorIs(t, err, store.ErrNotFound, "the same sentinel")
			}
			assert.Equal(t, int32(1), calls.Load())
			ttl, err := p.Cache().TTL(ctx, "k")
			require.NoError(t, err)
			assert.LessOrEqual(t, ttl, time.Minute, "cached for the short negative TTL")
			r := p.BatchGet(ctx, []string{"k"})
			require.ErrorIs(t, r[0].Err, patterns.ErrNotFound, "batch reads see the key as absent too")
		}},
		{"not found is not cached by default", func(t *testing.T, p *patterns.Layer, _ *errorLog) {
			var calls atomic.Int32
			for range 2 {
				_, err := patterns.Aside(ctx, p, "k", time.Hour, countingLoader(&calls, analysis{}, patterns.ErrNotFound))
				require.ErrorIs(t, err, patterns.ErrNotFound)
			}
			assert.Equal(t, int32(2), calls.Load())
		}},
		{"a value that does not decode is replaced", func(t *testing.T, p *patterns.Layer, log *errorLog) {
			require.NoError(t, p.Cache().Set(ctx, "k", []byte("{not json"), time.Hour))
			var calls atomic.Int32
			got, err := patterns.Aside(ctx, p, "k", time.Hour, countingLoader(&calls, want, nil))
			require.NoError(t, err)
			assert.Equal(t, want, got)
			got, err = patterns.Aside(ctx, p, "k", time.Hour, countingLoader(&calls, want, nil))
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Equal(t, int32(1), calls.Load())
			require.Len(t, log.all(), 1)
			assert.ErrorIs(t, log.all()[0], store.ErrDecode)
		}},
		{"an invalid key still loads", func(t *testing.T, p *patterns.Layer, log *errorLog) {
			var calls atomic.Int32
			got, err := patterns.Aside(ctx, p, "", time.Hour, countingLoader(&calls, want, nil))
			require.NoError(t, err)
			assert.Equal(t, want, got)
			require.NotEmpty(t, log.all())
			assert.ErrorIs(t, log.all()[0], store.ErrInvalidKey)
		}},
		{"a value JSON cannot encode is returned, not cached", func(t *testing.T, p *patterns.Layer, log *errorLog) {
			var calls atomic.Int32
			got, err := patterns.Aside(ctx, p, "k", time.Hour, countingLoader(&calls, math.Inf(1), nil))
			require.NoError(t, err)
			assert.True(t, math.IsInf(got, 1))
			ok, err := p.Cache().Exists(ctx, "k")
			require.NoError(t, err)
			assert.False(t, ok)
			assert.NotEmpty(t, log.all())
		}},
		{"a loader panic reaches the caller and leaves no lock", func(t *testing.T, p *patterns.Layer, _ *errorLog) {
			func() {
				defer func() {
					err, _ := recover().(error)
					require.Error(t, err, "Aside re-panics with an error")
					assert.Contains(t, err.Error(), "loader panicked: boom")
				}()
				_, _ = patterns.Aside(ctx, p, "k", time.Hour, func(context.Context) (int, error) { panic("boom") })
			}()
			var calls atomic.Int32
			got, err := patterns.Aside(ctx, p, "k", time.Hour, countingLoader(&calls, 7, nil))
			require.NoError(t, err)
			assert.Equal(t, 7, got)
		}},
		{"zero ttl means the cache's default", func(t *testing.T, p *patterns.Layer, _ *errorLog) {
			var calls atomic.Int32
			_, err := patterns.Aside(ctx, p, "k", 0, countingLoader(&calls, 1, nil))
			require.NoError(t, err)
			ttl, err := p.Cache().TTL(ctx, "k")
			require.NoError(t, err)
			assert.InDelta(t, float64(2*time.Hour), float64(ttl), float64(5*time.Second))
		}},
	}
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			c := be.open(t, store.Config{KeyPrefix: "aside:", DefaultTTL: 2 * time.Hour})
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					_, err := c.DeletePattern(ctx, "*")
					require.NoError(t, err)
					log := &errorLog{}
					p := newPatterns(t, c, patterns.Options{OnError: log.onError, Jitter: -1})
					tc.run(t, p, log)
				})
			}
		})
	}
}

func TestAsideJitter(t *testing.T) {
	ctx := context.Background()
	c := openCache(t, store.Config{})
	cases := []struct {
		name   string
		jitter float64
		rand   float64
		want   time.Duration
	}{
		{"default, lowest draw", 0, 0, 54 * time.Minute},
		{"default, middle draw", 0, 0.5, time.Hour},
		{"default, high draw", 0, 0.75, 63 * time.Minute},
		{"wider", 0.5, 0, 30 * time.Minute},
		{"off", -1, 0, time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPatterns(t, c, patterns.Options{Jitter: tc.jitter})
			patterns.SetRand(p, func() float64 { return tc.rand })
			key := "jitter:" + tc.name
			_, err := patterns.Aside(ctx, p, key, time.Hour, func(context.Context) (int, error) { return 1, nil })
			require.NoError(t, err)
			ttl, err := c.TTL(ctx, key)
			require.NoError(t, err)
			assert.InDelta(t, float64(tc.want), float64(ttl), float64(5*time.Second))
		})
	}
}

// TestAsideStampedeIntegration is the test: four processes (four
// independent caches on one Redis), fifty goroutines each, one missing key.
func TestAsideStampedeIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	const processes, goroutines = 4, 50
	want := analysis{RMS: 1.5, Channels: []string{"emg1"}}

	var calls atomic.Int32
	loader := func(ctx context.Context) (analysis, error) {
		calls.Add(1)
		// Long enough that the others pile up behind it; correctness does
		// not depend on it.
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return analysis{}, ctx.Err()
		}
		return want, nil
	}
	ps := make([]*patterns.Layer, processes)
	for i := range ps {
		ps[i] = newPatterns(t, openCache(t, store.Config{URL: srv.URL(), KeyPrefix: "stampede:"}), patterns.Options{})
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range processes * goroutines {
		wg.Go(func() {
			<-start
			got, err := patterns.Aside(ctx, ps[i%processes], "emg_analysis:hot", time.Hour, loader)
			assert.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, int32(1), calls.Load(), "the loader ran once for 200 concurrent misses in 4 processes")
}

func TestAsideStampedeInProcess(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			p := newPatterns(t, be.open(t, store.Config{}), patterns.Options{})
			release := make(chan struct{})
			var calls atomic.Int32
			loader := func(context.Context) (int, error) {
				calls.Add(1)
				<-release
				return 42, nil
			}
			var wg sync.WaitGroup
			var started atomic.Int32
			for range 100 {
				wg.Go(func() {
					started.Add(1)
					got, err := patterns.Aside(context.Background(), p, "k", time.Hour, loader)
					assert.NoError(t, err)
					assert.Equal(t, 42, got)
				})
			}
			require.Eventually(t, func() bool { return started.Load() == 100 && calls.Load() == 1 }, waitFor, tick)
			close(release)
			wg.Wait()
			assert.Equal(t, int32(1), calls.Load())
		})
	}
}

func TestAsideWaitIsBoundedIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	c := openCache(t, store.Config{URL: srv.URL(), KeyPrefix: "bounded:"})
	p := newPatterns(t, c, patterns.Options{LockWait: 50 * time.Millisecond, PollInterval: 5 * time.Millisecond})
	// Another process began a load and died: nobody will write the value.
	ok, err := c.SetNX(ctx, "k", patterns.NewPlaceholder(), time.Hour)
	require.NoError(t, err)
	require.True(t, ok)

	var calls atomic.Int32
	got, err := patterns.Aside(ctx, p, "k", time.Hour, countingLoader(&calls, "loaded anyway", nil))
	require.NoError(t, err)
	assert.Equal(t, "loaded anyway", got)
	assert.Equal(t, int32(1), calls.Load())
	v, err := store.GetJSON[string](ctx, c, "k")
	require.NoError(t, err)
	assert.Equal(t, "loaded anyway", v, "and stored")
}

func TestAsideWaiterTakesOverAFailedLoadIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	holder := openCache(t, store.Config{URL: srv.URL(), KeyPrefix: "takeover:"})
	p := newPatterns(t, openCache(t, store.Config{URL: srv.URL(), KeyPrefix: "takeover:"}), patterns.Options{PollInterval: 5 * time.Millisecond})
	other := patterns.NewPlaceholder()
	ok, err := holder.SetNX(ctx, "k", other, time.Hour)
	require.NoError(t, err)
	require.True(t, ok)

	var calls atomic.Int32
	done := make(chan string, 1)
	go func() {
		got, err := patterns.Aside(ctx, p, "k", time.Hour, countingLoader(&calls, "mine", nil))
		assert.NoError(t, err)
		done <- got
	}()
	// Let it find the lock taken and poll a few times (polls are
	// bookkeeping reads, not counted, so only the first miss shows).
	require.Eventually(t, func() bool {
		s := p.Cache().Stats(ctx)
		return s.TotalRequests >= 1
	}, waitFor, tick)
	time.Sleep(4 * 5 * time.Millisecond)
	assert.Zero(t, calls.Load())
	// The other process's load fails: it releases the lock without a value.
	_, err = holder.DeleteIfValue(ctx, "k", other)
	require.NoError(t, err)
	assert.Equal(t, "mine", <-done)
	assert.Equal(t, int32(1), calls.Load())
}

func TestAsideRedisUnavailableIntegration(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		breakIt func(t *testing.T, srv *storetest.Server)
	}{
		{"killed", func(t *testing.T, srv *storetest.Server) { require.NoError(t, srv.Kill()) }},
		{"paused", func(t *testing.T, srv *storetest.Server) {
			require.NoError(t, srv.Pause())
			t.Cleanup(func() { _ = srv.Resume() })
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := storetest.NewServer(t)
			log := &errorLog{}
			c := openCache(t, store.Config{URL: srv.URL(), OpTimeout: 100 * time.Millisecond})
			p := newPatterns(t, c, patterns.Options{OnError: log.onError})
			tc.breakIt(t, srv)
			var calls atomic.Int32
			t0 := time.Now()
			defer func() { t.Logf("took %v", time.Since(t0)) }()
			for range 3 {
				got, err := patterns.Aside(ctx, p, "k", time.Hour, countingLoader(&calls, "from the origin", nil))
				require.NoError(t, err, "the cache never makes the call fail")
				assert.Equal(t, "from the origin", got)
			}
			assert.Equal(t, int32(3), calls.Load())
			require.NotEmpty(t, log.all())
			assert.ErrorIs(t, log.all()[0], store.ErrUnavailable)
		})
	}
}

func TestAsideCallerCancelled(t *testing.T) {
	p := newPatterns(t, openCache(t, store.Config{}), patterns.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	loaderCtx := make(chan context.Context, 1)
	_, err := patterns.Aside(ctx, p, "k", time.Hour, func(lctx context.Context) (int, error) {
		loaderCtx <- lctx
		cancel() // the client hangs up while the load runs
		<-lctx.Done()
		return 0, lctx.Err()
	})
	require.ErrorIs(t, err, context.Canceled)
	lctx := <-loaderCtx
	<-lctx.Done() // the only caller left, so the load was cancelled too
}

func TestAsideRefreshAhead(t *testing.T) {
	ctx := context.Background()
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			c := be.open(t, store.Config{KeyPrefix: "refresh:"})
			cases := []struct {
				name        string
				setup       func(t *testing.T)
				closeFirst  bool
				wantLoads   int32
				wantValue   int
				wantLongTTL bool
			}{
				{"a key near expiry is reloaded in the background", func(t *testing.T) {
					require.NoError(t, c.Set(ctx, "k", []byte("1"), 10*time.Second))
				}, false, 1, 2, true},
				{"a key far from expiry is left alone", func(t *testing.T) {
					require.NoError(t, c.Set(ctx, "k", []byte("1"), time.Hour))
				}, false, 0, 1, true},
				{"nothing starts after Close", func(t *testing.T) {
					require.NoError(t, c.Set(ctx, "k", []byte("1"), 10*time.Second))
				}, true, 0, 1, false},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					tc.setup(t)
					p := patterns.New(c, patterns.Options{Jitter: -1})
					if tc.closeFirst {
						require.NoError(t, p.Close())
					}
					var calls atomic.Int32
					release := make(chan struct{})
					loader := func(context.Context) (int, error) {
						calls.Add(1)
						<-release
						return 2, nil
					}
					for range 5 {
						got, err := patterns.Aside(ctx, p, "k", time.Hour, loader, patterns.WithRefreshAhead(time.Minute))
						require.NoError(t, err)
						assert.Equal(t, 1, got, "a hit returns the cached value at once")
					}
					if tc.wantLoads > 0 {
						// Close cancels a refresh that has not loaded yet.
						require.Eventually(t, func() bool { return calls.Load() == tc.wantLoads }, waitFor, tick)
					}
					close(release)
					require.NoError(t, p.Close(), "Close waits for the refresh")
					assert.Equal(t, tc.wantLoads, calls.Load())
					v, err := store.GetJSON[int](ctx, c, "k")
					require.NoError(t, err)
					assert.Equal(t, tc.wantValue, v)
					ttl, err := c.TTL(ctx, "k")
					require.NoError(t, err)
					assert.Equal(t, tc.wantLongTTL, ttl > time.Minute)
				})
			}
		})
	}
}

func TestAsideRefreshAheadOfOwnWrite(t *testing.T) {
	ctx := context.Background()
	c := openCache(t, store.Config{})
	p := newPatterns(t, c, patterns.Options{Jitter: -1})
	var calls atomic.Int32
	for range 10 {
		_, err := patterns.Aside(ctx, p, "k", time.Hour, countingLoader(&calls, 1, nil), patterns.WithRefreshAhead(0))
		require.NoError(t, err)
	}
	require.NoError(t, p.Close())
	assert.Equal(t, int32(1), calls.Load(), "a key this process just wrote is known to be fresh, with no TTL call")
}

func TestCloseStopsARefresh(t *testing.T) {
	ctx := context.Background()
	c := openCache(t, store.Config{})
	log := &errorLog{}
	p := patterns.New(c, patterns.Options{OnError: log.onError})
	require.NoError(t, c.Set(ctx, "k", []byte("1"), 30*time.Second))
	started := make(chan struct{})
	_, err := patterns.Aside(ctx, p, "k", time.Hour, func(ctx context.Context) (int, error) {
		close(started)
		<-ctx.Done() // a load that would never end by itself
		return 0, ctx.Err()
	}, patterns.WithRefreshAhead(time.Minute))
	require.NoError(t, err)
	<-started
	require.NoError(t, p.Close())
	require.Len(t, log.all(), 1)
	assert.ErrorIs(t, log.all()[0], context.Canceled)
}

func TestNewPanicsOnBadOptions(t *testing.T) {
	c := openCache(t, store.Config{})
	cases := []struct {
		name string
		opts patterns.Options
		msg  string
	}{
		{"negative LockTTL", patterns.Options{LockTTL: -1}, "patterns: negative Options.LockTTL -1ns"},
		{"negative LockWait", patterns.Options{LockWait: -time.Second}, "patterns: negative Options.LockWait -1s"},
		{"Jitter of 1", patterns.Options{Jitter: 1}, "patterns: Options.Jitter 1 is not below 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.PanicsWithValue(t, tc.msg, func() { patterns.New(c, tc.opts) })
		})
	}
	assert.PanicsWithValue(t, "patterns: New with a nil cache", func() { patterns.New(nil, patterns.Options{}) })
}
