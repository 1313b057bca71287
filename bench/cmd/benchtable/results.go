package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// procsSuffix is the -GOMAXPROCS suffix that go test appends to names.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// results holds every sample read, in the order benchmarks first appeared.
type results struct {
	keys    []string
	benches []*bench
	byName  map[string]*bench
}

// bench is one top-level benchmark: groups are columns of the ratio table,
// cases its rows.
type bench struct {
	name    string
	groups  []string
	cases   []string
	units   []string
	samples map[cell]map[string][]float64
}

type cell struct{ group, name string }

func newResults(keys []string) *results {
	return &results{keys: keys, byName: make(map[string]*bench)}
}

// read adds the results of one `go test -bench` output; other lines are
// ignored.
func (s *results) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		s.addLine(sc.Text())
	}
	return sc.Err()
}

func (s *results) addLine(line string) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
		return
	}
	if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
		return
	}
	top, group, name := s.split(procsSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), ""))
	b := s.byName[top]
	if b == nil {
		b = &bench{name: top, samples: make(map[cell]map[string][]float64)}
		s.byName[top] = b
		s.benches = append(s.benches, b)
	}
	if !slices.Contains(b.groups, group) {
		b.groups = append(b.groups, group)
	}
	if !slices.Contains(b.cases, name) {
		b.cases = append(b.cases, name)
	}
	c := cell{group, name}
	if b.samples[c] == nil {
		b.samples[c] = make(map[string][]float64)
	}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			continue
		}
		unit := f[i+1]
		if unit == "MB/s" { // derived from ns/op and the bytes set
			continue
		}
		if !slices.Contains(b.units, unit) {
			b.units = append(b.units, unit)
		}
		b.samples[c][unit] = append(b.samples[c][unit], v)
	}
}

// split parts a benchmark name into its top-level name, its group (the
// other elements) and its case (the value of the first element whose key is
// one of s.keys).
func (s *results) split(full string) (top, group, name string) {
	parts := strings.Split(full, "/")
	top, rest := parts[0], parts[1:]
	var others []string
	for _, p := range rest {
		k, v, ok := strings.Cut(p, "=")
		if ok && name == "" && slices.Contains(s.keys, k) {
			name = v
			continue
		}
		others = append(others, p)
	}
	if name == "" {
		name = "-"
	}
	return top, strings.Join(others, "/"), name
}

// stats are the median and range of one case's samples of one unit.
type stats struct {
	med float64
	// lo and hi bound the middle runs: with five runs or more the fastest
	// and the slowest are left out, so that one run disturbed by another
	// process on a shared machine does not decide what the others show.
	lo, hi float64
	n      int
}

func summarize(vs []float64) (stats, bool) {
	if len(vs) == 0 {
		return stats{}, false
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	lo, hi := s[0], s[len(s)-1]
	if len(s) >= 5 {
		lo, hi = s[1], s[len(s)-2]
	}
	return stats{med: med, lo: lo, hi: hi, n: len(s)}, true
}

// spread is the largest distance of a middle run from the median, relative
// to it: a blunt measure of the noise of a shared machine.
func (st stats) spread() float64 {
	if st.med == 0 {
		return 0
	}
	return math.Max(st.med-st.lo, st.hi-st.med) / st.med
}

// overlaps reports whether the middle runs of two cases overlap, in which
// case this run does not establish their difference.
func (st stats) overlaps(o stats) bool { return st.lo <= o.hi && o.lo <= st.hi }

func (b *bench) stat(group, name, unit string) (stats, bool) {
	return summarize(b.samples[cell{group, name}][unit])
}

// baseline is the first case measured in group.
func (b *bench) baseline(group string) string {
	for _, n := range b.cases {
		if _, ok := b.stat(group, n, "ns/op"); ok {
			return n
		}
	}
	return ""
}

func (s *results) writeMarkdown(w io.Writer) {
	for _, b := range s.benches {
		b.writeRatios(w)
		b.writeDetails(w)
	}
}

// writeRatios prints time per operation relative to each group's baseline.
func (b *bench) writeRatios(w io.Writer) {
	fmt.Fprintf(w, "#### %s: time per operation relative to the baseline (lower is faster)\n\n", b.name)
	fmt.Fprint(w, "| case |")
	for _, g := range b.groups {
		fmt.Fprintf(w, " %s |", groupLabel(g))
	}
	fmt.Fprint(w, "\n|---|")
	for range b.groups {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
	for _, n := range b.cases {
		fmt.Fprintf(w, "| %s |", n)
		for _, g := range b.groups {
			fmt.Fprintf(w, " %s |", b.ratioCell(g, n, true))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// ratioCell is name's median time in group over the baseline's: the
// baseline itself shows its absolute time, and a ratio whose ranges overlap
// the baseline's is marked ≈.
func (b *bench) ratioCell(group, name string, withBaseTime bool) string {
	st, ok := b.stat(group, name, "ns/op")
	if !ok {
		return "–"
	}
	base := b.baseline(group)
	if name == base {
		if withBaseTime {
			return "**1** (" + formatNs(st.med) + ")"
		}
		return "1"
	}
	bs, _ := b.stat(group, base, "ns/op")
	r := formatRatio(st.med / bs.med)
	if st.overlaps(bs) {
		return "≈" + r
	}
	return r
}

// writeDetails prints medians, spread and every other unit, in a block
// that Markdown viewers fold away.
func (b *bench) writeDetails(w io.Writer) {
	fmt.Fprintf(w, "<details><summary>%s: medians</summary>\n\n", b.name)
	fmt.Fprint(w, "| group | case | time/op | ± | × baseline |")
	var extra []string
	for _, u := range b.units {
		if u != "ns/op" {
			extra = append(extra, u)
			fmt.Fprintf(w, " %s |", u)
		}
	}
	fmt.Fprint(w, " runs |\n|---|---|---:|---:|---:|")
	for range extra {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprint(w, "---:|\n")
	for _, g := range b.groups {
		for _, n := range b.cases {
			st, ok := b.stat(g, n, "ns/op")
			if !ok {
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %s | %.0f%% | %s |", groupLabel(g), n, formatNs(st.med), 100*st.spread(), b.ratioCell(g, n, false))
			for _, u := range extra {
				if us, ok := b.stat(g, n, u); ok {
					fmt.Fprintf(w, " %s |", formatCount(us.med))
				} else {
					fmt.Fprint(w, " – |")
				}
			}
			fmt.Fprintf(w, " %d |\n", st.n)
		}
	}
	fmt.Fprint(w, "\n</details>\n\n")
}

// groupLabel shows a group's elements: their values, which name
// themselves ("1KiB sequential"), except numbers, which keep their key
// ("callers=100 processes=4").
func groupLabel(g string) string {
	if g == "" {
		return "all"
	}
	parts := strings.Split(g, "/")
	for i, p := range parts {
		if _, v, ok := strings.Cut(p, "="); ok {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				parts[i] = v
			}
		}
	}
	return strings.Join(parts, " ")
}

func formatNs(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.3g ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.3g µs", ns/1e3)
	}
	return fmt.Sprintf("%.3g ns", ns)
}

func formatRatio(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f×", r)
	case r >= 10:
		return fmt.Sprintf("%.1f×", r)
	case r >= 0.1:
		return fmt.Sprintf("%.2f×", r)
	}
	return strconv.FormatFloat(r, 'g', 2, 64) + "×"
}

func formatCount(v float64) string {
	if math.Abs(v) >= 100 || v == math.Trunc(v) {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
