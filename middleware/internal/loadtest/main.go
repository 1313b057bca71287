// Command loadtest measures the middleware under load on real loopback
// listeners: one handler serving a 4 KiB analysis directly (the floor) and
// the same handler behind the middleware with its response cached (hit).
// The servers run in a child process, so that their CPU time can be read
// apart from the load generator's; the load comes from a Go HTTP client
// over a fixed number of keep-alive connections. Rounds alternate between
// the two servers (floor-hit, hit-floor, ...) and each is bounded by -n
// requests and -max-time. It prints requests per second, p50, p99 and the
// servers' CPU time per request for each round, and the medians of the
// per-round ratios: on a busy machine two neighbouring runs suffer alike,
// and server CPU per request hardly depends on what else runs.
//
//	go run ./internal/loadtest                # embedded backend
//	go run ./internal/loadtest -redis start   # a private redis-server on a free port
//	go run ./internal/loadtest -redis redis://127.0.0.1:7000/0
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

const (
	fileHash = "9e107d9d372bb6826bd81d3542a419d6"
	path     = "/api/emg/analysis/" + fileHash
)

func main() {
	var (
		requests = flag.Int("n", 10000, "requests per round")
		conns    = flag.Int("c", 16, "concurrent connections")
		rounds   = flag.Int("rounds", 11, "rounds per server")
		maxTime  = flag.Duration("max-time", 15*time.Second, "longest a round may run")
		bodySize = flag.Int("body", 4096, "response body bytes")
		redisURL = flag.String("redis", "", `Redis URL, "start" for a private redis-server, empty for the embedded backend`)
		serve    = flag.Bool("serve", false, "run the servers and print their URLs (the load generator starts this itself)")
	)
	flag.Parse()
	log.SetFlags(0)
	var err error
	if *serve {
		err = runServers(*bodySize, *redisURL)
	} else {
		err = run(*requests, *conns, *rounds, *maxTime, *bodySize, *redisURL)
	}
	if err != nil {
		log.Fatal(err)
	}
}

// runServers is the child process: the floor, the cached server and a
// control endpoint reporting the process's CPU time, until stdin closes.
func runServers(bodySize int, redisURL string) error {
	cache, err := store.Open(context.Background(), store.Config{URL: redisURL, KeyPrefix: "loadtest:"})
	if err != nil {
		return err
	}
	defer cache.Close()

	body := []byte("[" + strings.Repeat("0", max(bodySize-2, 0)) + "]")
	analysis := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	floorMux := http.NewServeMux()
	floorMux.Handle("GET /api/emg/analysis/{file_hash}", analysis)
	hitMux := http.NewServeMux()
	hitMux.Handle("GET /api/emg/analysis/{file_hash}", middleware.New(cache, middleware.Options{})(analysis))
	ctlMux := http.NewServeMux()
	ctlMux.HandleFunc("GET /cpu", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, int64(cpuTime()))
	})

	var urls []string
	for _, h := range []http.Handler{floorMux, hitMux, ctlMux} {
		s, err := serve(h)
		if err != nil {
			return err
		}
		defer s.Close()
		urls = append(urls, s.URL)
	}
	fmt.Println(strings.Join(urls, " "))
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

