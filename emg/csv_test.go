package emg_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/emg"
)

func TestCSVReaderParses(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		channels []string
		samples  [][]float64
	}{
		{
			name:     "plain",
			input:    "a,b\n1,2\n3,4\n",
			channels: []string{"a", "b"},
			samples:  [][]float64{{1, 3}, {2, 4}},
		},
		{
			name:     "crlf, no final newline, white space",
			input:    " a , b \r\n 1.5 , -2e-3 \r\n0,  4",
			channels: []string{"a", "b"},
			samples:  [][]float64{{1.5, 0}, {-2e-3, 4}},
		},
		{
			name:     "byte order mark and quoted names",
			input:    "\uFEFF\"left, upper\",\"say \"\"hi\"\"\"\n1,2\n",
			channels: []string{"left, upper", `say "hi"`},
			samples:  [][]float64{{1}, {2}},
		},
		{
			name:     "blank lines skipped",
			input:    "\n\nx\n\n1\n\n2\n",
			channels: []string{"x"},
			samples:  [][]float64{{1, 2}},
		},
		{
			name:     "quoted numbers",
			input:    "x,y\n\"1\",\" 2 \"\n",
			channels: []string{"x", "y"},
			samples:  [][]float64{{1}, {2}},
		},
		{
			name:     "largest finite float",
			input:    "x\n1.7976931348623157e308\n-5e-324\n",
			channels: []string{"x"},
			samples:  [][]float64{{math.MaxFloat64, -5e-324}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := emg.CSVReader{}.Read(strings.NewReader(tt.input), 1000)
			require.NoError(t, err)
			assert.Equal(t, tt.channels, rec.Channels)
			assert.Equal(t, tt.samples, rec.Samples)
			assert.Equal(t, 1000.0, rec.SampleRate)
			assert.NoError(t, rec.Validate())
		})
	}
}

