package emg

import (
	"errors"
	"fmt"
	"io"
	"math"
)

// Sentinel errors. Functions in this package wrap them with context (line
// numbers, channel names) using %w, so callers branch with [errors.Is].
var (
	// ErrEmptyRecording reports input without a header or without samples.
	ErrEmptyRecording = errors.New("empty recording")
	// ErrMalformed reports input that is present but not a valid recording:
	// unparsable or non-finite numbers, ragged rows, empty or duplicate
	// channel names, or a Recording whose fields disagree.
	ErrMalformed = errors.New("malformed recording")
	// ErrTooLarge reports input beyond a reader's configured limits.
	ErrTooLarge = errors.New("recording too large")
	// ErrBadSampleRate reports a sample rate that is not a finite number in
	// (0, MaxSampleRate], or one that disagrees with the rate a file
	// states.
	ErrBadSampleRate = errors.New("bad sample rate")
)

// MaxSampleRate is the highest accepted sample rate in Hz. Surface EMG is
// sampled at 1–10 kHz; anything above 1 MHz is a unit mistake (for example a
// period in microseconds), not a recording.
const MaxSampleRate = 1e6

// MinAnalysisSampleRate is the lowest rate, 16 Hz, at which the default
// analysis window (DefaultWindowSeconds) holds the 4 samples a spectrum
// needs: a recording below it is valid, but every analysis of it with
// default options fails, so services that accept uploads for analysis
// should refuse it (see [ValidateAnalysisSampleRate]).
const MinAnalysisSampleRate = minWindowSamples / DefaultWindowSeconds

// Recording is a multi-channel EMG recording sampled uniformly.
//
// A valid Recording has at least one channel, len(Samples) == len(Channels),
// every channel holding the same, non-zero number of finite samples, and a
// sample rate accepted by [ValidateSampleRate]. Readers only return valid
// recordings; [Recording.Validate] checks one built by hand.
type Recording struct {
	// Channels names each channel, in column order.
	Channels []string `json:"channels"`
	// SampleRate is the sampling frequency in Hz.
	SampleRate float64 `json:"sample_rate"`
	// Samples is indexed [channel][sample]; channel-major because every
	// analysis walks one channel at a time.
	Samples [][]float64 `json:"samples"`
	// Unit is the unit of every sample, when the format says it ("mV"
	// for C3D); "" when it does not (CSV).
	Unit string `json:"unit,omitempty"`
	// C3D describes the file a C3DReader read the recording from.
	C3D *C3DInfo `json:"c3d,omitempty"`
}

// Len returns the number of samples per channel, or 0 for a recording
// without channels.
func (r *Recording) Len() int {
	if r == nil || len(r.Samples) == 0 {
		return 0
	}
	return len(r.Samples[0])
}

// DurationSeconds returns Len()/SampleRate, or 0 when the sample rate is not
// positive.
func (r *Recording) DurationSeconds() float64 {
	if r == nil || !(r.SampleRate > 0) {
		return 0
	}
	return float64(r.Len()) / r.SampleRate
}

// Validate reports whether r satisfies the invariants documented on
// [Recording]. The error wraps [ErrEmptyRecording], [ErrMalformed] or
// [ErrBadSampleRate].
func (r *Recording) Validate() error {
	if r == nil || len(r.Channels) == 0 {
		return fmt.Errorf("no channels: %w", ErrEmptyRecording)
	}
	if err := ValidateSampleRate(r.SampleRate); err != nil {
		return err
	}
	if len(r.Samples) != len(r.Channels) {
		return fmt.Errorf("%d channel names but %d sample series: %w", len(r.Channels), len(r.Samples), ErrMalformed)
	}
	n := len(r.Samples[0])
	if n == 0 {
		return fmt.Errorf("no samples: %w", ErrEmptyRecording)
	}
	for c, series := range r.Samples {
		if len(series) != n {
			return fmt.Errorf("channel %q has %d samples, want %d: %w", r.Channels[c], len(series), n, ErrMalformed)
		}
		for i, v := range series {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("channel %q sample %d is %v: %w", r.Channels[c], i, v, ErrMalformed)
			}
		}
	}
	return nil
}

// ValidateSampleRate returns nil for a finite rate in (0, [MaxSampleRate]]
// and an error wrapping [ErrBadSampleRate] otherwise.
func ValidateSampleRate(hz float64) error {
	// Written as a negated range check so NaN, which fails every
	// comparison, is rejected too.
	if !(hz > 0 && hz <= MaxSampleRate) {
		return fmt.Errorf("sample rate %v Hz outside (0, %v]: %w", hz, float64(MaxSampleRate), ErrBadSampleRate)
	}
	return nil
}

// ValidateAnalysisSampleRate returns nil for a rate in
// [[MinAnalysisSampleRate], [MaxSampleRate]], at which [Analyze] with
// default options works, and an error wrapping [ErrBadSampleRate] otherwise.
func ValidateAnalysisSampleRate(hz float64) error {
	if !(hz >= MinAnalysisSampleRate && hz <= MaxSampleRate) {
		return fmt.Errorf("sample rate %v Hz outside [%v, %v]: the default %v s analysis window needs at least %d samples: %w",
			hz, MinAnalysisSampleRate, float64(MaxSampleRate), DefaultWindowSeconds, minWindowSamples, ErrBadSampleRate)
	}
	return nil
}

// Reader parses one recording file format. Implementations must be safe for
// concurrent use and must not retain r after Read returns.
type Reader interface {
	// Format names the format in lower case (for example "csv"); it is
	// stored in [Metadata.Format].
	Format() string
	// Read parses a whole recording from r. Formats without an embedded
	// sample rate use sampleRate; formats that embed one may ignore it.
	// Errors wrap the package's sentinel errors; errors from r itself are
	// wrapped as they are.
	Read(r io.Reader, sampleRate float64) (*Recording, error)
}
