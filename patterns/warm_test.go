package patterns_test

import (
	"context"
	"encoding/json"
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

// progressLog records the calls of WarmOptions.Progress.
type progressLog struct {
	mu    sync.Mutex
	dones []int
	total int
	keys  []string
}

func (l *progressLog) progress(done, total int, item patterns.WarmResult) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dones = append(l.dones, done)
	l.total = total
	l.keys = append(l.keys, item.Key)
}

func TestWarm(t *testing.T) {
	ctx := context.Background()
	errBoom := errors.New("origin down")
	value := func(v any) func(context.Context) (any, error) {
		return func(context.Context) (any, error) { return v, nil }
	}

	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			c := be.open(t, store.Config{KeyPrefix: "warm:"})

			t.Run("higher priority first, one outcome per item", func(t *testing.T) {
				_, err := c.DeletePattern(ctx, "*")
				require.NoError(t, err)
				p := newPatterns(t, c, patterns.Options{})
				require.NoError(t, c.Set(ctx, "cached", []byte(`"old"`), time.Hour))

				var order []string
				var mu sync.Mutex
				loader := func(key string, v any, err error) func(context.Context) (any, error) {
					return func(context.Context) (any, error) {
						mu.Lock()
						order = append(order, key)
						mu.Unlock()
						return v, err
					}
				}
				items := []patterns.WarmItem{
					{Key: "low", Load: loader("low", 1, nil), Priority: 1},
					{Key: "high", Load: loader("high", analysis{RMS: 9}, nil), Priority: 9, TTL: time.Minute},
					{Key: "cached", Load: loader("cached", "new", nil), Priority: 8},
					{Key: "mid-a", Load: loader("mid-a", json.RawMessage(`{"raw":true}`), nil), Priority: 5},
					{Key: "failing", Load: loader("failing", nil, errBoom), Priority: 5},
					{Key: "mid-b", Load: loader("mid-b", math.Inf(1), nil), Priority: 5},
					{Key: "no-loader", Priority: 7},
				}
				log := &progressLog{}
				report := p.Warm(ctx, items, patterns.WarmOptions{Concurrency: 1, Progress: log.progress})

				assert.Equal(t, []string{"high", "mid-a", "failing", "mid-b", "low"}, order,
					"by priority; equal priorities keep their order; cached keys are not loaded")
				assert.Equal(t, 2+1, report.Loaded)
				assert.Equal(t, 1, report.Skipped)
				assert.Equal(t, 3, report.Failed)
				require.Len(t, report.Items, len(items))
				want := []patterns.WarmStatus{patterns.WarmLoaded, patterns.WarmLoaded, patterns.WarmSkipped,
					patterns.WarmLoaded, patterns.WarmFailed, patterns.WarmFailed, patterns.WarmFailed}
				for i, r := range report.Items {
					assert.Equal(t, items[i].Key, r.Key, "results are in the order given")
					assert.Equal(t, items[i].Priority, r.Priority)
					assert.Equal(t, want[i], r.Status, r.Key)
				}
				assert.ErrorIs(t, report.Items[4].Err, errBoom)
				assert.Contains(t, report.Items[5].Err.Error(), `encode "mid-b"`)
				assert.ErrorIs(t, report.Err(), errBoom)
				assert.Contains(t, report.Err().Error(), `warm "failing"`)

				assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7}, log.dones)
				assert.Equal(t, len(items), log.total)
				assert.Equal(t, []string{"high", "cached", "no-loader", "mid-a", "failing", "mid-b", "low"}, log.keys)

				got, err := store.GetJSON[analysis](ctx, c, "high")
				require.NoError(t, err)
				assert.Equal(t, 9.0, got.RMS)
				ttl, err := c.TTL(ctx, "high")
				require.NoError(t, err)
				assert.LessOrEqual(t, ttl, time.Minute+6*time.Second)
				raw, err := c.Get(ctx, "mid-a")
				require.NoError(t, err)
				assert.JSONEq(t, `{"raw":true}`, string(raw), "a json.RawMessage is stored as is")
				old, err := c.Get(ctx, "cached")
				require.NoError(t, err)
				assert.Equal(t, `"old"`, string(old))
			})

			t.Run("Force reloads cached keys", func(t *testing.T) {
				p := newPatterns(t, c, patterns.Options{})
				require.NoError(t, c.Set(ctx, "cached", []byte(`"old"`), time.Hour))
				report := p.Warm(ctx, []patterns.WarmItem{{Key: "cached", Load: value("new")}}, patterns.WarmOptions{Force: true})
				require.NoError(t, report.Err())
				assert.Equal(t, 1, report.Loaded)
				v, err := store.GetJSON[string](ctx, c, "cached")
				require.NoError(t, err)
				assert.Equal(t, "new", v)
			})

			t.Run("concurrency is bounded and reached", func(t *testing.T) {
				p := newPatterns(t, c, patterns.Options{})
				const limit = 3
				var active, peak atomic.Int32
				gate := make(chan struct{})
				var once sync.Once
				items := make([]patterns.WarmItem, 12)
				for i := range items {
					items[i] = patterns.WarmItem{Key: fmt.Sprintf("c%d", i), Load: func(ctx context.Context) (any, error) {
						n := active.Add(1)
						defer active.Add(-1)
						for {
							old := peak.Load()
							if n <= old || peak.CompareAndSwap(old, n) {
								break
							}
						}
						if n == limit {
							once.Do(func() { close(gate) })
						}
						// Hold the first loaders until limit of them run at
						// once: fewer workers would never open the gate.
						select {
						case <-gate:
						case <-ctx.Done():
						}
						return i, nil
					}}
				}
				wctx, cancel := context.WithTimeout(ctx, waitFor)
				defer cancel()
				report := p.Warm(wctx, items, patterns.WarmOptions{Concurrency: limit, Force: true})
				require.NoError(t, report.Err())
				assert.Equal(t, int32(limit), peak.Load())
			})

			t.Run("a context that ended fails the items not started", func(t *testing.T) {
				p := newPatterns(t, c, patterns.Options{})
				cctx, cancel := context.WithCancel(ctx)
				cancel()
				var calls atomic.Int32
				items := make([]patterns.WarmItem, 5)
				for i := range items {
					items[i] = patterns.WarmItem{Key: fmt.Sprintf("x%d", i), Load: func(context.Context) (any, error) {
						calls.Add(1)
						return i, nil
					}}
				}
				log := &progressLog{}
				report := p.Warm(cctx, items, patterns.WarmOptions{Progress: log.progress})
				assert.Equal(t, 5, report.Failed)
				assert.Zero(t, calls.Load())
				for _, r := range report.Items {
					assert.ErrorIs(t, r.Err, context.Canceled)
				}
				assert.Len(t, log.dones, 5, "progress still reaches the total")
			})

			t.Run("no items", func(t *testing.T) {
				p := newPatterns(t, c, patterns.Options{})
				report := p.Warm(ctx, nil, patterns.WarmOptions{})
				assert.Empty(t, report.Items)
				assert.NoError(t, report.Err())
			})
		})
	}
}

func TestWarmRedisUnavailableIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	p := newPatterns(t, openCache(t, store.Config{URL: srv.URL(), OpTimeout: 100 * time.Millisecond}), patterns.Options{})
	require.NoError(t, srv.Kill())
	var calls atomic.Int32
	report := p.Warm(ctx, []patterns.WarmItem{{Key: "a", Load: func(context.Context) (any, error) {
		calls.Add(1)
		return 1, nil
	}}}, patterns.WarmOptions{})
	assert.Equal(t, 1, report.Failed)
	assert.ErrorIs(t, report.Items[0].Err, store.ErrUnavailable)
	assert.Zero(t, calls.Load(), "no load for a cache that cannot take it")
}

func TestWarmStatusString(t *testing.T) {
	for s, want := range map[patterns.WarmStatus]string{
		patterns.WarmLoaded: "loaded", patterns.WarmSkipped: "skipped", patterns.WarmFailed: "failed", 0: "unknown",
	} {
		assert.Equal(t, want, s.String())
	}
}