func TestCSVReaderRejects(t *testing.T) {
	long := "x\n" + strings.Repeat("1", 600) + "\n"
	tests := []struct {
		name    string
		reader  emg.CSVReader
		input   string
		rate    float64
		want    error
		message string // part of the error text, to check the context
	}{
		{name: "empty input", input: "", want: emg.ErrEmptyRecording},
		{name: "only blank lines", input: "\n\r\n\n", want: emg.ErrEmptyRecording},
		{name: "header only", input: "a,b\n", want: emg.ErrEmptyRecording},
		{name: "bad number", input: "a,b\n1,2\n3,x\n", want: emg.ErrMalformed, message: "line 3"},
		{name: "empty field", input: "a,b\n1,\n", want: emg.ErrMalformed, message: "line 2"},
		{name: "short row", input: "a,b\n1,2\n3\n", want: emg.ErrMalformed, message: "line 3"},
		{name: "long row", input: "a,b\n1,2,3\n", want: emg.ErrMalformed, message: "line 2"},
		{name: "NaN", input: "a\nNaN\n", want: emg.ErrMalformed},
		{name: "infinity", input: "a\n-Inf\n", want: emg.ErrMalformed},
		{name: "overflow", input: "a\n1e400\n", want: emg.ErrMalformed},
		{name: "empty name", input: "a,,c\n1,2,3\n", want: emg.ErrMalformed, message: "column 2"},
		{name: "blank name", input: "a,  \n1,2\n", want: emg.ErrMalformed},
		{name: "duplicate name", input: "a,b,a \n1,2,3\n", want: emg.ErrMalformed, message: `"a"`},
		{name: "control character in name", input: "\"a\nb\"\n1\n", want: emg.ErrMalformed},
		{name: "invalid UTF-8 name", input: "a\xff\n1\n", want: emg.ErrMalformed},
		{name: "bare quote", input: "a\n1\"2\n", want: emg.ErrMalformed},
		{name: "unterminated quote", input: "a\n\"1\n", want: emg.ErrMalformed},
		{name: "too many channels", reader: emg.CSVReader{MaxChannels: 2}, input: "a,b,c\n1,2,3\n", want: emg.ErrTooLarge},
		{name: "too many samples", reader: emg.CSVReader{MaxSamples: 4}, input: "a,b\n1,2\n3,4\n5,6\n", want: emg.ErrTooLarge, message: "line 4"},
		{name: "line too long", reader: emg.CSVReader{MaxChannels: 1}, input: long, want: emg.ErrTooLarge, message: "line 2"},
		{name: "zero sample rate", input: "a\n1\n", rate: 0, want: emg.ErrBadSampleRate},
		{name: "negative sample rate", input: "a\n1\n", rate: -1, want: emg.ErrBadSampleRate},
		{name: "NaN sample rate", input: "a\n1\n", rate: math.NaN(), want: emg.ErrBadSampleRate},
		{name: "infinite sample rate", input: "a\n1\n", rate: math.Inf(1), want: emg.ErrBadSampleRate},
		{name: "sample rate above limit", input: "a\n1\n", rate: 1e6 + 1, want: emg.ErrBadSampleRate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rate := tt.rate
			if rate == 0 && !errors.Is(tt.want, emg.ErrBadSampleRate) {
				rate = 2000
			}
			rec, err := tt.reader.Read(strings.NewReader(tt.input), rate)
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, rec)
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

func TestCSVReaderLimitsAreInclusive(t *testing.T) {
	r := emg.CSVReader{MaxSamples: 4, MaxChannels: 2}
	rec, err := r.Read(strings.NewReader("a,b\n1,2\n3,4\n"), 10)
	require.NoError(t, err)
	assert.Equal(t, 2, rec.Len())

	// A line exactly at the budget (512 bytes per channel) is accepted.
	line := strings.Repeat(" ", 511) + "1"
	_, err = emg.CSVReader{MaxChannels: 1}.Read(strings.NewReader("x\n"+line+"\n"), 10)
	require.NoError(t, err)
}

func TestCSVReaderDefaults(t *testing.T) {
	header := make([]string, emg.DefaultMaxChannels+1)
	for i := range header {
		header[i] = "c" + strings.Repeat("x", i)
	}
	row := strings.TrimSuffix(strings.Repeat("0,", len(header)), ",")
	input := strings.Join(header, ",") + "\n" + row + "\n"

	_, err := emg.CSVReader{}.Read(strings.NewReader(input), 10)
	require.ErrorIs(t, err, emg.ErrTooLarge)

	// Dropping one column brings it within the default.
	trimmed := strings.Join(header[:emg.DefaultMaxChannels], ",") + "\n" + row[2:] + "\n"
	rec, err := emg.CSVReader{}.Read(strings.NewReader(trimmed), 10)
	require.NoError(t, err)
	assert.Len(t, rec.Channels, emg.DefaultMaxChannels)
}

func TestCSVReaderPassesReadErrorsThrough(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("a\n1\n"), iotest.ErrReader(boom))
	_, err := emg.CSVReader{}.Read(r, 10)
	require.ErrorIs(t, err, boom)
	for _, sentinel := range []error{emg.ErrEmptyRecording, emg.ErrMalformed, emg.ErrTooLarge} {
		assert.NotErrorIs(t, err, sentinel)
	}
}

func TestCSVReaderShortensLongFieldsInErrors(t *testing.T) {
	_, err := emg.CSVReader{}.Read(strings.NewReader("x\n"+strings.Repeat("é", 1000)+"\n"), 10)
	require.ErrorIs(t, err, emg.ErrMalformed)
	assert.Less(t, len(err.Error()), 200)
	assert.True(t, utf8.ValidString(err.Error()))
}

func TestCSVReaderHugeChannelLimit(t *testing.T) {
	rec, err := emg.CSVReader{MaxChannels: math.MaxInt, MaxSamples: math.MaxInt}.Read(strings.NewReader("a\n1\n"), 10)
	require.NoError(t, err)
	assert.Equal(t, [][]float64{{1}}, rec.Samples)
}

func TestCSVReaderFormat(t *testing.T) {
	assert.Equal(t, "csv", emg.CSVReader{}.Format())
}

func TestWriteCSVRoundTrip(t *testing.T) {
	rec := &emg.Recording{
		Channels:   []string{"plain", "with,comma", `with "quote"`},
		SampleRate: 500,
		Samples: [][]float64{
			{0.123456, -0.00004, 1e12},
			{-1.5, 2, math.MaxFloat64},
			{-0.00005, 0.00005, -3},
		},
	}
	var buf bytes.Buffer
	require.NoError(t, emg.WriteCSV(&buf, rec))
	assert.True(t, strings.HasPrefix(buf.String(), "plain,\"with,comma\",\"with \"\"quote\"\"\"\n0.1235,-1.5,-0.0001\n0,2,0.0001\n"),
		"rounded to 4 decimals, shortest form, no negative zero:\n%s", buf.String())

	back, err := emg.CSVReader{}.Read(&buf, rec.SampleRate)
	require.NoError(t, err)
	assert.Equal(t, rec.Channels, back.Channels)
	for c := range rec.Samples {
		for i, want := range rec.Samples[c] {
			assert.InDelta(t, want, back.Samples[c][i], 0.5e-4+1e-15*math.Abs(want), "channel %d sample %d", c, i)
		}
	}
}

func TestWriteCSVRejectsInvalid(t *testing.T) {
	tests := []struct {
		name string
		rec  *emg.Recording
		want error
	}{
		{name: "nil", rec: nil, want: emg.ErrEmptyRecording},
		{name: "no channels", rec: &emg.Recording{}, want: emg.ErrEmptyRecording},
		{name: "no samples", rec: &emg.Recording{Channels: []string{"a"}, Samples: [][]float64{{}}}, want: emg.ErrEmptyRecording},
		{name: "ragged", rec: &emg.Recording{Channels: []string{"a", "b"}, Samples: [][]float64{{1}, {1, 2}}}, want: emg.ErrMalformed},
		{name: "NaN", rec: &emg.Recording{Channels: []string{"a"}, Samples: [][]float64{{math.NaN()}}}, want: emg.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.ErrorIs(t, emg.WriteCSV(&buf, tt.rec), tt.want)
			assert.Zero(t, buf.Len(), "nothing written on error")
		})
	}
}

