// Command benchtable turns `go test -bench` output into Markdown tables of
// ratios against a baseline measured in the same run.
//
// Sub-benchmarks name what they compare with a key=value element, such as
// BenchmarkRead/value=1KiB/run=sequential/client=store-Get. benchtable
// groups results by everything but that element (-key, "client" by
// default) and divides each median by the median of the group's first case,
// which is the baseline by convention: benchmarks list it first. Absolute
// figures from a shared, noisy machine say little on their own; ratios
// within one run say how the cases compare.
//
// Usage:
//
//	benchtable [-key client,source] [file ...]
//
// With no file it reads standard input. For each benchmark it prints a
// table of time ratios (one row per case, one column per group) and a
// table of medians with their spread, bytes and allocations.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	keys := flag.String("key", "client,source", "comma-separated name keys whose value is the compared case")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: benchtable [-key client,source] [file ...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	var in []io.Reader
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
		defer f.Close()
		in = append(in, f)
	}
	if len(in) == 0 {
		in = append(in, os.Stdin)
	}
	set := newResults(strings.Split(*keys, ","))
	for _, r := range in {
		if err := set.read(r); err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
	}
	w := bufio.NewWriter(os.Stdout)
	set.writeMarkdown(w)
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}
