package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// load bounds one measurement: it ends at whichever limit comes first.
type load struct {
	concurrency int
	duration    time.Duration
	maxRequests int64
}

// measurement is what one scenario under load gave.
type measurement struct {
	requests int64
	errors   int64
	elapsed  time.Duration
	// latencies of the successful requests, sorted.
	latencies []time.Duration
	// hits counts the successful responses whose Cache-Status says hit, and
	// cacheStatus is that header of the last response: together they show
	// that a scenario measured what its name says.
	hits        int64
	cacheStatus string
}

func (m measurement) perSecond() float64 {
	if m.elapsed <= 0 {
		return 0
	}
	return float64(m.requests-m.errors) / m.elapsed.Seconds()
}

// percentile returns the p-th percentile latency (0 < p < 100), nearest
// rank.
func (m measurement) percentile(p float64) time.Duration {
	if len(m.latencies) == 0 {
		return 0
	}
	i := int(float64(len(m.latencies))*p/100+0.5) - 1
	return m.latencies[min(max(i, 0), len(m.latencies)-1)]
}

// drive sends newRequest's requests from l.concurrency workers, each
// waiting for its response before the next (a closed loop, so the server
// is never pushed past what it can answer), until l ends or ctx does. A
// response other than 200 counts as an error.
func drive(ctx context.Context, client *http.Client, newRequest func(ctx context.Context) (*http.Request, error), l load) measurement {
	ctx, cancel := context.WithTimeout(ctx, l.duration)
	defer cancel()
	var budget atomic.Int64
	budget.Store(l.maxRequests)
	var (
		failed, hits atomic.Int64
		mu           sync.Mutex
		all          []time.Duration
		status       atomic.Pointer[string]
		wg           sync.WaitGroup
	)
	start := time.Now()
	for range l.concurrency {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 1024)
			defer func() {
				mu.Lock()
				all = append(all, lat...)
				mu.Unlock()
			}()
			for ctx.Err() == nil && budget.Add(-1) >= 0 {
				req, err := newRequest(ctx)
				if err != nil {
					failed.Add(1)
					continue
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() != nil {
						return // cut off by the end of the run, not failed
					}
					failed.Add(1)
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if err != nil && ctx.Err() != nil {
					return
				}
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
					continue
				}
				lat = append(lat, time.Since(t0))
				if cs := resp.Header.Get("Cache-Status"); cs != "" {
					status.Store(&cs)
					if strings.Contains(cs, "; hit") {
						hits.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	m := measurement{
		requests: int64(len(all)) + failed.Load(),
		errors:   failed.Load(),
		hits:     hits.Load(),
		elapsed:  time.Since(start),
	}
	slices.Sort(all)
	m.latencies = all
	if s := status.Load(); s != nil {
		m.cacheStatus = *s
	}
	return m
}

// newClient returns a keep-alive client with a connection per worker, so
// that connection set-up is not part of what is measured.
func newClient(concurrency int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = concurrency * 2
	tr.MaxIdleConnsPerHost = concurrency * 2
	tr.DisableCompression = true
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// getRequest returns a request builder for a GET of url with the given
// extra headers.
func getRequest(url string, header http.Header) func(ctx context.Context) (*http.Request, error) {
	return func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, fmt.Errorf("request %s: %w", url, err)
		}
		for k, vs := range header {
			req.Header[k] = vs
		}
		return req, nil
	}
}
