package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/emgcache/emgcache/examples/internal/httpserve"
	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/store"
)

// Defaults of the command-line flags.
const (
	// defaultListen is where the proxy listens without -listen.
	defaultListen = ":8081"
	// defaultShutdownTimeout is how long in-flight requests get to finish
	// after SIGINT or SIGTERM.
	defaultShutdownTimeout = 10 * time.Second
)

// errUsage means the command line was wrong and the usage has been printed.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, nil)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "proxy:", err)
		os.Exit(1)
	}
}

// config is the command line and environment, validated.
type config struct {
	listen string
	origin *url.URL
	stale  staleWindows
	store  store.Config
}

// staleWindows are how long past freshness a response may be served stale,
// where its own directives do not forbid it (RFC 9111 §4.2.4, RFC 5861).
type staleWindows struct {
	whileRevalidate, ifError time.Duration
}

func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	cfg := config{store: store.ConfigFromGetenv(getenv)}
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: proxy -origin URL [-listen ADDR]

A caching reverse proxy that follows RFC 9111 as a shared cache.

Environment:
  REDIS_URL   Redis to cache in; unset means the embedded in-memory cache
  EMGCACHE_*  the store's settings (see the store package)

Flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.listen, "listen", defaultListen, "address to listen on")
	origin := fs.String("origin", "", "origin server to proxy, as http://host:port (required)")
	fs.DurationVar(&cfg.stale.ifError, "stale-if-error", 0,
		"serve a response stale for this long past its freshness when the origin fails (5xx, unreachable); 0 is off")
	fs.DurationVar(&cfg.stale.whileRevalidate, "stale-while-revalidate", 0,
		"serve a response stale for this long past its freshness while it is refreshed in the background; 0 is off")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, errUsage
	}
	u, err := url.Parse(*origin)
	if err != nil || *origin == "" || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(out, "proxy: -origin must be an http:// or https:// URL with a host, got %q\n", *origin)
		fs.Usage()
		return cfg, errUsage
	}
	if cfg.stale.ifError < 0 || cfg.stale.whileRevalidate < 0 {
		fmt.Fprintln(out, "proxy: -stale-if-error and -stale-while-revalidate cannot be negative")
		return cfg, errUsage
	}
	cfg.origin = u
	return cfg, nil
}

// run is the whole program: it serves until ctx ends, then shuts down and
// returns nil. listening, when set, hears the address once the proxy
// accepts connections.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer, listening func(net.Addr)) error {
	cfg, err := parseConfig(args, getenv, out)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(out, nil))
	cache, err := store.Open(ctx, cfg.store)
	if err != nil {
		return fmt.Errorf("open cache: %w", err)
	}
	defer func() { _ = cache.Close() }()

	srv := &http.Server{
		Handler:           newProxy(cache, cfg.origin, cfg.stale, log),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return httpserve.Serve(ctx, srv, httpserve.Options{
		Addr:            cfg.listen,
		ShutdownTimeout: defaultShutdownTimeout,
		Log:             log,
		Listening: func(addr net.Addr) {
			log.Info("listening", "addr", addr.String(), "origin", cfg.origin.String(),
				"cache_backend", cache.Backend(), "redis_url", cfg.store.RedactedURL())
			if listening != nil {
				listening(addr)
			}
		},
	})
}

// newProxy is the middleware in SharedCache semantics around a reverse
// proxy to origin. Keys are grouped by path, proxy:{path}:{digest}
// (ResponseCache.Invalidate with a path, or InvalidateNamespace of
// proxy:{path}, drops its responses), and name the origin's host, never
// the client's Host header.
func newProxy(cache *store.Cache, origin *url.URL, stale staleWindows, log *slog.Logger) http.Handler {
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// SetURL also sends the origin's Host. X-Forwarded-* are not set:
			// an origin that reflected X-Forwarded-Host into a body would let a
			// client poison the entry everybody shares.
			pr.SetURL(origin)
		},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	mw := middleware.New(cache, middleware.Options{
		Semantics:       middleware.SharedCache,
		KeyFunc:         func(r *http.Request) string { return r.URL.Path },
		KeyPrefix:       "proxy:",
		NamespacePrefix: "proxy:",
		CanonicalHost:   origin.Host,
		// A response's must-revalidate, proxy-revalidate, s-maxage or
		// no-cache closes both windows; its own stale-* directives replace
		// them.
		StaleIfError:         stale.ifError,
		StaleWhileRevalidate: stale.whileRevalidate,
		OnError: func(r *http.Request, err error) {
			log.Warn("cache unavailable; request served from the origin", "path", r.URL.Path, "error", err)
		},
	})
	return mw(streamsOnly(rp))
}

// streamsOnly keeps httputil.ReverseProxy from flushing every response the
// origin sends without a Content-Length (a chunked one), as it does to
// keep streams streaming: each flush makes the middleware give up
// buffering, so no chunked response would ever be stored. Flushes still
// pass for text/event-stream, the one kind that is a stream by its type; any
// other response streams once it outgrows the middleware's MaxBodyBytes.
func streamsOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&eventStreamFlusher{ResponseWriter: w}, r)
	})
}

type eventStreamFlusher struct{ http.ResponseWriter }

// FlushError is what http.ResponseController, which ReverseProxy uses,
// calls first.
func (f *eventStreamFlusher) FlushError() error {
	ct, _, _ := mime.ParseMediaType(f.Header().Get("Content-Type"))
	if ct != "text/event-stream" {
		return nil
	}
	return http.NewResponseController(f.ResponseWriter).Flush()
}

func (f *eventStreamFlusher) Flush() { _ = f.FlushError() }

// Unwrap lets http.ResponseController reach the connection's deadlines.
func (f *eventStreamFlusher) Unwrap() http.ResponseWriter { return f.ResponseWriter }
