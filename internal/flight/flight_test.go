package flight_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/emgcache/emgcache/internal/flight"
)

// goSpawn runs fn in a goroutine the test waits for before it ends.
func goSpawn(t *testing.T) func(func()) bool {
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	return func(fn func()) bool {
		wg.Go(fn)
		return true
	}
}

// joins returns a channel that receives a value each time a caller joins a
// call of g it did not start: the barrier the tests order callers by.
func joins(g *flight.Group[string]) <-chan struct{} {
	ch := make(chan struct{}, 100)
	g.OnJoin = func(string) { ch <- struct{}{} }
	return ch
}

func TestDoSharesOneRun(t *testing.T) {
	var g flight.Group[string]
	joined := joins(&g)
	spawn := goSpawn(t)
	release := make(chan struct{})
	var runs atomic.Int32
	fn := func(context.Context) string {
		runs.Add(1)
		<-release
		return "v"
	}
	const callers = 20
	var wg sync.WaitGroup
	results := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() { results[i], errs[i] = g.Do(context.Background(), "k", spawn, fn) })
	}
	for range callers - 1 {
		<-joined
	}
	close(release)
	wg.Wait()
	if n := runs.Load(); n != 1 {
		t.Fatalf("fn ran %d times for %d callers, want 1", n, callers)
	}
	for i := range callers {
		if errs[i] != nil || results[i] != "v" {
			t.Errorf("caller %d got %q, %v; want \"v\", nil", i, results[i], errs[i])
		}
	}
	// The finished call is forgotten: the next caller runs fn again.
	v, err := g.Do(context.Background(), "k", spawn, func(context.Context) string { return "again" })
	if err != nil || v != "again" {
		t.Errorf("after the call: got %q, %v; want a run of its own", v, err)
	}
}

func TestDoKeysAreIndependent(t *testing.T) {
	var g flight.Group[string]
	spawn := goSpawn(t)
	release := make(chan struct{})
	started := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		_, err := g.Do(context.Background(), "a", spawn, func(context.Context) string {
			close(started)
			<-release
			return "a"
		})
		errc <- err
	}()
	<-started
	// b runs while a's call is still running.
	if v, err := g.Do(context.Background(), "b", spawn, func(context.Context) string { return "b" }); v != "b" || err != nil {
		t.Errorf("b: got %q, %v", v, err)
	}
	close(release)
	if err := <-errc; err != nil {
		t.Error(err)
	}
}

func TestDoCancellation(t *testing.T) {
	t.Run("one caller leaving does not cancel the work", func(t *testing.T) {
		var g flight.Group[string]
		joined := joins(&g)
		spawn := goSpawn(t)
		release := make(chan struct{})
		workCtx := make(chan context.Context, 1)
		fn := func(ctx context.Context) string {
			workCtx <- ctx
			<-release
			return "v"
		}
		ctxA, cancelA := context.WithCancel(context.Background())
		errA := make(chan error, 1)
		go func() {
			_, err := g.Do(ctxA, "k", spawn, fn)
			errA <- err
		}()
		wctx := <-workCtx
		resB := make(chan string, 1)
		go func() {
			v, err := g.Do(context.Background(), "k", spawn, fn)
			if err != nil {
				t.Error(err)
			}
			resB <- v
		}()
		<-joined
		cancelA()
		if err := <-errA; !errors.Is(err, context.Canceled) {
			t.Fatalf("the caller that gave up got %v, want context.Canceled", err)
		}
		if wctx.Err() != nil {
			t.Error("the work was cancelled while another caller waits for it")
		}
		close(release)
		if v := <-resB; v != "v" {
			t.Errorf("the caller still waiting got %q", v)
		}
	})

	t.Run("the last caller leaving cancels the work and forgets the call", func(t *testing.T) {
		var g flight.Group[string]
		spawn := goSpawn(t)
		started := make(chan struct{})
		fn := func(ctx context.Context) string {
			close(started)
			<-ctx.Done()
			return "cancelled"
		}
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := g.Do(ctx, "k", spawn, fn)
			errc <- err
		}()
		<-started
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		// The abandoned call is gone at once (fn may not even have seen the
		// cancellation yet): a new caller starts a fresh one rather than
		// join the dying one.
		v, err := g.Do(context.Background(), "k", spawn, func(context.Context) string { return "fresh" })
		if err != nil || v != "fresh" {
			t.Errorf("got %q, %v; want a fresh run", v, err)
		}
	})

	t.Run("the work keeps the caller's values, not its deadline", func(t *testing.T) {
		var g flight.Group[string]
		type ctxKey struct{}
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "value"))
		defer cancel()
		seen := make(chan string, 1)
		v, err := g.Do(ctx, "k", nil, func(wctx context.Context) string {
			if _, ok := wctx.Deadline(); ok || wctx.Done() == ctx.Done() {
				seen <- "the caller's cancellation"
			} else {
				s, _ := wctx.Value(ctxKey{}).(string)
				seen <- s
			}
			return "v"
		})
		if err != nil || v != "v" {
			t.Fatalf("got %q, %v", v, err)
		}
		if s := <-seen; s != "value" {
			t.Errorf("the work saw %q", s)
		}
	})
}

