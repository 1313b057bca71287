package patterns

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitFor bounds how long a test waits for a goroutine to reach a state; it
// is a safety net against hangs, never a measure of speed.
const (
	waitFor = 10 * time.Second
	tick    = time.Millisecond
)

// goSpawn runs fn in a goroutine the test waits for.
func goSpawn(t *testing.T) func(func()) bool {
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	return func(fn func()) bool {
		wg.Go(fn)
		return true
	}
}

// waiters returns how many callers wait for key's flight (0 if none).
func (g *flightGroup) waiters(key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.calls[key]; ok {
		return f.waiters
	}
	return 0
}

func TestFlightSharesOneRun(t *testing.T) {
	var g flightGroup
	spawn := goSpawn(t)
	release := make(chan struct{})
	var runs atomic.Int32
	fn := func(context.Context) flightResult {
		runs.Add(1)
		<-release
		return flightResult{raw: []byte("v")}
	}
	const callers = 20
	var wg sync.WaitGroup
	results := make([]flightResult, callers)
	for i := range callers {
		wg.Go(func() {
			res, err := g.do(context.Background(), "k", spawn, fn)
			assert.NoError(t, err)
			results[i] = res
		})
	}
	require.Eventually(t, func() bool { return g.waiters("k") == callers }, waitFor, tick)
	close(release)
	wg.Wait()
	assert.Equal(t, int32(1), runs.Load())
	for _, r := range results {
		assert.Equal(t, "v", string(r.raw))
	}
	assert.Zero(t, g.waiters("k"), "a finished flight is forgotten")
}

func TestFlightCancellation(t *testing.T) {
	t.Run("one caller leaving does not cancel the load", func(t *testing.T) {
		var g flightGroup
		spawn := goSpawn(t)
		release := make(chan struct{})
		loadCtx := make(chan context.Context, 1)
		fn := func(ctx context.Context) flightResult {
			loadCtx <- ctx
			<-release
			return flightResult{raw: []byte("v")}
		}
		ctxA, cancelA := context.WithCancel(context.Background())
		errA := make(chan error, 1)
		go func() {
			_, err := g.do(ctxA, "k", spawn, fn)
			errA <- err
		}()
		lctx := <-loadCtx
		resB := make(chan flightResult, 1)
		go func() {
			res, err := g.do(context.Background(), "k", spawn, fn)
			assert.NoError(t, err)
			resB <- res
		}()
		require.Eventually(t, func() bool { return g.waiters("k") == 2 }, waitFor, tick)
		cancelA()
		require.ErrorIs(t, <-errA, context.Canceled)
		assert.NoError(t, lctx.Err(), "the other caller still waits")
		close(release)
		assert.Equal(t, "v", string((<-resB).raw))
	})

	t.Run("the last caller leaving cancels the load", func(t *testing.T) {
		var g flightGroup
		spawn := goSpawn(t)
		fn := func(ctx context.Context) flightResult {
			<-ctx.Done()
			return flightResult{err: ctx.Err()}
		}
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := g.do(ctx, "k", spawn, fn)
			errc <- err
		}()
		require.Eventually(t, func() bool { return g.waiters("k") == 1 }, waitFor, tick)
		cancel()
		require.ErrorIs(t, <-errc, context.Canceled)
		// The cancelled flight is gone at once, so a new caller starts a
		// fresh one rather than join the dying one.
		res, err := g.do(context.Background(), "k", spawn, func(context.Context) flightResult {
			return flightResult{raw: []byte("fresh")}
		})
		require.NoError(t, err)
		assert.Equal(t, "fresh", string(res.raw))
	})
}

func TestFlightPanicsAndGoexit(t *testing.T) {
	cases := []struct {
		name  string
		fn    func(context.Context) flightResult
		check func(t *testing.T, res flightResult)
	}{
		{"panic reaches the waiter", func(context.Context) flightResult { panic("boom") }, func(t *testing.T, res flightResult) {
			require.NotNil(t, res.panicked)
			assert.Equal(t, "boom", res.panicked.value)
			assert.Contains(t, res.panicked.Error(), "loader panicked: boom")
		}},
		{"Goexit is an error, not a hang", func(context.Context) flightResult { runtime.Goexit(); return flightResult{} }, func(t *testing.T, res flightResult) {
			assert.True(t, errors.Is(res.err, errGoexit))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var g flightGroup
			res, err := g.do(context.Background(), "k", goSpawn(t), tc.fn)
			require.NoError(t, err)
			tc.check(t, res)
			assert.Zero(t, g.waiters("k"))
		})
	}
}

func TestFlightInlineWhenSpawnRefuses(t *testing.T) {
	var g flightGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := g.do(ctx, "k", func(func()) bool { return false }, func(fctx context.Context) flightResult {
		// Inline, the load runs under the caller's own context.
		cancel()
		return flightResult{err: fctx.Err()}
	})
	require.NoError(t, err, "the result was ready when the caller looked")
	assert.ErrorIs(t, res.err, context.Canceled)
}

func TestRefreshBook(t *testing.T) {
	var b refreshBook
	now := time.Unix(1000, 0)
	assert.True(t, b.due("k", now, time.Minute), "an unknown key is looked at")
	assert.False(t, b.due("k", now, time.Minute), "and claimed: the next hit does not start a second refresh")
	assert.True(t, b.due("k", now.Add(time.Minute), time.Minute), "a claim that outlived its refresh expires")
	b.set("k", now.Add(time.Hour))
	assert.False(t, b.due("k", now.Add(59*time.Minute), time.Minute))
	assert.True(t, b.due("k", now.Add(time.Hour), time.Minute))
	b.forget("k")
	assert.Zero(t, b.len())

	b.set("hot", now.Add(time.Hour))
	for i := range maxRefreshKeys + 10 {
		b.set(strconv.Itoa(i), now.Add(time.Hour))
		if i%1000 == 0 {
			assert.False(t, b.due("hot", now, time.Minute), "a key read often stays in the book")
		}
	}
	assert.Equal(t, maxRefreshKeys, b.len(), "the book is bounded")
	assert.True(t, b.due("0", now, time.Minute), "the least recently used went first, not the whole book")
	assert.False(t, b.due("hot", now, time.Minute))
}
