// Command loadrun measures the EMG analysis endpoint under HTTP load, cached
// and uncached, beside a bare handler writing the same bytes (the floor),
// with Redis and with the embedded backend, and writes a Markdown table.
//
// It starts everything it measures on loopback ports and stops it again: a
// private redis-server (the storetest helper: never the one on 6379) and
// either the example server, built from its package directory with -server,
// or, without -server, the middleware wrapping a simulated query in this
// process. Load comes from -concurrency workers in a closed loop (each
// waits for its response before sending the next) over keep-alive
// connections, for -duration or -requests per scenario, whichever ends
// first, repeated -rounds times in rotating order; the table gives the
// median round, and ratios to the floor of the same round. "Uncached" sends Cache-Control: no-store, which the
// middleware honours by going to the handler without storing.
//
// Usage:
//
//	loadrun [-server ../examples/server] [-o load.md] [-duration 3s] [-concurrency 32]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"
)

// config is what one run measures and how.
type config struct {
	// serverDir is the example server's package directory; empty measures
	// the middleware in process.
	serverDir string
	// serverArgs are extra arguments of the example server.
	serverArgs  []string
	backends    []string
	load        load
	rounds      int
	originDelay time.Duration
}

func main() {
	var (
		cfg        config
		out        = flag.String("o", "", "write the Markdown table to this file instead of standard output")
		backends   = flag.String("backends", "redis,embedded", "comma-separated backends: redis, embedded")
		serverArgs = flag.String("server-args", "-log-level warn", "space-separated extra arguments of the example server; the default keeps its per-request access log out of the measurement")
	)
	flag.StringVar(&cfg.serverDir, "server", "", "package directory of the example server to build and run; empty: the middleware in process")
	flag.IntVar(&cfg.load.concurrency, "concurrency", 32, "concurrent clients")
	flag.DurationVar(&cfg.load.duration, "duration", 3*time.Second, "longest a scenario runs in one round")
	flag.Int64Var(&cfg.load.maxRequests, "requests", 200_000, "most requests a scenario sends in one round")
	flag.IntVar(&cfg.rounds, "rounds", 5, "rounds of every scenario; the table gives the median")
	flag.DurationVar(&cfg.originDelay, "origin-delay", 50*time.Millisecond, "duration of the simulated query without -server")
	// Floor mode, which loadrun runs itself in, beside the example server.
	floorAddr := flag.String("floor-addr", "", "internal: serve -floor-body on this address and nothing else")
	floorBody := flag.String("floor-body", "", "internal: file of the floor's response body")
	floorType := flag.String("floor-type", "application/json", "internal: Content-Type of the floor's response")
	flag.Parse()
	if *floorAddr != "" {
		if err := serveFloor(*floorAddr, *floorBody, *floorType); err != nil {
			fmt.Fprintln(os.Stderr, "loadrun floor:", err)
			os.Exit(1)
		}
		return
	}
	cfg.backends = strings.Split(*backends, ",")
	cfg.serverArgs = strings.Fields(*serverArgs)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	w := io.Writer(os.Stdout)
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadrun:", err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	if err := run(ctx, cfg, w, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadrun:", err)
		os.Exit(1)
	}
}