func run(requests, conns, rounds int, maxTime time.Duration, bodySize int, redisURL string) error {
	backend := "embedded"
	if redisURL == "start" {
		srv, err := storetest.Start(context.Background(), storetest.Options{})
		if err != nil {
			return err
		}
		defer srv.Close()
		redisURL = srv.URL()
	}
	if redisURL != "" {
		u, err := url.Parse(redisURL)
		if err != nil {
			return fmt.Errorf("redis url: %w", err)
		}
		// A Redis on the default port may be somebody else's.
		if u.Port() == "6379" || u.Port() == "" {
			return errors.New("refusing to load a Redis on port 6379: give an explicit other port or -redis start")
		}
		if host := u.Hostname(); host != "127.0.0.1" && host != "localhost" && host != "::1" {
			return fmt.Errorf("refusing a Redis that is not on loopback: %s", host)
		}
		backend = "redis " + u.Host
	}

	child := exec.Command(os.Args[0], "-serve", "-body", strconv.Itoa(bodySize), "-redis", redisURL)
	child.Stderr = os.Stderr
	stdin, err := child.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		return err
	}
	if err := child.Start(); err != nil {
		return err
	}
	defer func() {
		_ = stdin.Close() // the child exits when its stdin closes
		_ = child.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("servers did not start: %w", err)
	}
	urls := strings.Fields(line)
	if len(urls) != 3 {
		return fmt.Errorf("servers said %q", line)
	}
	servers := map[string]string{"floor": urls[0], "hit": urls[1]}
	ctl := urls[2]
	if err := expectHit(servers["hit"] + path); err != nil {
		return err
	}

	fmt.Printf("backend %s, body %d bytes, %d connections, %d requests or %v per round\n\n",
		backend, bodySize, conns, requests, maxTime)
	fmt.Printf("%-6s %5s %10s %10s %10s %12s %7s\n", "", "round", "req/s", "p50", "p99", "server CPU", "errors")
	results := map[string][]result{}
	for round := 1; round <= rounds; round++ {
		order := []string{"floor", "hit"}
		if round%2 == 0 {
			slices.Reverse(order)
		}
		for _, name := range order {
			target := servers[name] + path
			load(target, conns, min(requests/10, 2000), maxTime) // warm the connections
			before, err := serverCPU(ctl)
			if err != nil {
				return err
			}
			res := load(target, conns, requests, maxTime)
			after, err := serverCPU(ctl)
			if err != nil {
				return err
			}
			if res.count > 0 {
				res.cpu = (after - before) / time.Duration(res.count)
			}
			results[name] = append(results[name], res)
			fmt.Printf("%-6s %5d %10.0f %10v %10v %10.1fµs %7d\n", name, round, res.rps, res.p50, res.p99,
				float64(res.cpu)/float64(time.Microsecond), res.errors)
		}
	}

	var tput, p50, p99, cpu []float64
	for i := range results["floor"] {
		f, h := results["floor"][i], results["hit"][i]
		tput = append(tput, f.rps/h.rps)
		p50 = append(p50, float64(h.p50)/float64(f.p50))
		p99 = append(p99, float64(h.p99)/float64(f.p99))
		cpu = append(cpu, float64(h.cpu)/float64(f.cpu))
	}
	fmt.Printf("\nmedians of per-round ratios (hit against floor):\n")
	fmt.Printf("  throughput floor/hit     %.3f  (target <= 1.2)\n", medianOf(tput))
	fmt.Printf("  p50 latency hit/floor    %.3f\n", medianOf(p50))
	fmt.Printf("  p99 latency hit/floor    %.3f\n", medianOf(p99))
	fmt.Printf("  server CPU/request h/f   %.3f\n", medianOf(cpu))
	return nil
}

// serverCPU asks the child for its CPU time so far.
func serverCPU(ctl string) (time.Duration, error) {
	resp, err := http.Get(ctl + "/cpu")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return time.Duration(n), err
}

func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

type server struct {
	URL string
	srv *http.Server
}

func (s *server) Close() { _ = s.srv.Close() }

func serve(h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &server{URL: "http://" + ln.Addr().String(), srv: srv}, nil
}

// expectHit fills the cache and checks that the next request is a hit, so
// that the hit rounds measure hits.
func expectHit(target string) error {
	var status string
	for range 2 {
		resp, err := http.Get(target)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		status = resp.Header.Get("Cache-Status")
	}
	if !strings.HasPrefix(status, "emgcache; hit") {
		return fmt.Errorf("the cached server does not hit: Cache-Status %q", status)
	}
	return nil
}

type result struct {
	rps      float64
	p50, p99 time.Duration
	cpu      time.Duration // server CPU time per request
	count    int
	errors   int64
}

// load sends up to n GETs to target over conns connections, for at most
// maxTime, and measures them.
func load(target string, conns, n int, maxTime time.Duration) result {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var (
		next, errs atomic.Int64
		wg         sync.WaitGroup
	)
	lat := make([][]time.Duration, conns)
	deadline := time.Now().Add(maxTime)
	start := time.Now()
	for i := range conns {
		wg.Go(func() {
			for next.Add(1) <= int64(n) && time.Now().Before(deadline) {
				t0 := time.Now()
				resp, err := client.Get(target)
				if err != nil {
					errs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs.Add(1)
					continue
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	res := result{errors: errs.Load(), count: len(all)}
	if len(all) > 0 {
		res.rps = float64(len(all)) / elapsed.Seconds()
		res.p50 = all[len(all)/2].Round(time.Microsecond)
		res.p99 = all[len(all)*99/100].Round(time.Microsecond)
	}
	return res
}
