// Command gensample writes the deterministic sample recording that the
// example server ships as testdata/sample_emg.csv (sampled at 2000 Hz).
//
// From the emg module:
//
//	go run ./cmd/gensample -o ../examples/server/testdata/sample_emg.csv
//
// or "go generate ./server" from the examples module. Without -o it writes
// to standard output.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/emgcache/emgcache/emg"
)

func main() {
	out := flag.String("o", "", "output file (default standard output)")
	seed := flag.Uint64("seed", 0, "random seed; the shipped file uses 0")
	flag.Parse()
	if err := run(*out, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gensample:", err)
		os.Exit(1)
	}
}

func run(out string, seed uint64) error {
	var buf bytes.Buffer
	if err := emg.WriteCSV(&buf, emg.Synthesize(emg.SynthOptions{Seed: seed})); err != nil {
		return err
	}
	if out == "" {
		_, err := os.Stdout.Write(buf.Bytes())
		return err
	}
	// Written whole after generation succeeds, so a failure never
	// leaves a truncated sample behind.
	return os.WriteFile(out, buf.Bytes(), 0o644)
}
