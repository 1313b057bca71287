package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/emgcache/emgcache/health/client"
)

// defaultWatchInterval matches the refresh of the server's HTML dashboard.
const defaultWatchInterval = 2 * time.Second

var watchCommand = command{
	synopsis: "watch [-interval D] [-count N]",
	help: `Shows the health and stats of the cache, refreshed every interval until
Ctrl-C, or until -count refreshes. On a terminal the view is redrawn in
place; otherwise each refresh appends one line, for logs. A refresh that
fails is shown and watching goes on, so a restarting server does not end
it. Exits 0, or 2 when no refresh succeeded.
`,
	bind: func(fs *flag.FlagSet) func(context.Context, *app, []string) int {
		interval := fs.Duration("interval", defaultWatchInterval, "time between refreshes")
		n := fs.Int("count", 0, "stop after `N` refreshes; 0 means never")
		return func(ctx context.Context, a *app, args []string) int {
			return runWatch(ctx, a, args, *interval, *n)
		}
	},
}

func runWatch(ctx context.Context, a *app, args []string, interval time.Duration, n int) int {
	switch {
	case len(args) > 0:
		return a.usageError("watch", "takes no arguments")
	case interval <= 0:
		return a.usageError("watch", "-interval must be positive")
	case n < 0:
		return a.usageError("watch", "-count must not be negative")
	}
	c, err := a.client()
	if err != nil {
		return a.fail("watch", err)
	}
	defer c.CloseIdleConnections()

	w := &watcher{a: a, c: c, interval: interval, terminal: isTerminal(a.stdout)}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var refreshes, succeeded int
	for ctx.Err() == nil {
		ok := w.refresh(ctx)
		if !ok && ctx.Err() != nil {
			// Stopped during the fetch, which is not a failed refresh.
			break
		}
		refreshes++
		if ok {
			succeeded++
		}
		if n > 0 && refreshes >= n {
			break
		}
		select {
		case <-ctx.Done():
		case <-ticker.C:
		}
	}
	if refreshes > 0 && succeeded == 0 {
		return exitError
	}
	return exitOK
}

// watcher draws one refresh at a time and remembers the previous one, to
// show the request rate between the two.
type watcher struct {
	a        *app
	c        *client.Client
	interval time.Duration
	terminal bool
	drawn    bool

	prev   client.Stats
	prevAt time.Time
}

// refresh fetches the dashboard, draws it and reports whether it could.
func (w *watcher) refresh(ctx context.Context) bool {
	callCtx, cancel := w.a.callContext(ctx)
	defer cancel()
	d, err := w.c.Dashboard(callCtx)
	now := time.Now()
	if err != nil && ctx.Err() != nil {
		// Interrupted while fetching: nothing to show.
		return false
	}
	rate := "-"
	if err == nil {
		rate = w.rate(d.Stats, now)
	}
	if w.terminal {
		w.drawView(d, err, rate, now)
	} else {
		w.drawLine(d, err, rate, now)
	}
	return err == nil
}

// rate is the requests per second since the previous successful refresh;
// "-" on the first, or when the counters went back because the server
// restarted.
func (w *watcher) rate(s client.Stats, now time.Time) string {
	defer func() { w.prev, w.prevAt = s, now }()
	if w.prevAt.IsZero() || s.TotalRequests < w.prev.TotalRequests {
		return "-"
	}
	elapsed := now.Sub(w.prevAt).Seconds()
	if elapsed <= 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(s.TotalRequests-w.prev.TotalRequests)/elapsed, 'f', 1, 64)
}

func (w *watcher) drawView(d client.Dashboard, err error, rate string, now time.Time) {
	var b strings.Builder
	fmt.Fprintf(&b, "cachectl watch  %s  every %s  %s\n\n", w.a.server, w.interval, now.Format(time.TimeOnly))
	if err != nil {
		fmt.Fprintf(&b, "error: %s\n", w.a.explain(err))
	} else {
		status := "healthy"
		if !d.Healthy {
			status = "unhealthy"
		}
		v, u := latency(d.Health.Latency)
		rows := append([]row{
			{"status", status, ""},
			{"ping", v, u},
			{"rate", rate, "req/s"},
		}, statsRows(d.Stats)...)
		_ = writeTable(&b, rows)
		if d.Health.Error != "" {
			fmt.Fprintf(&b, "error: %s\n", d.Health.Error)
		}
	}
	b.WriteString("\nCtrl-C to stop\n")

	var out strings.Builder
	if !w.drawn {
		out.WriteString(ansiClearScreen)
		w.drawn = true
	}
	out.WriteString(ansiHome)
	out.WriteString(strings.ReplaceAll(b.String(), "\n", ansiClearLine+"\n"))
	out.WriteString(ansiClearBelow)
	_, _ = io.WriteString(w.a.stdout, out.String())
}

// drawLine appends one line of key=value pairs, which grep and awk read.
func (w *watcher) drawLine(d client.Dashboard, err error, rate string, now time.Time) {
	ts := now.Format(time.RFC3339)
	if err != nil {
		fmt.Fprintf(w.a.stdout, "%s error=%q\n", ts, w.a.explain(err))
		return
	}
	s := d.Stats
	status := "healthy"
	if !d.Healthy {
		status = "unhealthy"
	}
	fmt.Fprintf(w.a.stdout,
		"%s status=%s backend=%s breaker=%s requests=%d hits=%d local_hits=%d misses=%d hit_rate=%.1f%% errors=%d memory_mb=%.2f p50=%s p90=%s p99=%s req_per_s=%s\n",
		ts, status, s.Backend, s.Breaker, s.TotalRequests, s.Hits, s.LocalHits, s.Misses, s.HitRate*100, s.Errors,
		float64(s.MemoryBytes)/(1<<20), compactLatency(s.Latency.P50), compactLatency(s.Latency.P90), compactLatency(s.Latency.P99), rate)
}
