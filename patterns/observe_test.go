package patterns_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
)

// logRecords decodes the JSON records written to buf so far.
func logRecords(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var r map[string]any
		require.NoError(t, json.Unmarshal(line, &r))
		out = append(out, r)
	}
	return out
}

func TestLoggerRateLimitsRepeatedFailures(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := openCache(t, store.Config{})
	p := newPatterns(t, c, patterns.Options{Logger: log})
	now := time.Unix(1000, 0)
	patterns.SetLogClock(p, func() time.Time { return now })
	ctx := context.Background()

	origin := errors.New("database is down")
	failing := func(context.Context) (int, error) { return 0, origin }
	for range 4 {
		_, err := patterns.Aside(ctx, p, "k", time.Minute, failing)
		require.ErrorIs(t, err, origin)
	}
	_, err := patterns.Aside(ctx, p, "absent", time.Minute, func(context.Context) (int, error) { return 0, patterns.ErrNotFound })
	require.ErrorIs(t, err, patterns.ErrNotFound)
	got := logRecords(t, &buf)
	require.Len(t, got, 1, "one record of the loader's failures, none for not found: %v", got)
	assert.Equal(t, "DEBUG", got[0]["level"], "the callers got the error")
	assert.Equal(t, "load", got[0]["op"])
	assert.Equal(t, "k", got[0]["key"])
	assert.Equal(t, origin.Error(), got[0]["error"])

	// A closed cache fails every call, and every Aside absorbs it.
	require.NoError(t, c.Close())
	ok := func(context.Context) (int, error) { return 7, nil }
	for range 3 {
		v, err := patterns.Aside(ctx, p, "k", time.Minute, ok)
		require.NoError(t, err)
		require.Equal(t, 7, v)
	}
	got = logRecords(t, &buf)
	require.Len(t, got, 2, "one record of the absorbed failures: %v", got)
	assert.Equal(t, "WARN", got[1]["level"])
	assert.Equal(t, "cache", got[1]["op"])
	assert.Contains(t, got[1]["error"], store.ErrClosed.Error())

	now = now.Add(store.FailureLogInterval)
	_, err = patterns.Aside(ctx, p, "k", time.Minute, ok)
	require.NoError(t, err)
	got = logRecords(t, &buf)
	require.Len(t, got, 3)
	assert.Equal(t, float64(2), got[2]["suppressed"], "the two absorbed failures left out since the last record")
}

func TestLoggerCanceledIsNotLogged(t *testing.T) {
	var buf bytes.Buffer
	c := openCache(t, store.Config{})
	p := newPatterns(t, c, patterns.Options{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// The cache's read fails with the caller's cancellation, and so does
	// the load (whichever the caller sees first).
	_, err := patterns.Aside(ctx, p, "k", time.Minute, func(context.Context) (int, error) { return 0, context.Canceled })
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, logRecords(t, &buf), "a caller's own cancellation says nothing about the cache or the origin")
}

type ctxKey struct{}

func TestHooksLoad(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			type event struct {
				info patterns.LoadInfo
				err  error
			}
			var mu sync.Mutex
			var events []event
			hooks := patterns.Hooks{Load: func(ctx context.Context, info patterns.LoadInfo) (context.Context, func(error)) {
				return context.WithValue(ctx, ctxKey{}, info.Key), func(err error) {
					mu.Lock()
					defer mu.Unlock()
					events = append(events, event{info, err})
				}
			}}
			p := newPatterns(t, b.open(t, store.Config{}), patterns.Options{Hooks: hooks})
			ctx := context.Background()
			loader := func(ctx context.Context) (string, error) {
				return ctx.Value(ctxKey{}).(string), nil
			}

			v, err := patterns.Aside(ctx, p, "a", time.Minute, loader)
			require.NoError(t, err)
			assert.Equal(t, "a", v, "the loader runs under the context Load returned")
			_, err = patterns.Aside(ctx, p, "a", time.Minute, loader)
			require.NoError(t, err)
			origin := errors.New("origin failed")
			_, err = patterns.Aside(ctx, p, "b", time.Minute, func(context.Context) (int, error) { return 0, origin })
			require.ErrorIs(t, err, origin)
			require.Panics(t, func() {
				_, _ = patterns.Aside(ctx, p, "c", time.Minute, func(context.Context) (int, error) { panic("boom") })
			})

			mu.Lock()
			defer mu.Unlock()
			require.Len(t, events, 3, "one load per miss, none for the hit")
			assert.Equal(t, event{patterns.LoadInfo{Key: "a", Kind: patterns.LoadMiss}, nil}, events[0])
			assert.Equal(t, patterns.LoadInfo{Key: "b", Kind: patterns.LoadMiss}, events[1].info)
			assert.ErrorIs(t, events[1].err, origin)
			assert.Equal(t, patterns.LoadInfo{Key: "c", Kind: patterns.LoadMiss}, events[2].info)
			assert.Error(t, events[2].err, "a panic ends the load with an error")
		})
	}
}

