package emg

import (
	"errors"
	"fmt"
	"math"
	"math/bits"

	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/gonum/dsp/window"
)

// ErrBadOptions reports [AnalysisOptions] that cannot be applied.
var ErrBadOptions = errors.New("bad analysis options")

// Analysis option defaults and bounds.
const (
	// DefaultWindowSeconds is used when AnalysisOptions.WindowSeconds is 0:
	// 250 ms is the usual surface-EMG epoch, short enough to follow a
	// contraction and long enough for a 4 Hz spectral resolution.
	DefaultWindowSeconds = 0.25
	// DefaultOverlapFraction is used when AnalysisOptions.OverlapFraction is
	// 0: half-overlapping Hann windows weigh every sample about equally.
	DefaultOverlapFraction = 0.5
	// MaxOverlapFraction bounds the overlap so the number of windows, and
	// with it the cost of an analysis, stays within 10× the no-overlap case.
	MaxOverlapFraction = 0.9
	// NoOverlap requests adjacent windows; it exists because the zero value
	// of OverlapFraction already means DefaultOverlapFraction.
	NoOverlap = -1.0

	minWindowSamples = 4
)

// AnalysisOptions configures [Analyze]. The zero value selects the defaults.
type AnalysisOptions struct {
	// WindowSeconds is the length of each analysis window; 0 means
	// DefaultWindowSeconds. It must round to at least 4 samples at the
	// recording's sample rate. A recording shorter than one window is
	// analysed as a single window of its full length.
	WindowSeconds float64 `json:"window_seconds"`
	// OverlapFraction is the share of a window that the next window
	// overlaps, in [0, MaxOverlapFraction]; 0 means DefaultOverlapFraction
	// and NoOverlap means adjacent windows.
	OverlapFraction float64 `json:"overlap_fraction"`
}

// Normalize returns the canonical form of o: defaults filled in, and no
// overlap spelled NoOverlap. Normalize is idempotent and options that
// analyse identically for every recording normalise equal, so the result
// is fit for a cache key. Invalid options yield an error wrapping
// [ErrBadOptions].
func (o AnalysisOptions) Normalize() (AnalysisOptions, error) {
	switch {
	case o.WindowSeconds == 0:
		o.WindowSeconds = DefaultWindowSeconds
	case !(o.WindowSeconds > 0) || math.IsInf(o.WindowSeconds, 0):
		return AnalysisOptions{}, fmt.Errorf("window of %v s: %w", o.WindowSeconds, ErrBadOptions)
	}
	switch {
	case o.OverlapFraction == 0:
		o.OverlapFraction = DefaultOverlapFraction
	case o.OverlapFraction == NoOverlap:
	case !(o.OverlapFraction > 0 && o.OverlapFraction <= MaxOverlapFraction):
		return AnalysisOptions{}, fmt.Errorf("overlap fraction %v outside (0, %v] (use NoOverlap for none): %w",
			o.OverlapFraction, MaxOverlapFraction, ErrBadOptions)
	}
	return o, nil
}

// Analysis is the result of [Analyze]. All numbers are finite, so it always
// encodes as JSON.
type Analysis struct {
	// SampleRate is the recording's sample rate in Hz.
	SampleRate float64 `json:"sample_rate"`
	// Samples is the number of samples per channel.
	Samples int `json:"samples"`
	// DurationSeconds is Samples / SampleRate.
	DurationSeconds float64 `json:"duration_seconds"`
	// WindowSeconds and WindowSamples give the window actually used, which
	// is shorter than requested for a recording shorter than one window.
	WindowSeconds float64 `json:"window_seconds"`
	WindowSamples int     `json:"window_samples"`
	// OverlapFraction is the overlap actually used, after rounding the
	// step between windows to whole samples.
	OverlapFraction float64 `json:"overlap_fraction"`
	// Channels holds one entry per recording channel, in order.
	Channels []ChannelAnalysis `json:"channels"`
}

