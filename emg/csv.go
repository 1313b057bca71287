package emg

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Defaults for the zero value of [CSVReader].
const (
	// DefaultMaxChannels bounds the header width; 64 covers high-density
	// surface-EMG grids while keeping a hostile header cheap to reject.
	DefaultMaxChannels = 64
	// DefaultMaxSamples bounds the values held in memory across all
	// channels (80 MB of float64), e.g. 4 channels at 2 kHz for ~20 minutes.
	DefaultMaxSamples = 10_000_000
)

// maxFieldBytes is the per-column line budget. The longest finite float64 in
// plain 'f' notation is ~330 bytes, so any value [WriteCSV] emits fits.
const maxFieldBytes = 512

// CSVReader reads recordings stored as comma-separated values: a header row
// of channel names, then one row per sample holding one number per channel.
//
// Channel names are trimmed of surrounding white space (and a leading UTF-8
// byte order mark, as spreadsheet exports add one) and must be non-empty,
// unique, valid UTF-8 and free of control characters and further byte order
// marks. Numbers are anything [strconv.ParseFloat] accepts after trimming
// white space, except NaN and infinities. Every data row has exactly as many fields as the header. Blank
// lines are skipped; fields may be quoted as in RFC 4180.
//
// The zero value is ready to use. CSVReader holds no state, so one value may
// be shared by concurrent goroutines.
type CSVReader struct {
	// MaxSamples bounds the total number of values, summed over channels;
	// zero or negative means DefaultMaxSamples.
	MaxSamples int
	// MaxChannels bounds the number of columns; zero or negative means
	// DefaultMaxChannels. It also bounds line length, at 512 bytes per
	// allowed channel, so a file without line breaks cannot exhaust memory.
	MaxChannels int
}

var _ Reader = CSVReader{}

// Format returns "csv".
func (CSVReader) Format() string { return "csv" }

// Read parses a CSV recording from r with the given sample rate.
//
// Errors wrap [ErrBadSampleRate] (checked before reading anything),
// [ErrEmptyRecording] (no header or no data rows), [ErrMalformed] or
// [ErrTooLarge], with the offending line number in the message. An error
// returned by r itself is wrapped unchanged.
func (c CSVReader) Read(r io.Reader, sampleRate float64) (*Recording, error) {
	if err := ValidateSampleRate(sampleRate); err != nil {
		return nil, err
	}
	maxChannels, maxSamples := c.MaxChannels, c.MaxSamples
	if maxChannels <= 0 {
		maxChannels = DefaultMaxChannels
	}
	if maxSamples <= 0 {
		maxSamples = DefaultMaxSamples
	}

	lineLimit := min(maxChannels, math.MaxInt/maxFieldBytes) * maxFieldBytes
	br := bufio.NewReader(&lineLimitReader{r: r, limit: lineLimit, line: 1})
	// The byte order mark goes before the csv reader sees it, so a quoted
	// first channel name is still recognised as quoted.
	if err := skipBOM(br); err != nil {
		return nil, csvReadError(err)
	}
	cr := csv.NewReader(br)
	// Row width is checked here to report it as ErrMalformed with context,
	// and records are reused because every field is copied out as a float.
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("csv: no header row: %w", ErrEmptyRecording)
	}
	if err != nil {
		return nil, csvReadError(err)
	}
	line, _ := cr.FieldPos(0)
	if len(header) > maxChannels {
		return nil, fmt.Errorf("csv line %d: %d channels exceed the limit of %d: %w", line, len(header), maxChannels, ErrTooLarge)
	}
	channels, err := parseHeader(header, line)
	if err != nil {
		return nil, err
	}

	cols := len(channels)
	rowLimit := maxSamples / cols
	samples := make([][]float64, cols)
	rows := 0
	for {
		record, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvReadError(err)
		}
		line, _ := cr.FieldPos(0)
		if len(record) != cols {
			return nil, fmt.Errorf("csv line %d: %d fields, header has %d: %w", line, len(record), cols, ErrMalformed)
		}
		if rows >= rowLimit {
			return nil, fmt.Errorf("csv line %d: more than %d samples in total: %w", line, maxSamples, ErrTooLarge)
		}
		for i, field := range record {
			v, err := strconv.ParseFloat(strings.TrimSpace(field), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("csv line %d, channel %q: %q is not a finite number: %w", line, channels[i], excerpt(field), ErrMalformed)
			}
			samples[i] = append(samples[i], v)
		}
		rows++
	}
	if rows == 0 {
		return nil, fmt.Errorf("csv: header but no samples: %w", ErrEmptyRecording)
	}
	return &Recording{Channels: channels, SampleRate: sampleRate, Samples: samples}, nil
}

