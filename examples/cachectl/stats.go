package main

import (
	"context"
	"encoding/json"
	"flag"
	"strconv"
	"time"

	"github.com/emgcache/emgcache/health/client"
)

var statsCommand = command{
	synopsis: "stats [-json]",
	help: `Prints what the cache counted since the server started: hits (and the
parts served from process memory and from the stale copy), misses, hit
rate, errors, writes, memory, latency percentiles and the circuit
breaker's state.
`,
	bind: func(fs *flag.FlagSet) func(context.Context, *app, []string) int {
		asJSON := fs.Bool("json", false, "print the stats as JSON, with the API's field names")
		return func(ctx context.Context, a *app, args []string) int {
			return runStats(ctx, a, args, *asJSON)
		}
	},
}

func runStats(ctx context.Context, a *app, args []string, asJSON bool) int {
	if len(args) > 0 {
		return a.usageError("stats", "takes no arguments")
	}
	c, err := a.client()
	if err != nil {
		return a.fail("stats", err)
	}
	defer c.CloseIdleConnections()
	ctx, cancel := a.callContext(ctx)
	defer cancel()
	s, err := c.Stats(ctx)
	if err != nil {
		return a.fail("stats", err)
	}
	if asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(s)
	} else {
		err = writeTable(a.stdout, statsRows(s))
	}
	if err != nil {
		return a.fail("stats", err)
	}
	return exitOK
}

// statsRows is the stats table, shared by stats and watch.
func statsRows(s client.Stats) []row {
	rows := []row{
		{"backend", s.Backend, ""},
		{"healthy", yesNo(s.Healthy), ""},
		{"requests", count(s.TotalRequests), ""},
		{"hits", count(s.Hits), ""},
		{"local hits", count(s.LocalHits), ""},
		{"stale hits", count(s.StaleHits), ""},
		{"misses", count(s.Misses), ""},
		{"hit rate", strconv.FormatFloat(s.HitRate*100, 'f', 1, 64), "%"},
		{"errors", count(s.Errors), ""},
		{"writes", count(s.Writes), ""},
		{"deletes", count(s.Deletes), ""},
		{"memory", megabytes(s.MemoryBytes), "MB"},
	}
	if s.MaxMemoryBytes > 0 {
		rows = append(rows, row{"memory limit", megabytes(s.MaxMemoryBytes), "MB"})
	}
	for _, p := range []struct {
		label string
		d     time.Duration
	}{
		{"latency p50", s.Latency.P50},
		{"latency p90", s.Latency.P90},
		{"latency p99", s.Latency.P99},
	} {
		v, u := latency(p.d)
		rows = append(rows, row{p.label, v, u})
	}
	return append(rows,
		row{"breaker", string(s.Breaker), ""},
		row{"breaker trips", count(s.BreakerTrips), ""},
	)
}