// ChannelAnalysis holds the features of one channel. Amplitudes are in the
// recording's units (usually millivolts).
type ChannelAnalysis struct {
	Name string `json:"name"`
	// RMS is the root mean square of all samples.
	RMS float64 `json:"rms"`
	// MeanAbsoluteValue is the mean of |x| over all samples.
	MeanAbsoluteValue float64 `json:"mean_absolute_value"`
	// PeakAmplitude is the largest |x|.
	PeakAmplitude float64 `json:"peak_amplitude"`
	// ZeroCrossings counts sign changes between consecutive non-zero
	// samples of the raw signal; exact zeros neither start nor end one.
	ZeroCrossings int `json:"zero_crossings"`
	// ZeroCrossingsPerSecond is ZeroCrossings divided by the duration.
	ZeroCrossingsPerSecond float64 `json:"zero_crossings_per_second"`
	// MeanFrequency and MedianFrequency describe the Welch power spectrum,
	// the average of the windows' spectra. They are 0 for a channel without
	// variation.
	MeanFrequency   float64 `json:"mean_frequency_hz"`
	MedianFrequency float64 `json:"median_frequency_hz"`
	// Windows is the per-window series; samples after the last full window
	// count in the overall values but start no window of their own.
	Windows []WindowAnalysis `json:"windows"`
}

// WindowAnalysis holds the features of one analysis window.
type WindowAnalysis struct {
	// StartSeconds is the time of the window's first sample.
	StartSeconds      float64 `json:"start_seconds"`
	RMS               float64 `json:"rms"`
	MeanAbsoluteValue float64 `json:"mean_absolute_value"`
	MeanFrequency     float64 `json:"mean_frequency_hz"`
	MedianFrequency   float64 `json:"median_frequency_hz"`
}

// Analyze computes amplitude, zero-crossing and spectral features of every
// channel of rec, overall and per window.
//
// Spectra come from a Hann-windowed FFT of each window after removing the
// window's mean (an amplifier's DC offset would otherwise drag the mean
// frequency towards 0), zero-padded to a power of two so the cost does not
// depend on the window length's prime factors. Amplitude features use the
// raw samples.
//
// The error wraps [ErrEmptyRecording], [ErrMalformed] or [ErrBadSampleRate]
// for an invalid recording (see [Recording.Validate]) and [ErrBadOptions]
// for invalid options. Analyze does not modify rec and is safe for
// concurrent use.
func Analyze(rec *Recording, opts AnalysisOptions) (*Analysis, error) {
	if err := rec.Validate(); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	opts, err := opts.Normalize()
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	n, fs := rec.Len(), rec.SampleRate

	// Compared as floats so a huge window cannot overflow int.
	requested := math.Round(opts.WindowSeconds * fs)
	if requested < minWindowSamples {
		return nil, fmt.Errorf("analyze: window of %v s at %v Hz is %v samples, need at least %d: %w",
			opts.WindowSeconds, fs, requested, minWindowSamples, ErrBadOptions)
	}
	ws := n
	if requested < float64(n) {
		ws = int(requested)
	}
	overlap := opts.OverlapFraction
	if overlap == NoOverlap {
		overlap = 0
	}
	step := max(ws-int(math.Round(overlap*float64(ws))), 1)

	s := newSpectrum(ws, fs)
	out := &Analysis{
		SampleRate:      fs,
		Samples:         n,
		DurationSeconds: float64(n) / fs,
		WindowSeconds:   float64(ws) / fs,
		WindowSamples:   ws,
		OverlapFraction: float64(ws-step) / float64(ws),
		Channels:        make([]ChannelAnalysis, len(rec.Channels)),
	}
	scaled := make([]float64, n)
	for c, x := range rec.Samples {
		out.Channels[c] = analyzeChannel(rec.Channels[c], x, scaled, ws, step, s)
	}
	return out, nil
}

// analyzeChannel fills one ChannelAnalysis; scaled is scratch of len(x).
func analyzeChannel(name string, x, scaled []float64, ws, step int, s *spectrum) ChannelAnalysis {
	n := len(x)
	peak := 0.0
	for _, v := range x {
		peak = max(peak, math.Abs(v))
	}
	// Working on x/peak keeps squares and FFT powers finite for samples
	// near the float64 limit; every feature is then scaled back (the
	// frequencies are scale-invariant).
	scale := peak
	if scale == 0 {
		scale = 1
	}
	for i, v := range x {
		scaled[i] = v / scale
	}

	ca := ChannelAnalysis{
		Name:          name,
		PeakAmplitude: peak,
		ZeroCrossings: zeroCrossings(x),
		Windows:       make([]WindowAnalysis, 0, (n-ws)/step+1),
	}
	rms, mav := amplitude(scaled)
	ca.RMS, ca.MeanAbsoluteValue = rms*scale, mav*scale
	ca.ZeroCrossingsPerSecond = float64(ca.ZeroCrossings) * s.fs / float64(n)

	clear(s.welch)
	for start := 0; start+ws <= n; start += step {
		seg := scaled[start : start+ws]
		rms, mav := amplitude(seg)
		psd := s.power(seg)
		for k, p := range psd {
			s.welch[k] += p
		}
		mean, median := s.frequencies(psd)
		ca.Windows = append(ca.Windows, WindowAnalysis{
			StartSeconds:      float64(start) / s.fs,
			RMS:               rms * scale,
			MeanAbsoluteValue: mav * scale,
			MeanFrequency:     mean,
			MedianFrequency:   median,
		})
	}
	ca.MeanFrequency, ca.MedianFrequency = s.frequencies(s.welch)
	return ca
}

