package httpserve

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Options says where to listen and how to stop.
type Options struct {
	// Addr is the address to listen on, as net.Listen takes it.
	Addr string
	// ShutdownTimeout is how long the requests in flight get to finish once
	// the context ends; connections still open then are closed.
	ShutdownTimeout time.Duration
	// Log hears the shutdown and its overrun. Required.
	Log *slog.Logger
	// Listening, if set, is called with the address once connections are
	// accepted, before the first is served: the program logs it there.
	Listening func(addr net.Addr)
	// Drain, if set, runs after the server has stopped, with what is left
	// of the shutdown deadline: work the last requests started in the
	// background (revalidations, writes) finishes there.
	Drain func(ctx context.Context)
}

// Serve serves srv on opts.Addr until ctx ends, then shuts it down. It
// returns nil after a shutdown, or the error that stopped it from
// listening or serving.
func Serve(ctx context.Context, srv *http.Server, opts Options) error {
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if opts.Listening != nil {
		opts.Listening(ln.Addr())
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	opts.Log.Info("shutting down", "timeout", opts.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		opts.Log.Warn("requests still running at the shutdown deadline; closing their connections", "error", err)
		_ = srv.Close()
	}
	<-served // http.ErrServerClosed, now that Shutdown or Close has returned
	if opts.Drain != nil {
		opts.Drain(sctx)
	}
	return nil
}
