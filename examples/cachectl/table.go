package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// row is one line of a table: a label, a value right-aligned under the
// other values, and a unit or note after it.
type row struct {
	label, value, unit string
}

// writeTable writes rows with the labels left-aligned and the numbers
// right-aligned, so that they line up by their last digit; words start
// where the value column starts. Widths are counted in runes because "µs"
// is one column on a terminal but two bytes.
func writeTable(w io.Writer, rows []row) error {
	var labelWidth, valueWidth int
	for _, r := range rows {
		labelWidth = max(labelWidth, utf8.RuneCountInString(r.label))
		valueWidth = max(valueWidth, utf8.RuneCountInString(r.value))
	}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r.label)
		b.WriteString(strings.Repeat(" ", labelWidth-utf8.RuneCountInString(r.label)+2))
		pad := strings.Repeat(" ", valueWidth-utf8.RuneCountInString(r.value))
		if isNumber(r.value) {
			b.WriteString(pad)
			b.WriteString(r.value)
		} else {
			b.WriteString(r.value)
			if r.unit != "" {
				b.WriteString(pad)
			}
		}
		if r.unit != "" {
			b.WriteByte(' ')
			b.WriteString(r.unit)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// isNumber reports whether a value is a figure, such as "1,234", "75.0"
// or "-".
func isNumber(v string) bool {
	return v != "" && strings.Trim(v, "0123456789.,-") == ""
}

// count formats n with thousands separators, which make counters of a
// long-running server readable at a glance.
func count(n uint64) string {
	s := strconv.FormatUint(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// latency splits d into a value and a unit: microseconds below one
// millisecond, where a cache hit lives, milliseconds below a second, and
// seconds beyond.
func latency(d time.Duration) (value, unit string) {
	switch {
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 1, 64), "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64), "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64), "s"
}

// compactLatency is latency without the space, for one-line views.
func compactLatency(d time.Duration) string {
	v, u := latency(d)
	return v + u
}

func megabytes(bytes int64) string {
	return fmt.Sprintf("%.2f", float64(bytes)/(1<<20))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