// amplitude returns the RMS and mean absolute value of x.
func amplitude(x []float64) (rms, mav float64) {
	var sumSq, sumAbs float64
	for _, v := range x {
		sumSq += v * v
		sumAbs += math.Abs(v)
	}
	n := float64(len(x))
	return math.Sqrt(sumSq / n), sumAbs / n
}

// zeroCrossings counts sign changes between consecutive non-zero samples.
// Skipping zeros keeps a sine sampled exactly at its zeros from counting
// each crossing twice, and a constant signal from counting any.
func zeroCrossings(x []float64) int {
	count, prev := 0, 0.0
	for _, v := range x {
		if v == 0 {
			continue
		}
		if (v > 0 && prev < 0) || (v < 0 && prev > 0) {
			count++
		}
		prev = v
	}
	return count
}

// spectrum holds the FFT plan and scratch buffers shared by every window of
// one Analyze call; it is not safe for concurrent use.
type spectrum struct {
	fs     float64
	df     float64 // bin spacing in Hz
	fft    *fourier.FFT
	taper  []float64 // periodic Hann window of the segment length
	buf    []float64 // zero-padded, tapered segment
	coeffs []complex128
	psd    []float64 // one-sided power of the last segment
	welch  []float64 // sum of psd over a channel's windows
}

func newSpectrum(ws int, fs float64) *spectrum {
	nfft := 2
	if ws > 2 {
		nfft = 1 << bits.Len(uint(ws-1))
	}
	// The periodic Hann window (the symmetric one of length ws+1, minus
	// its last point) is the DFT-even form suited to spectral estimation,
	// and unlike the symmetric one it is defined for a single sample.
	taper := make([]float64, ws+1)
	for i := range taper {
		taper[i] = 1
	}
	taper = window.Hann(taper)[:ws]
	bins := nfft/2 + 1
	return &spectrum{
		fs:     fs,
		df:     fs / float64(nfft),
		fft:    fourier.NewFFT(nfft),
		taper:  taper,
		buf:    make([]float64, nfft),
		coeffs: make([]complex128, bins),
		psd:    make([]float64, bins),
		welch:  make([]float64, bins),
	}
}

// power returns the one-sided power spectrum of seg, valid until the next
// call.
func (s *spectrum) power(seg []float64) []float64 {
	mean := 0.0
	for _, v := range seg {
		mean += v
	}
	mean /= float64(len(seg))
	for i, v := range seg {
		s.buf[i] = (v - mean) * s.taper[i]
	}
	clear(s.buf[len(seg):])
	s.coeffs = s.fft.Coefficients(s.coeffs, s.buf)
	last := len(s.psd) - 1
	for k, c := range s.coeffs {
		p := real(c)*real(c) + imag(c)*imag(c)
		if k != 0 && k != last {
			// Fold the negative frequencies in; DC and Nyquist have
			// no mirror image.
			p *= 2
		}
		s.psd[k] = p
	}
	return s.psd
}

// frequencies returns the mean and median frequency of a one-sided power
// spectrum, or zeros when it holds no power.
func (s *spectrum) frequencies(psd []float64) (mean, median float64) {
	var total, moment float64
	for k, p := range psd {
		total += p
		moment += float64(k) * p
	}
	if !(total > 0) || math.IsInf(total, 0) {
		return 0, 0
	}
	mean = moment / total * s.df

	// Each bin's power is spread evenly over [f_k - df/2, f_k + df/2], so
	// a tone centred on a bin, leaking symmetrically, has its median at
	// the tone rather than half a bin off.
	half, cum := total/2, 0.0
	for k, p := range psd {
		if p > 0 && cum+p >= half {
			median = (float64(k) - 0.5 + (half-cum)/p) * s.df
			break
		}
		cum += p
	}
	nyquist := float64(len(psd)-1) * s.df
	return mean, min(max(median, 0), nyquist)
}
