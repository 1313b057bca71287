package emg

import (
	"math"
	"math/bits"
	"math/cmplx"
	"math/rand/v2"

	"gonum.org/v1/gonum/dsp/fourier"
)

// Defaults for the zero value of [SynthOptions]; the example server's
// testdata/sample_emg.csv is Synthesize(SynthOptions{}) written by
// [WriteCSV], so it is sampled at DefaultSynthSampleRate.
const (
	DefaultSynthSampleRate = 2000.0
	DefaultSynthDuration   = 2.0
)

// DefaultSynthChannels returns the channel names used when
// SynthOptions.Channels is empty: two antagonist muscle pairs, left and
// right.
func DefaultSynthChannels() []string {
	return []string{"biceps_l", "biceps_r", "triceps_l", "triceps_r"}
}

// Frequency content of the synthetic signal: the usual surface-EMG band,
// with a spectral peak near 100 Hz.
const (
	synthLowHz  = 20.0
	synthHighHz = 450.0
	// Contractions alternate between antagonist pairs once per second.
	synthCyclePeriod = 1.0
	// Resting activity relative to a full contraction.
	synthBaseline = 0.05
)

// SynthOptions configures [Synthesize]. Zero or invalid fields (non-positive,
// non-finite, or a sample rate above MaxSampleRate) take the defaults.
type SynthOptions struct {
	// Seed selects the random realisation; 0 is a seed like any other.
	Seed uint64
	// SampleRate in Hz; default DefaultSynthSampleRate.
	SampleRate float64
	// DurationSeconds; default DefaultSynthDuration.
	DurationSeconds float64
	// Channels names the channels; default DefaultSynthChannels().
	Channels []string
}

// Synthesize returns a deterministic, plausible surface-EMG recording in
// millivolts: per channel, Gaussian-like noise band-limited to 20–450 Hz
// (below Nyquist) with an EMG-shaped spectrum, modulated by smooth
// contraction envelopes. Channels alternate in pairs between two antagonist
// phases (biceps, then triceps), each channel with its own gain and
// spectral peak.
//
// The same options always yield the same samples: randomness comes from a
// seeded PCG source used through its raw 64-bit output, whose algorithm is
// fixed, rather than through helper methods that may change. Synthesize
// allocates SampleRate × DurationSeconds samples per channel.
func Synthesize(opts SynthOptions) *Recording {
	fs := opts.SampleRate
	if ValidateSampleRate(fs) != nil {
		fs = DefaultSynthSampleRate
	}
	duration := opts.DurationSeconds
	if !(duration > 0) || math.IsInf(duration, 0) {
		duration = DefaultSynthDuration
	}
	channels := opts.Channels
	if len(channels) == 0 {
		channels = DefaultSynthChannels()
	}
	n := max(int(math.Round(duration*fs)), 1)

	src := rand.NewPCG(opts.Seed, 0x656d67) // "emg"
	uniform := func() float64 { return float64(src.Uint64()>>11) * 0x1p-53 }

	nfft := max(1<<bits.Len(uint(n-1)), 2)
	fft := fourier.NewFFT(nfft)
	coeffs := make([]complex128, nfft/2+1)
	noise := make([]float64, nfft)

	rec := &Recording{
		Channels:   append([]string(nil), channels...),
		SampleRate: fs,
		Samples:    make([][]float64, len(channels)),
	}
	for c := range channels {
		gain := 0.4 + 0.5*uniform()             // peak RMS in mV
		peakHz := 80 + 40*uniform()             // where this muscle's spectrum peaks
		phase := float64((c/2)%2) * math.Pi     // antagonists alternate
		onsetJitter := 0.05 * (uniform() - 0.5) // seconds

		// Random phases over a fixed magnitude spectrum give noise that
		// is band-limited exactly, with no filter transients.
		clear(coeffs)
		for k := range coeffs {
			f := float64(k) * fs / float64(nfft)
			if f < synthLowHz || f > synthHighHz || k == 0 || k == len(coeffs)-1 {
				continue
			}
			coeffs[k] = cmplx.Rect(math.Sqrt(emgShape(f, peakHz)), 2*math.Pi*uniform())
		}
		noise = fft.Sequence(noise, coeffs)
		x := noise[:n]
		sumSq := 0.0
		for _, v := range x {
			sumSq += v * v
		}
		norm := 1.0
		if sumSq > 0 {
			norm = 1 / math.Sqrt(sumSq/float64(n))
		}

		out := make([]float64, n)
		for i, v := range x {
			t := float64(i)/fs + onsetJitter
			a := math.Sin(2*math.Pi*t/synthCyclePeriod - phase)
			activation := 0.0
			if a > 0 {
				activation = a * a
			}
			envelope := synthBaseline + (1-synthBaseline)*activation
			out[i] = gain * envelope * v * norm
		}
		rec.Samples[c] = out
	}
	return rec
}

// emgShape is the power spectral density of surface EMG in the classic
// two-pole model (low corner fixed, high corner where the muscle's
// spectrum should peak), up to a constant factor.
func emgShape(f, peakHz float64) float64 {
	const lowHz = 50.0
	f2, h2 := f*f, peakHz*peakHz
	return h2 * h2 * f2 / ((f2 + lowHz*lowHz) * (f2 + h2) * (f2 + h2))
}
