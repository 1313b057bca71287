package patterns

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// The kinds of failure Options.Logger rate-limits separately.
const (
	opCache   = "cache"   // a cache call a caller absorbed
	opRefresh = "refresh" // a background refresh
	opLoad    = "load"    // a loader, whose error went to the callers
)

// reportAs hands a failure to Options.OnError and Options.Logger; op says
// which kind it is.
func (p *Layer) reportAs(ctx context.Context, op, key string, err error) {
	if err == nil {
		return
	}
	if p.opts.OnError != nil {
		p.opts.OnError(ctx, key, err)
	}
	if p.flog == nil || errors.Is(err, context.Canceled) {
		return
	}
	msg, level := "cache failure absorbed; served from the loader", slog.LevelWarn
	if op == opRefresh {
		msg = "background refresh failed; the cached value stays until it expires"
	}
	p.flog.Failed(ctx, level, op, msg, err, slog.String("key", key))
}

// loadFailed logs a loader's failure, which Aside returns to its callers:
// at debug level, since those callers see it, and not for "not found",
// which is an answer.
func (p *Layer) loadFailed(ctx context.Context, key string, err error) {
	if p.flog == nil || errors.Is(err, ErrNotFound) || errors.Is(err, context.Canceled) {
		return
	}
	p.flog.Failed(ctx, slog.LevelDebug, opLoad, "load failed; returned to its callers", err, slog.String("key", key))
}

// Hooks are functions called at the points of a load, for tracing and
// metrics, in the manner of net/http/httptrace.ClientTrace: a nil field is
// not called, and the zero value costs a nil check per load. They are
// called from many goroutines at once and should return quickly.
type Hooks struct {
	// Load is called as a loader is about to run: for a miss of Aside, a
	// refresh-ahead reload in the background, or an item of Warm. The
	// context it returns is the loader's (a span's, so that what the
	// loader does nests in it), and done is called once the loader has
	// returned (or panicked, with a non-nil error), with what it returned:
	// nil, an error matching ErrNotFound for "the origin has none", or its
	// failure.
	Load func(ctx context.Context, info LoadInfo) (loadCtx context.Context, done func(err error))

	// Joined is called when an Aside call that missed did not run the
	// loader itself but was served by the load another call in this
	// process started (the coalesced waiters): with how long it waited and
	// the load's error, nil when it brought a value. A call that gave up
	// waiting, or whose load panicked, is not reported.
	Joined func(ctx context.Context, key string, waited time.Duration, err error)
}

// LoadInfo describes a load about to run.
type LoadInfo struct {
	// Key is the key being loaded.
	Key  string
	Kind LoadKind
}

// LoadKind says why a loader runs.
type LoadKind uint8

// Kinds of load.
const (
	// LoadMiss: Aside missed; its callers wait for the load.
	LoadMiss LoadKind = iota + 1
	// LoadRefresh: a refresh-ahead reload of a value still cached, in the
	// background.
	LoadRefresh
	// LoadWarm: an item of Warm.
	LoadWarm
)

// String returns the kind as metrics label it: "miss", "refresh" or
// "warm".
func (k LoadKind) String() string {
	switch k {
	case LoadMiss:
		return "miss"
	case LoadRefresh:
		return "refresh"
	case LoadWarm:
		return "warm"
	}
	return "unknown"
}

// observeLoad runs run, a loader's run, inside Hooks.Load, which must be
// set.
func (p *Layer) observeLoad(ctx context.Context, info LoadInfo, run func(context.Context) error) error {
	lctx, done := p.opts.Hooks.Load(ctx, info)
	if lctx == nil {
		lctx = ctx
	}
	finished := false
	var err error
	defer func() {
		if done == nil {
			return
		}
		if !finished {
			err = errLoaderPanicked
		}
		done(err)
	}()
	err = run(lctx)
	finished = true
	return err
}

// errLoaderPanicked is what Hooks.Load's done is given for a loader that
// panicked; the panic itself goes on to the callers.
var errLoaderPanicked = errors.New("patterns: loader panicked")

// joinStart returns when a call began waiting, for Hooks.Joined: the zero
// time without the hook, so that a call reads the clock only for it.
func (p *Layer) joinStart() time.Time {
	if p.opts.Hooks.Joined == nil {
		return time.Time{}
	}
	return time.Now()
}
