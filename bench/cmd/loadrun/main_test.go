package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

// TestRunInProcess runs every scenario briefly on the embedded backend and
// checks the table, not the figures: a shared machine gives no stable
// timings to assert.
func TestRunInProcess(t *testing.T) {
	cfg := config{
		backends:    []string{"embedded"},
		load:        load{concurrency: 4, duration: 100 * time.Millisecond, maxRequests: 200},
		rounds:      1,
		originDelay: time.Millisecond,
	}
	var out bytes.Buffer
	if err := run(t.Context(), cfg, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| embedded | bare handler (floor) |",
		"| embedded | analysis, cached |",
		"| embedded | analysis, uncached |",
		"hit",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if !strings.HasPrefix(line, "| embedded") {
			continue
		}
		cells := strings.Split(line, " | ")
		if requests, errors, hits := cells[7], cells[8], cells[9]; errors != "0" ||
			strings.Contains(line, "cached") && !strings.Contains(line, "uncached") && hits != requests {
			t.Errorf("want no errors, and only hits when cached: %s", line)
		}
	}
}
