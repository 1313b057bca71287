package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/emgcache/emgcache/store"
)

// Defaults of the command-line flags.
const (
	// defaultAddr is where the server listens without -addr or ADDR.
	defaultAddr = ":8080"
	// defaultDBPath is the SQLite file holding uploads and preferences,
	// relative to the working directory, so that `make run` keeps its data
	// across restarts.
	defaultDBPath = "emgcache-server.db"
	// defaultMaxUploadBytes bounds one upload: 32 MiB holds about 20 minutes
	// of 4-channel EMG at 2 kHz as CSV, and is read into memory whole.
	defaultMaxUploadBytes = 32 << 20
	// defaultShutdownTimeout is how long in-flight requests get to finish
	// after SIGINT or SIGTERM before their connections are closed.
	defaultShutdownTimeout = 10 * time.Second
)

// Environment variables read besides the store's (see store.ConfigFromGetenv).
const (
	envAddr       = "ADDR"
	envAdminToken = "CACHE_ADMIN_TOKEN"
)

// errUsage means the command line was wrong and the usage has been printed.
var errUsage = errors.New("usage")

// config is the command line and environment, validated.
type config struct {
	addr            string
	dbPath          string
	maxUploadBytes  int64
	shutdownTimeout time.Duration
	logFormat       string
	logLevel        slog.Level
	// adminToken comes from the environment only: a flag would show it to
	// anyone who can list processes.
	adminToken string
	// goMemLimit is GOMEMLIMIT: set, it replaces the memory limit the
	// server derives from the cache's bound.
	goMemLimit string
	// otel is EMGCACHE_OTEL: "stdout" or off.
	otel  string
	store store.Config
}

// parseConfig reads args and getenv. Usage and flag errors go to out; the
// returned error is then flag.ErrHelp or errUsage.
func parseConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	cfg := config{
		adminToken: strings.TrimSpace(getenv(envAdminToken)),
		goMemLimit: strings.TrimSpace(getenv(envGoMemLimit)),
		otel:       strings.TrimSpace(getenv(envOtel)),
		// Through getenv, so that an in-process caller chooses the backend
		// and its settings like every other setting.
		store: store.ConfigFromGetenv(getenv),
	}

	addr := defaultAddr
	if v := strings.TrimSpace(getenv(envAddr)); v != "" {
		addr = v
	}
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: server [flags]

Serves the EMG workflow (upload, metadata, analysis, user preferences) behind
the cache, and the cache's monitoring API under /api/cache/.

Environment:
  ADDR               listen address when -addr is not given (default %q)
  REDIS_URL          Redis to cache in; unset means the embedded in-memory cache
  CACHE_ADMIN_TOKEN  bearer token of POST /api/cache/invalidate; unset means a
                     random one, logged once at start
  EMGCACHE_*         further cache settings, see the store package
  GOMEMLIMIT         the Go runtime's soft memory limit; unset means one derived
                     from the cache's memory bound (bound + 25%% + 64 MiB)
  EMGCACHE_OTEL      stdout: OpenTelemetry spans to standard output as JSON, and
                     metrics for Prometheus at GET /metrics; unset or off: none

Flags:
`, defaultAddr)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.addr, "addr", addr, "listen `address`; port 0 picks a free port, which is logged")
	fs.StringVar(&cfg.dbPath, "db", defaultDBPath, "SQLite database `file` for uploads and preferences; :memory: keeps nothing")
	fs.Int64Var(&cfg.maxUploadBytes, "max-upload", defaultMaxUploadBytes, "largest accepted upload in `bytes`; larger ones get 413")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "how long in-flight requests may run after SIGINT or SIGTERM")
	fs.StringVar(&cfg.logFormat, "log-format", "text", "log `format`: text or json")
	fs.TextVar(&cfg.logLevel, "log-level", slog.LevelInfo, "minimum log `level`: debug, info, warn or error")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config{}, err
		}
		return config{}, errUsage
	}
	var problems []string
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments: %q", fs.Args()))
	}
	if cfg.addr == "" {
		problems = append(problems, "-addr is empty")
	}
	if cfg.maxUploadBytes <= 0 {
		problems = append(problems, fmt.Sprintf("-max-upload %d is not positive", cfg.maxUploadBytes))
	}
	if cfg.shutdownTimeout <= 0 {
		problems = append(problems, fmt.Sprintf("-shutdown-timeout %v is not positive", cfg.shutdownTimeout))
	}
	if cfg.otel != "" && cfg.otel != "off" && cfg.otel != "stdout" {
		problems = append(problems, fmt.Sprintf("%s=%q is neither stdout nor off", envOtel, cfg.otel))
	}
	if cfg.logFormat != "text" && cfg.logFormat != "json" {
		problems = append(problems, fmt.Sprintf("-log-format %q is neither text nor json", cfg.logFormat))
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(fs.Output(), p)
		}
		fs.Usage()
		return config{}, errUsage
	}
	return cfg, nil
}

// newLogger returns the program's logger, writing to out.
func newLogger(out io.Writer, cfg config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.logLevel}
	if cfg.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(out, opts))
	}
	return slog.New(slog.NewTextHandler(out, opts))
}