// parseHeader validates and copies the channel names; the copy matters
// because the csv.Reader reuses its record slice.
func parseHeader(header []string, line int) ([]string, error) {
	channels := make([]string, len(header))
	seen := make(map[string]int, len(header))
	for i, raw := range header {
		name := strings.TrimSpace(raw)
		switch {
		case name == "":
			return nil, fmt.Errorf("csv line %d, column %d: empty channel name: %w", line, i+1, ErrMalformed)
		case !utf8.ValidString(name):
			return nil, fmt.Errorf("csv line %d, column %d: channel name is not valid UTF-8: %w", line, i+1, ErrMalformed)
		case strings.IndexFunc(name, invisible) >= 0:
			return nil, fmt.Errorf("csv line %d, column %d: channel name %q has control characters: %w", line, i+1, excerpt(name), ErrMalformed)
		}
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("csv line %d: channel %q in columns %d and %d: %w", line, excerpt(name), prev+1, i+1, ErrMalformed)
		}
		seen[name] = i
		channels[i] = name
	}
	return channels, nil
}

// excerpt shortens s for an error message: a field may be kilobytes long,
// and error text ends up in logs and HTTP responses.
func excerpt(s string) string {
	const keep = 40
	if len(s) <= keep {
		return s
	}
	cut := keep
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// skipBOM drops a leading UTF-8 byte order mark, as spreadsheet exports
// write one.
func skipBOM(br *bufio.Reader) error {
	const bom = "\uFEFF"
	b, err := br.Peek(len(bom))
	if string(b) == bom {
		_, err = br.Discard(len(bom))
		return err
	}
	// Peek hands out a read error only once, so anything but the end of a
	// short input is returned now rather than lost.
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// invisible reports runes a channel name may not hold: control characters,
// and a byte order mark, which a first column would lose on a round trip.
func invisible(r rune) bool {
	return unicode.IsControl(r) || r == '\uFEFF'
}

// csvReadError classifies an error from csv.Reader.Read.
func csvReadError(err error) error {
	var perr *csv.ParseError
	switch {
	case errors.Is(err, ErrTooLarge):
		return err
	case errors.As(err, &perr):
		return fmt.Errorf("csv: %v: %w", perr, ErrMalformed)
	default:
		return fmt.Errorf("read csv: %w", err)
	}
}

// lineLimitReader fails once a line grows past limit bytes. encoding/csv
// buffers a whole line before splitting it, so without this a single
// newline-free upload would be held in memory in full.
type lineLimitReader struct {
	r     io.Reader
	limit int
	run   int // bytes since the last '\n'
	line  int // 1-based number of the line being read
	err   error
}

func (l *lineLimitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i := 0; i < n; {
		j := bytes.IndexByte(p[i:n], '\n')
		end := n
		if j >= 0 {
			end = i + j
		}
		l.run += end - i
		if l.run > l.limit {
			// Cut before the long line's newline so the csv reader
			// cannot complete it, and only sees this error after every
			// earlier record.
			l.err = fmt.Errorf("csv line %d: longer than %d bytes: %w", l.line, l.limit, ErrTooLarge)
			return end, l.err
		}
		if j < 0 {
			break
		}
		l.run = 0
		l.line++
		i = end + 1
	}
	return n, err
}

// WriteCSV writes rec in the format [CSVReader] reads, with "\n" line
// endings. Values are rounded to 4 decimal places (0.1 µV when samples are in
// millivolts, below any surface-EMG amplifier's noise floor) and printed in
// their shortest form, which keeps files small and byte-for-byte
// reproducible; negative zero is printed as 0.
//
// rec must satisfy [Recording.Validate] except for the sample rate, which
// CSV does not store; otherwise the error wraps [ErrEmptyRecording] or
// [ErrMalformed] and nothing is written.
func WriteCSV(w io.Writer, rec *Recording) error {
	check := rec
	if rec != nil {
		// CSV carries no sample rate, so any valid one lets Validate
		// check the rest.
		copied := *rec
		copied.SampleRate = 1
		check = &copied
	}
	if err := check.Validate(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(rec.Channels); err != nil {
		return fmt.Errorf("write csv header: %w", err)
	}
	row := make([]string, len(rec.Channels))
	starts := make([]int, 0, len(row)+1)
	var buf []byte
	for i := range rec.Len() {
		buf, starts = buf[:0], starts[:0]
		for c := range rec.Samples {
			starts = append(starts, len(buf))
			buf = appendRounded(buf, rec.Samples[c][i])
		}
		starts = append(starts, len(buf))
		// One string per row, sliced into fields, instead of one
		// allocation per value.
		s := string(buf)
		for c := range row {
			row[c] = s[starts[c]:starts[c+1]]
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write csv row %d: %w", i+1, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// appendRounded appends v rounded to 4 decimals in shortest 'f' form.
func appendRounded(dst []byte, v float64) []byte {
	// Above 1e11 rounding would overflow nothing but gains nothing either:
	// float64 spacing there is already coarser than 1e-4.
	if math.Abs(v) < 1e11 {
		v = math.Round(v*1e4) / 1e4
	}
	if v == 0 {
		v = 0 // drops the sign of negative zero
	}
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}