func TestDoPanicsAndGoexit(t *testing.T) {
	tests := []struct {
		name  string
		fn    func(context.Context) string
		check func(t *testing.T, err error)
	}{
		{"a panic reaches every caller with its stack", func(context.Context) string { panic("boom") }, func(t *testing.T, err error) {
			var pe *flight.PanicError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *PanicError", err)
			}
			if pe.Value != "boom" {
				t.Errorf("panic value %v", pe.Value)
			}
			if !strings.HasPrefix(pe.Error(), "boom\n\n") || !strings.Contains(pe.Error(), "flight_test.TestDoPanicsAndGoexit") {
				t.Errorf("the error does not give the value and the stack where it panicked:\n%s", pe.Error())
			}
		}},
		{"Goexit is an error, not a hang", func(context.Context) string { runtime.Goexit(); return "" }, func(t *testing.T, err error) {
			if !errors.Is(err, flight.ErrGoexit) {
				t.Errorf("got %v, want ErrGoexit", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g flight.Group[string]
			_, err := g.Do(context.Background(), "k", goSpawn(t), tt.fn)
			tt.check(t, err)
			// And the call is forgotten.
			if v, err := g.Do(context.Background(), "k", goSpawn(t), func(context.Context) string { return "v" }); v != "v" || err != nil {
				t.Errorf("after it: got %q, %v", v, err)
			}
		})
	}
}

func TestDoInlineWhenSpawnRefuses(t *testing.T) {
	var g flight.Group[error]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got, err := g.Do(ctx, "k", func(func()) bool { return false }, func(wctx context.Context) error {
		// Inline, the work runs under the caller's own context.
		cancel()
		return wctx.Err()
	})
	if err != nil {
		t.Fatalf("the result was ready when the caller looked, yet got %v", err)
	}
	if !errors.Is(got, context.Canceled) {
		t.Errorf("the work saw %v, want the caller's cancellation", got)
	}
}

func TestJoinPublishLeave(t *testing.T) {
	t.Run("waiters get the first result published, before the leader leaves", func(t *testing.T) {
		var g flight.Group[string]
		joined := joins(&g)
		c, leader := g.Join("k")
		if !leader {
			t.Fatal("the first caller does not lead")
		}
		got := make(chan string, 1)
		go func() {
			w, leader := g.Join("k")
			if leader {
				t.Error("a second caller leads")
			}
			v, err := w.Wait(context.Background())
			if err != nil {
				t.Error(err)
			}
			got <- v
		}()
		<-joined
		c.Publish("early")
		c.Publish("fallback") // ignored
		if v := <-got; v != "early" {
			t.Errorf("the waiter got %q", v)
		}
		// Until the leader leaves, a newcomer joins and is served at once.
		w, leader := g.Join("k")
		if leader {
			t.Fatal("a caller joining before Leave leads")
		}
		if v, err := w.Wait(context.Background()); v != "early" || err != nil {
			t.Errorf("a newcomer got %q, %v", v, err)
		}
		g.Leave(c)
		g.Leave(c) // harmless
		if _, leader := g.Join("k"); !leader {
			t.Error("after Leave a caller does not start a call of its own")
		}
	})

	t.Run("a waiter whose context ends returns, and the call goes on", func(t *testing.T) {
		var g flight.Group[string]
		c, _ := g.Join("k")
		w, _ := g.Join("k")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := w.Wait(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		// The leader still holds its call: a newcomer joins it.
		if w, leader := g.Join("k"); leader || w != c {
			t.Error("a waiter giving up made the leader's call forgotten")
		}
		c.Publish("v")
		if v, err := c.Wait(ctx); v != "v" || err != nil {
			t.Errorf("a result published before the wait is returned even to an ended context: got %q, %v", v, err)
		}
	})

	t.Run("Leave of a call replaced by another keeps the other", func(t *testing.T) {
		var g flight.Group[string]
		old, _ := g.Join("k")
		g.Leave(old)
		cur, _ := g.Join("k")
		g.Leave(old)
		if w, leader := g.Join("k"); leader || w != cur {
			t.Error("leaving an old call forgot the current one")
		}
	})
}

// TestDoUnderContention lets callers start, join, give up and finish calls
// of a few keys all at once, for the race detector; every caller gets the
// result or its own context's error, and no call is left behind.
func TestDoUnderContention(t *testing.T) {
	var g flight.Group[string]
	spawn := goSpawn(t)
	keys := []string{"a", "b", "c"}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			key := keys[i%len(keys)]
			if i%3 == 0 {
				cancel()
			}
			v, err := g.Do(ctx, key, spawn, func(ctx context.Context) string {
				runtime.Gosched()
				return key
			})
			switch {
			case err == nil && v != key:
				t.Errorf("caller of %q got %q", key, v)
			case err != nil && !errors.Is(err, context.Canceled):
				t.Errorf("caller of %q got %v", key, err)
			case err != nil && i%3 != 0:
				t.Errorf("caller %d was cancelled without asking", i)
			}
		})
	}
	wg.Wait()
	for _, key := range keys {
		if _, leader := g.Join(key); !leader {
			t.Errorf("a call of %q outlived its callers", key)
		}
	}
}