func TestHooksJoined(t *testing.T) {
	c := openCache(t, store.Config{})
	type joined struct {
		key    string
		waited time.Duration
		err    error
	}
	got := make(chan joined, 1)
	loads := 0
	p := newPatterns(t, c, patterns.Options{Hooks: patterns.Hooks{
		Load: func(ctx context.Context, _ patterns.LoadInfo) (context.Context, func(error)) {
			loads++ // only one load runs: the other call joins it
			return ctx, nil
		},
		Joined: func(_ context.Context, key string, waited time.Duration, err error) {
			got <- joined{key, waited, err}
		},
	}})
	joinedFlight := make(chan struct{})
	patterns.OnJoin(p, func(string) { close(joinedFlight) })
	started, release := make(chan struct{}), make(chan struct{})
	loader := func(context.Context) (int, error) {
		close(started)
		<-release
		return 42, nil
	}
	ctx := context.Background()
	first := make(chan error, 1)
	go func() {
		_, err := patterns.Aside(ctx, p, "k", time.Minute, loader)
		first <- err
	}()
	<-started
	second := make(chan int, 1)
	go func() {
		v, _ := patterns.Aside(ctx, p, "k", time.Minute, func(context.Context) (int, error) { return -1, nil })
		second <- v
	}()
	<-joinedFlight
	close(release)
	require.NoError(t, <-first)
	assert.Equal(t, 42, <-second, "the second call was served the first call's load")
	j := <-got
	assert.Equal(t, "k", j.key)
	assert.NoError(t, j.err)
	assert.Equal(t, 1, loads)
	select {
	case extra := <-got:
		t.Fatalf("the call that ran the load was reported as joined: %+v", extra)
	default:
	}
}

func TestHooksLoadRefreshAndItsFailureLog(t *testing.T) {
	var buf bytes.Buffer
	type event struct {
		info patterns.LoadInfo
		err  error
	}
	events := make(chan event, 1)
	c := openCache(t, store.Config{})
	p := newPatterns(t, c, patterns.Options{
		Jitter: -1,
		Logger: slog.New(slog.NewJSONHandler(&buf, nil)),
		Hooks: patterns.Hooks{Load: func(ctx context.Context, info patterns.LoadInfo) (context.Context, func(error)) {
			return ctx, func(err error) { events <- event{info, err} }
		}},
	})
	ctx := context.Background()
	// A value within its refresh window: the hit reloads it in the
	// background.
	require.NoError(t, store.SetJSON(ctx, c, "k", "old", time.Minute))
	origin := errors.New("database is down")
	v, err := patterns.Aside(ctx, p, "k", time.Hour, func(context.Context) (string, error) { return "", origin },
		patterns.WithRefreshAhead(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, "old", v)
	e := <-events
	assert.Equal(t, patterns.LoadInfo{Key: "k", Kind: patterns.LoadRefresh}, e.info)
	assert.ErrorIs(t, e.err, origin)
	require.NoError(t, p.Close()) // the refresh has reported its failure by now
	got := logRecords(t, &buf)
	require.Len(t, got, 1, "%v", got)
	assert.Equal(t, "refresh", got[0]["op"])
	assert.Equal(t, "WARN", got[0]["level"])
	assert.Equal(t, "k", got[0]["key"])
}

func TestHooksLoadWarm(t *testing.T) {
	var mu sync.Mutex
	got := map[string]error{}
	p := newPatterns(t, openCache(t, store.Config{}), patterns.Options{Hooks: patterns.Hooks{
		Load: func(ctx context.Context, info patterns.LoadInfo) (context.Context, func(error)) {
			// assert, not require: Warm calls the hook on its workers'
			// goroutines, where FailNow must not be called.
			assert.Equal(t, patterns.LoadWarm, info.Kind)
			return ctx, func(err error) {
				mu.Lock()
				defer mu.Unlock()
				got[info.Key] = err
			}
		},
	}})
	origin := errors.New("database is down")
	report := p.Warm(context.Background(), []patterns.WarmItem{
		{Key: "a", Load: func(context.Context) (any, error) { return 1, nil }},
		{Key: "b", Load: func(context.Context) (any, error) { return nil, origin }},
	}, patterns.WarmOptions{})
	assert.Equal(t, 1, report.Loaded)
	assert.Equal(t, 1, report.Failed)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 2)
	assert.NoError(t, got["a"])
	assert.ErrorIs(t, got["b"], origin)
}

func TestLoadKindStrings(t *testing.T) {
	for k, want := range map[patterns.LoadKind]string{
		patterns.LoadMiss: "miss", patterns.LoadRefresh: "refresh", patterns.LoadWarm: "warm", 0: "unknown",
	} {
		assert.Equal(t, want, k.String())
	}
}
