package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/emgcache/emgcache/examples/internal/httpserve"
	"github.com/emgcache/emgcache/examples/internal/recordstore"
	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// Once the first signal has started the shutdown, a second one ends the
	// process at once, for whoever does not want to wait for it.
	context.AfterFunc(ctx, stop)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	case errors.As(err, new(*loggedError)):
		// Already in the log, which is where an operator looks; said
		// again on stderr it would read as a second failure.
		os.Exit(1)
	default:
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// loggedError is an error run has logged already.
type loggedError struct{ err error }

func (e *loggedError) Error() string { return e.err.Error() }
func (e *loggedError) Unwrap() error { return e.err }

// run is the whole program: it serves until ctx ends, then shuts down
// gracefully and returns nil. Logs, and usage on a bad command line, go to
// out; settings come from args and getenv.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	cfg, err := parseConfig(args, getenv, out)
	if err != nil {
		return err
	}
	// Written out before run returns, the failure included.
	buf := newLogBuffer(out, logFlushInterval)
	defer func() { _ = buf.Close() }()
	log := newLogger(buf, cfg)
	if err := serve(ctx, cfg, log, buf); err != nil {
		log.Error("server failed", "error", err)
		return &loggedError{err: err}
	}
	log.Info("stopped")
	return nil
}

// serve opens the database and the cache, serves until ctx ends and closes
// everything again, the database last. With EMGCACHE_OTEL=stdout, spans
// go to spans, beside the log.
func serve(ctx context.Context, cfg config, log *slog.Logger, spans io.Writer) (err error) {
	token := cfg.adminToken
	if token == "" {
		if token, err = newAdminToken(); err != nil {
			return err
		}
		// Logged once, so that the operator can use the endpoint; without a
		// token the endpoint would be closed, with a guessable one open.
		log.Warn("CACHE_ADMIN_TOKEN is not set; generated an admin token for this run", "admin_token", token)
	}

	repo, err := recordstore.Open(ctx, cfg.dbPath)
	if err != nil {
		return err
	}
	defer closeLogged(log, "database", repo)

	tel, err := newTelemetry(cfg.otel, spans)
	if err != nil {
		return err
	}
	defer func() {
		// After the cache and the database have closed, with their last
		// spans.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownTimeout)
		defer cancel()
		if err := tel.shutdown(sctx); err != nil {
			log.Warn("telemetry not flushed", "error", err)
		}
	}()
	if tel.on() {
		cfg.store.Hooks = tel.inst.StoreHooks(cfg.store)
		log.Info("OpenTelemetry on: spans to standard output, metrics at "+metricsPath, "env", envOtel+"="+cfg.otel)
	}

	cache, err := store.Open(ctx, cfg.store)
	if err != nil {
		return fmt.Errorf("open cache: %w", err)
	}
	defer closeLogged(log, "cache", cache)
	limit, restoreLimit := setMemoryLimit(cache, cfg.goMemLimit)
	defer restoreLimit()
	if limit > 0 {
		log.Info("soft memory limit set from the cache's bound; GOMEMLIMIT overrides it", "memory_limit_bytes", limit)
	}
	if h := cache.Health(ctx); !h.Healthy {
		log.Warn("cache unavailable at start; serving from the database until it answers",
			"backend", cache.Backend(), "url", cfg.store.RedactedURL(), "error", h.Error)
	}

	cacheLog := newCacheErrorLog(log)
	popts := patterns.Options{OnError: func(ctx context.Context, key string, err error) {
		cacheLog.absorbed(ctx, key, err)
	}}
	if tel.on() {
		popts.Hooks = tel.inst.PatternsHooks()
	}
	p := patterns.New(cache, popts)
	// Closed before the cache: it waits for loads that still write to it.
	defer p.Close()

	app := &server{
		repo:          repo,
		cache:         cache,
		patterns:      p,
		analysisCache: newAnalysisCache(cache, cacheLog, tel),
		telemetry:     tel,
		readers:       readers(),
		log:           log,
		cacheLog:      cacheLog,
		maxUpload:     cfg.maxUploadBytes,
		adminToken:    token,
	}
	srv := &http.Server{
		Handler:           app.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		// Long enough for a full-size upload over a slow link and the
		// analysis of a long recording; short enough that a stalled
		// client does not hold a connection forever.
		ReadTimeout:  2 * time.Minute,
		WriteTimeout: 2 * time.Minute,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	return httpserve.Serve(ctx, srv, httpserve.Options{
		Addr:            cfg.addr,
		ShutdownTimeout: cfg.shutdownTimeout,
		Log:             log,
		Listening: func(addr net.Addr) {
			log.Info("listening", "addr", addr.String(), "cache_backend", cache.Backend(),
				"redis_url", cfg.store.RedactedURL(), "db", cfg.dbPath, "max_upload_bytes", cfg.maxUploadBytes)
		},
		// Revalidations started by the last requests still write to the
		// cache, which closes after this function returns.
		Drain: func(ctx context.Context) {
			if err := app.analysisCache.Close(ctx); err != nil {
				log.Warn("background revalidations still running at the shutdown deadline", "error", err)
			}
		},
	})
}

// newAdminToken returns 32 random bytes in hex.
func newAdminToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate admin token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// closeLogged closes c and logs a failure, which at shutdown has nobody
// else to go to.
func closeLogged(log *slog.Logger, what string, c io.Closer) {
	if err := c.Close(); err != nil {
		log.Error("close "+what, "error", err)
	}
}