// FuzzCSVReader checks that no input makes the reader panic, that every
// error is one of the documented sentinels, and that every accepted
// recording is valid, analysable and survives a WriteCSV round trip.
func FuzzCSVReader(f *testing.F) {
	seeds := []string{
		"a,b\n1,2\n3,4\n",
		"\uFEFF\"x, y\",z\r\n1.5,-2e-3\r\n",
		"a\nNaN\n",
		"a,b\n1\n",
		"a,a\n1,2\n",
		"",
		"\n\n",
		"a\n\"1\n",
		"a\n1e400\n",
		"a\n0x1p-2\n",
		"a,b,c\n" + strings.Repeat("0.1,-0.2,0.3\n", 50),
		"a\n1.7976931348623157e308\n-1.7976931348623157e308\n5e-324\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), 2000.0)
	}
	f.Add([]byte("a\n1\n"), 0.0)
	f.Add([]byte("a\n1\n2\n3\n4\n5\n"), 4.0)

	reader := emg.CSVReader{MaxSamples: 4096, MaxChannels: 8}
	f.Fuzz(func(t *testing.T, data []byte, rate float64) {
		rec, err := reader.Read(bytes.NewReader(data), rate)
		if err != nil {
			if !errors.Is(err, emg.ErrEmptyRecording) && !errors.Is(err, emg.ErrMalformed) &&
				!errors.Is(err, emg.ErrTooLarge) && !errors.Is(err, emg.ErrBadSampleRate) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if err := rec.Validate(); err != nil {
			t.Fatalf("reader returned an invalid recording: %v", err)
		}
		seen := map[string]bool{}
		for _, name := range rec.Channels {
			if name == "" || name != strings.TrimSpace(name) || seen[name] {
				t.Fatalf("bad channel name %q in %q", name, rec.Channels)
			}
			seen[name] = true
		}
		if rec.Len()*len(rec.Channels) > 4096 || len(rec.Channels) > 8 {
			t.Fatalf("limits exceeded: %d channels × %d samples", len(rec.Channels), rec.Len())
		}

		if _, err := emg.Analyze(rec, emg.AnalysisOptions{}); err != nil && !errors.Is(err, emg.ErrBadOptions) {
			t.Fatalf("analyze: %v", err)
		}

		var buf bytes.Buffer
		if err := emg.WriteCSV(&buf, rec); err != nil {
			t.Fatalf("write: %v", err)
		}
		back, err := reader.Read(&buf, rec.SampleRate)
		if err != nil {
			t.Fatalf("re-read written csv: %v", err)
		}
		if len(back.Channels) != len(rec.Channels) || back.Len() != rec.Len() {
			t.Fatalf("round trip changed shape")
		}
		for c := range rec.Samples {
			if back.Channels[c] != rec.Channels[c] {
				t.Fatalf("round trip changed name %q to %q", rec.Channels[c], back.Channels[c])
			}
			for i, want := range rec.Samples[c] {
				if got := back.Samples[c][i]; math.Abs(got-want) > 0.5e-4+1e-15*math.Abs(want) {
					t.Fatalf("round trip changed %v to %v", want, got)
				}
			}
		}
	})
}
