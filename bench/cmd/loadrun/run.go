package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/emgcache/emgcache/store/storetest"
)

// scenario is one kind of request under load.
type scenario struct {
	name   string
	url    func(*target) string
	header http.Header
}

// scenarios are measured in rotating order, so that no scenario always runs
// first, on a cold machine, or last, after the others heated it.
var scenarios = []scenario{
	{"bare handler (floor)", func(t *target) string { return t.floorURL }, nil},
	{"analysis, cached", func(t *target) string { return t.analysisURL }, nil},
	{"analysis, uncached", func(t *target) string { return t.analysisURL }, http.Header{"Cache-Control": {"no-store"}}},
}

// row is one backend and scenario: its rounds, and the floor's rounds,
// which ran beside them.
type row struct {
	backend, scenario string
	rounds, floor     []measurement
}

// median is the round with the median throughput; its latencies are
// reported with it, so that the figures of a row come from one round.
func (r row) median() measurement { return medianRound(r.rounds) }

// vsFloor is the median over rounds of f(scenario)/f(floor) within a round:
// rounds a few seconds apart on a shared machine differ more than
// scenarios within a round do.
func (r row) vsFloor(f func(measurement) float64) float64 {
	var ratios []float64
	for i := range r.rounds {
		if b := f(r.floor[i]); b > 0 {
			ratios = append(ratios, f(r.rounds[i])/b)
		}
	}
	if len(ratios) == 0 {
		return 0
	}
	slices.Sort(ratios)
	if n := len(ratios); n%2 == 0 {
		return (ratios[n/2-1] + ratios[n/2]) / 2
	}
	return ratios[len(ratios)/2]
}

func run(ctx context.Context, cfg config, w, progress io.Writer) error {
	if cfg.rounds < 1 || cfg.load.concurrency < 1 || cfg.load.maxRequests < 1 || cfg.load.duration <= 0 {
		return fmt.Errorf("rounds, concurrency, requests and duration must be positive")
	}
	workDir, err := os.MkdirTemp("", "loadrun-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(workDir) }()

	var (
		redis        *storetest.Server
		redisVersion = "not used"
		rows         []row
		origin       string
	)
	defer func() {
		if redis != nil {
			_ = redis.Close()
		}
	}()
	for _, backend := range cfg.backends {
		storeURL := ""
		switch backend {
		case "redis":
			if redis == nil {
				if redis, err = storetest.Start(ctx, storetest.Options{}); err != nil {
					return err
				}
				redisVersion = serverVersion(ctx, redis)
			}
			storeURL = redis.URL()
		case "embedded":
		default:
			return fmt.Errorf("unknown backend %q (want redis or embedded)", backend)
		}
		var t *target
		if cfg.serverDir != "" {
			t, err = startServer(ctx, cfg.serverDir, cfg.serverArgs, storeURL, workDir)
		} else {
			t, err = startInProcess(ctx, storeURL, cfg.originDelay)
		}
		if err != nil {
			return fmt.Errorf("%s backend: %w", backend, err)
		}
		origin = t.origin
		got, err := measureTarget(ctx, t, cfg, backend, progress)
		t.close()
		if err != nil {
			return err
		}
		rows = append(rows, got...)
	}
	writeTable(w, cfg, rows, origin, redisVersion)
	return nil
}

// measureTarget runs every scenario against t for cfg.rounds rounds and
// returns the median round of each.
func measureTarget(ctx context.Context, t *target, cfg config, backend string, progress io.Writer) ([]row, error) {
	client := newClient(cfg.load.concurrency)
	defer client.CloseIdleConnections()
	// The first request is the miss that stores the analysis; cached
	// scenarios measure the steady state after it.
	if _, _, err := fetch(ctx, client, t.analysisURL); err != nil {
		return nil, err
	}
	byScenario := make([][]measurement, len(scenarios))
	for round := range cfg.rounds {
		for i := range scenarios {
			k := (i + round) % len(scenarios)
			s := scenarios[k]
			m := drive(ctx, client, getRequest(s.url(t), s.header), cfg.load)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			fmt.Fprintf(progress, "%s round %d: %-22s %8.0f req/s  p50 %-10v p99 %-10v errors %d  %s\n",
				backend, round+1, s.name, m.perSecond(), m.percentile(50), m.percentile(99), m.errors, m.cacheStatus)
			byScenario[k] = append(byScenario[k], m)
		}
	}
	rows := make([]row, len(scenarios))
	for i, s := range scenarios {
		rows[i] = row{backend: backend, scenario: s.name, rounds: byScenario[i], floor: byScenario[0]}
	}
	return rows, nil
}

// medianRound is the round with the median throughput; its latencies are
// reported with it, so that the figures of a row come from one round.
func medianRound(ms []measurement) measurement {
	s := slices.Clone(ms)
	slices.SortFunc(s, func(a, b measurement) int {
		switch {
		case a.perSecond() < b.perSecond():
			return -1
		case a.perSecond() > b.perSecond():
			return 1
		}
		return 0
	})
	return s[len(s)/2]
}

// serverVersion asks the server for its version.
func serverVersion(ctx context.Context, s *storetest.Server) string {
	info, err := s.Do(ctx, "INFO", "server")
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v
		}
	}
	return "unknown"
}

func writeTable(w io.Writer, cfg config, rows []row, origin, redisVersion string) {
	fmt.Fprintf(w, "%s; %d cores (GOMAXPROCS %d), %s, %s/%s; Redis %s.\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), runtime.GOMAXPROCS(0),
		runtime.Version(), runtime.GOOS, runtime.GOARCH, redisVersion)
	fmt.Fprintf(w, "Origin: %s. %d concurrent clients in a closed loop on loopback, %v or %d requests per scenario and round, %d rounds; the load generator shares the machine with the server. Figures are from the round with the median req/s; ratios are the median of each round's ratio to the floor measured in that round.\n\n",
		origin, cfg.load.concurrency, cfg.load.duration, cfg.load.maxRequests, cfg.rounds)
	fmt.Fprintln(w, "| backend | scenario | req/s | req/s vs floor | p50 | p99 | p50 vs floor | requests | errors | hits | last Cache-Status |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	p50 := func(m measurement) float64 { return float64(m.percentile(50)) }
	for _, r := range rows {
		m := r.median()
		fmt.Fprintf(w, "| %s | %s | %.0f | %s | %s | %s | %s | %d | %d | %d | %s |\n",
			r.backend, r.scenario, m.perSecond(), formatRatio(r.vsFloor(measurement.perSecond)),
			formatDuration(m.percentile(50)), formatDuration(m.percentile(99)),
			formatRatio(r.vsFloor(p50)), m.requests, m.errors, m.hits, orDash(m.cacheStatus))
	}
}

func formatRatio(r float64) string {
	switch {
	case r == 0:
		return "–"
	case r >= 100:
		return fmt.Sprintf("%.0f×", r)
	case r >= 10:
		return fmt.Sprintf("%.1f×", r)
	case r >= 0.1:
		return fmt.Sprintf("%.2f×", r)
	}
	return fmt.Sprintf("%.2g×", r)
}

func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3g ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.3g µs", float64(d)/1e3)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return "`" + s + "`"
}
