// Package flight lets concurrent callers that need the same result share
// the work of producing it: the first caller of a key leads, the others
// join its call and wait for the result it publishes.
//
// It does what golang.org/x/sync/singleflight does, and differs where a
// server needs it to:
//
//   - a waiter's context bounds its wait: a caller whose request ends
//     returns at once, whatever the call is doing;
//   - a leader may publish its result before its work is over
//     ([Call.Publish], then [Group.Leave]), so that waiters are served
//     while it still writes the result to a store, and callers arriving in
//     between are served the published result;
//   - [Group.Do] runs the work under a context of its own, detached from the
//     caller that happened to start it and cancelled once every caller
//     waiting for it has given up: one client hanging up fails no other
//     client's request, and work nobody waits for stops.
//
// A [Group] is one map of calls under one mutex; use one per kind of work.
package flight

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// ErrGoexit is what the callers of [Group.Do] get when the work called
// runtime.Goexit (as t.FailNow does), so that they do not wait forever.
var ErrGoexit = errors.New("flight: the work called runtime.Goexit")

// PanicError is what the callers of [Group.Do] get when the work panicked:
// the panic value and the stack where it happened, for each of them to
// panic with in turn.
type PanicError struct {
	Value any
	Stack []byte
}

func (p *PanicError) Error() string { return fmt.Sprintf("%v\n\n%s", p.Value, p.Stack) }

// Group is a set of calls, at most one per key. The zero value is ready to
// use; a Group must not be copied after first use.
type Group[V any] struct {
	mu    sync.Mutex
	calls map[string]*Call[V]

	// OnJoin, if set, is called with the key whenever a caller joins a call
	// it did not start, under the group's lock, so it must not block on
	// another caller. It is a hook for tests that order callers without
	// sleeping; set it before the group is used.
	OnJoin func(key string)
}

// Call is one piece of work that callers of the same key share.
type Call[V any] struct {
	group *Group[V]
	key   string
	done  chan struct{} // closed once val and err are set
	// published makes the first Publish the only one that counts.
	published atomic.Bool
	val       V
	err       error
	// holders counts the callers that hold the call: its leader until it
	// leaves, and every caller in Wait. Guarded by group.mu.
	holders int
	// cancel ends the context of Do's work; nil for a call from Join.
	cancel context.CancelFunc
}

// Join returns the call for key, starting one if there is none; leader
// reports whether the caller started it. A leader must Publish a result
// and Leave the group, on every path, panics included; the others Wait.
func (g *Group[V]) Join(key string) (c *Call[V], leader bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c := g.joinLocked(key); c != nil {
		return c, false
	}
	return g.startLocked(key), true
}

// joinLocked joins key's running call, if there is one. g.mu must be held.
func (g *Group[V]) joinLocked(key string) *Call[V] {
	c := g.calls[key]
	if c == nil {
		return nil
	}
	c.holders++
	if g.OnJoin != nil {
		g.OnJoin(key)
	}
	return c
}

// startLocked starts a call for key, held by its leader. g.mu must be held.
func (g *Group[V]) startLocked(key string) *Call[V] {
	if g.calls == nil {
		g.calls = make(map[string]*Call[V])
	}
	c := &Call[V]{group: g, key: key, done: make(chan struct{}), holders: 1}
	g.calls[key] = c
	return c
}

// Leave ends c's membership of the group: callers of its key arriving
// from now on start a call of their own. Waiters already joined still get
// what c publishes. Leaving twice, or after another call took the key, is
// harmless.
func (g *Group[V]) Leave(c *Call[V]) {
	g.mu.Lock()
	g.forgetLocked(c)
	g.mu.Unlock()
}

func (g *Group[V]) forgetLocked(c *Call[V]) {
	if g.calls[c.key] == c {
		delete(g.calls, c.key)
	}
}

// Publish hands v to the callers waiting for c and to those that join it
// until its leader leaves. Only the first Publish counts; later ones are
// ignored, so that a leader may publish early and still publish a
// fallback on its way out.
func (c *Call[V]) Publish(v V) { c.finish(v, nil) }

func (c *Call[V]) finish(v V, err error) {
	if c.published.CompareAndSwap(false, true) {
		c.val, c.err = v, err
		close(c.done)
	}
}

// Wait returns c's result once it is published, or ctx's error if ctx ends
// first; a result published by then is still returned. A caller that gives
// up lets go of the call: once nobody holds a call of [Group.Do], it is
// forgotten, so that a caller arriving later starts afresh rather than join
// work being cancelled, and its work's context is cancelled. For Do, the
// error is also the work's [*PanicError] or [ErrGoexit].
func (c *Call[V]) Wait(ctx context.Context) (V, error) {
	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
	}
	select {
	case <-c.done: // published just as the caller gave up: use it
		return c.val, c.err
	default:
	}
	g := c.group
	g.mu.Lock()
	c.holders--
	abandoned := c.holders == 0 && c.cancel != nil
	if abandoned {
		g.forgetLocked(c)
	}
	g.mu.Unlock()
	if abandoned {
		c.cancel()
	}
	var zero V
	return zero, ctx.Err()
}

// Do returns the result of fn for key, running fn unless a call of key is
// running, in which case it waits for that one (see [Call.Wait] for the
// error). spawn runs fn in a goroutine that may outlive ctx, under a
// context with ctx's values and not its cancellation, cancelled once every
// caller has given up; when spawn is nil fn runs in a goroutine of its own,
// and when spawn refuses (a closed owner) it runs in the caller's goroutine
// under ctx. The key is forgotten as soon as fn returns: a caller arriving
// after that runs fn again, as a cache's callers want once fn stored its
// result.
func (g *Group[V]) Do(ctx context.Context, key string, spawn func(func()) bool, fn func(context.Context) V) (V, error) {
	g.mu.Lock()
	if c := g.joinLocked(key); c != nil {
		g.mu.Unlock()
		return c.Wait(ctx)
	}
	c := g.startLocked(key)
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	g.mu.Unlock()

	run := func() { g.run(wctx, c, fn) }
	switch {
	case spawn == nil:
		go run()
	case !spawn(run):
		g.run(ctx, c, fn)
	}
	return c.Wait(ctx)
}

// run runs fn for c and publishes what it returned, or how it failed to.
func (g *Group[V]) run(ctx context.Context, c *Call[V], fn func(context.Context) V) {
	var v V
	returned := false
	defer func() {
		var err error
		if !returned {
			if r := recover(); r != nil {
				err = &PanicError{Value: r, Stack: debug.Stack()}
			} else {
				err = ErrGoexit
			}
		}
		g.Leave(c)
		c.cancel()
		c.finish(v, err)
	}()
	v = fn(ctx)
	returned = true
}
