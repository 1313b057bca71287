package patterns

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
)

// flightGroup makes concurrent misses of one key in this process share one
// load. It differs from golang.org/x/sync/singleflight where that matters to
// a server: the load runs under a context of its own, detached from the
// caller that happened to start it, and is cancelled only when every caller
// waiting for it has given up. One client hanging up does not fail the
// requests of the others, and a load nobody waits for anymore stops.
type flightGroup struct {
	mu    sync.Mutex
	calls map[string]*flight
}

type flight struct {
	done    chan struct{} // closed when res is set
	res     flightResult
	waiters int // guarded by flightGroup.mu
	cancel  context.CancelFunc
}

// flightResult is what a load produced: the value as JSON in raw, or, when
// it could not be encoded, the value itself in val; or an error.
type flightResult struct {
	raw      []byte
	val      any
	err      error
	panicked *loaderPanic
}

// loaderPanic carries a loader's panic, with the stack where it happened,
// to every caller that waited for the load; each of them panics with it.
type loaderPanic struct {
	value any
	stack []byte
}

func (lp *loaderPanic) Error() string {
	return fmt.Sprintf("patterns: loader panicked: %v\n\n%s", lp.value, lp.stack)
}

// errGoexit is what waiters get when a loader called runtime.Goexit (as
// t.FailNow does), so that they do not wait forever.
var errGoexit = errors.New("patterns: loader called runtime.Goexit")

// do returns the result of fn for key, running fn unless a call for key is
// already running, in which case it waits for that one. spawn runs fn in a
// goroutine that may outlive ctx; when spawn refuses, fn runs in the
// caller's goroutine under ctx. The error is ctx's when the caller stopped
// waiting; fn's own failure is in the result.
func (g *flightGroup) do(ctx context.Context, key string, spawn func(func()) bool, fn func(context.Context) flightResult) (flightResult, error) {
	g.mu.Lock()
	if f, ok := g.calls[key]; ok {
		f.waiters++
		g.mu.Unlock()
		return g.wait(ctx, key, f)
	}
	if g.calls == nil {
		g.calls = make(map[string]*flight)
	}
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &flight{done: make(chan struct{}), waiters: 1, cancel: cancel}
	g.calls[key] = f
	g.mu.Unlock()

	if !spawn(func() { g.run(fctx, key, f, fn) }) {
		g.run(ctx, key, f, fn)
	}
	return g.wait(ctx, key, f)
}

func (g *flightGroup) run(ctx context.Context, key string, f *flight, fn func(context.Context) flightResult) {
	returned := false
	defer func() {
		if !returned {
			if r := recover(); r != nil {
				f.res = flightResult{panicked: &loaderPanic{value: r, stack: debug.Stack()}}
			} else {
				f.res = flightResult{err: errGoexit}
			}
		}
		g.forget(key, f)
		f.cancel()
		close(f.done)
	}()
	f.res = fn(ctx)
	returned = true
}

func (g *flightGroup) wait(ctx context.Context, key string, f *flight) (flightResult, error) {
	select {
	case <-f.done:
		return f.res, nil
	case <-ctx.Done():
	}
	select {
	case <-f.done: // finished just as the caller gave up: use it
		return f.res, nil
	default:
	}
	g.mu.Lock()
	f.waiters--
	abandoned := f.waiters == 0
	if abandoned && g.calls[key] == f {
		// A caller arriving now must start afresh, not join a load that is
		// being cancelled.
		delete(g.calls, key)
	}
	g.mu.Unlock()
	if abandoned {
		f.cancel()
	}
	return flightResult{}, ctx.Err()
}

func (g *flightGroup) forget(key string, f *flight) {
	g.mu.Lock()
	if g.calls[key] == f {
		delete(g.calls, key)
	}
	g.mu.Unlock()
}
