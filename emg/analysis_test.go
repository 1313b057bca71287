package emg_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/emg"
)

// sine returns amplitude·sin(2πft + phase) sampled at fs for duration
// seconds, plus offset.
func sine(amplitude, f, phase, offset, fs, duration float64) []float64 {
	x := make([]float64, int(math.Round(fs*duration)))
	for i := range x {
		x[i] = offset + amplitude*math.Sin(2*math.Pi*f*float64(i)/fs+phase)
	}
	return x
}

func recording(fs float64, channels ...[]float64) *emg.Recording {
	rec := &emg.Recording{SampleRate: fs, Samples: channels}
	for i := range channels {
		rec.Channels = append(rec.Channels, string(rune('a'+i)))
	}
	return rec
}

func TestAnalyzeSine(t *testing.T) {
	tests := []struct {
		name                     string
		amplitude, f, phase, fs  float64
		duration                 float64
		opts                     emg.AnalysisOptions
		spectralTolerance        float64 // Hz, for mean and median frequency
		windowSpectralTolerance  float64
		wantWindows, wantSamples int
		wantWindowSeconds        float64
		wantOverlap              float64
	}{
		{
			name: "50 Hz at 1 kHz, defaults", amplitude: 1, f: 50, fs: 1000, duration: 2,
			spectralTolerance: 1, windowSpectralTolerance: 2,
			wantWindows: 15, wantSamples: 2000, wantWindowSeconds: 0.25, wantOverlap: 0.5,
		},
		{
			name: "100 Hz at 2 kHz, 3 mV, phase shifted", amplitude: 3, f: 100, phase: 0.7, fs: 2000, duration: 1,
			spectralTolerance: 1, windowSpectralTolerance: 2,
			wantWindows: 7, wantSamples: 2000, wantWindowSeconds: 0.25, wantOverlap: 0.5,
		},
		{
			name: "173 Hz at 4 kHz, 0.5 s windows, no overlap", amplitude: 0.2, f: 173, fs: 4000, duration: 3,
			opts:              emg.AnalysisOptions{WindowSeconds: 0.5, OverlapFraction: emg.NoOverlap},
			spectralTolerance: 1, windowSpectralTolerance: 1,
			wantWindows: 6, wantSamples: 12000, wantWindowSeconds: 0.5, wantOverlap: 0,
		},
		{
			name: "37.5 Hz at 500 Hz, 75% overlap", amplitude: 10, f: 37.5, fs: 500, duration: 4,
			opts:              emg.AnalysisOptions{WindowSeconds: 1, OverlapFraction: 0.75},
			spectralTolerance: 0.5, windowSpectralTolerance: 0.5,
			wantWindows: 13, wantSamples: 2000, wantWindowSeconds: 1, wantOverlap: 0.75,
		},
		{
			name: "recording shorter than a window", amplitude: 1, f: 80, fs: 1000, duration: 0.1,
			spectralTolerance: 3, windowSpectralTolerance: 3,
			wantWindows: 1, wantSamples: 100, wantWindowSeconds: 0.1, wantOverlap: 0.5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := recording(tt.fs, sine(tt.amplitude, tt.f, tt.phase, 0, tt.fs, tt.duration))
			a, err := emg.Analyze(rec, tt.opts)
			require.NoError(t, err)

			assert.Equal(t, tt.fs, a.SampleRate)
			assert.Equal(t, tt.wantSamples, a.Samples)
			assert.InDelta(t, tt.duration, a.DurationSeconds, 1e-12)
			assert.InDelta(t, tt.wantWindowSeconds, a.WindowSeconds, 1e-12)
			assert.InDelta(t, tt.wantOverlap, a.OverlapFraction, 1e-12)
			require.Len(t, a.Channels, 1)

			c := a.Channels[0]
			assert.Equal(t, "a", c.Name)
			assert.InEpsilon(t, tt.amplitude/math.Sqrt2, c.RMS, 1e-3, "RMS is A/√2")
			// A sampled sine's MAV falls short of 2A/π, by 0.8% at 20
			// samples per period with samples on the zeros.
			assert.InEpsilon(t, 2*tt.amplitude/math.Pi, c.MeanAbsoluteValue, 1e-2, "MAV is 2A/π")
			assert.InEpsilon(t, tt.amplitude, c.PeakAmplitude, 1e-2)
			assert.InDelta(t, 2*tt.f*tt.duration, float64(c.ZeroCrossings), 1, "two crossings per period")
			assert.InDelta(t, 2*tt.f, c.ZeroCrossingsPerSecond, 1/tt.duration)
			assert.InDelta(t, tt.f, c.MeanFrequency, tt.spectralTolerance)
			assert.InDelta(t, tt.f, c.MedianFrequency, tt.spectralTolerance)

			require.Len(t, c.Windows, tt.wantWindows)
			step := a.WindowSeconds * (1 - a.OverlapFraction)
			for i, w := range c.Windows {
				assert.InDelta(t, float64(i)*step, w.StartSeconds, 1e-9, "window %d start", i)
				assert.InEpsilon(t, tt.amplitude/math.Sqrt2, w.RMS, 0.02, "window %d RMS", i)
				assert.InEpsilon(t, 2*tt.amplitude/math.Pi, w.MeanAbsoluteValue, 0.02, "window %d MAV", i)
				assert.InDelta(t, tt.f, w.MeanFrequency, tt.windowSpectralTolerance, "window %d mean frequency", i)
				assert.InDelta(t, tt.f, w.MedianFrequency, tt.windowSpectralTolerance, "window %d median frequency", i)
			}
		})
	}
}

func TestAnalyzeSignals(t *testing.T) {
	const fs = 2000.0
	noise := rand.New(rand.NewPCG(1, 2))
	white := make([]float64, 4*int(fs))
	for i := range white {
		white[i] = 2*noise.Float64() - 1 // uniform on [-1, 1)
	}
	// A square wave of ±1: RMS, MAV and peak are all 1.
	square := make([]float64, int(fs))
	for i := range square {
		square[i] = 1
		if (i/100)%2 == 1 {
			square[i] = -1
		}
	}

	tiny := emg.AnalysisOptions{WindowSeconds: 4 / fs} // for 8-sample inputs
	tests := []struct {
		name           string
		x              []float64
		opts           emg.AnalysisOptions
		rms, mav, peak float64
		zc             int
		check          func(t *testing.T, c emg.ChannelAnalysis)
	}{
		{
			name: "constant", x: constant(1000, 0.3), rms: 0.3, mav: 0.3, peak: 0.3, zc: 0,
			check: func(t *testing.T, c emg.ChannelAnalysis) {
				assert.Zero(t, c.MeanFrequency, "no variation, no spectrum")
				assert.Zero(t, c.MedianFrequency)
			},
		},
		{
			name: "silence", x: constant(1000, 0), rms: 0, mav: 0, peak: 0, zc: 0,
			check: func(t *testing.T, c emg.ChannelAnalysis) {
				assert.Zero(t, c.MeanFrequency)
				for _, w := range c.Windows {
					assert.Zero(t, w.RMS)
				}
			},
		},
		{
			name: "negative constant with exact zeros", opts: tiny, x: []float64{-1, 0, -1, 0, 0, -1, -1, 0}, rms: math.Sqrt(0.5), mav: 0.5, peak: 1, zc: 0,
		},
		{
			name: "zeros between signs count once", opts: tiny, x: []float64{1, 0, 0, -1, 0, 1, 2, -2}, rms: math.Sqrt(11.0 / 8), mav: 7.0 / 8, peak: 2, zc: 3,
		},
		{
			name: "square wave", x: square, rms: 1, mav: 1, peak: 1, zc: 19,
			check: func(t *testing.T, c emg.ChannelAnalysis) {
				// Odd harmonics of 10 Hz: the median sits on the
				// fundamental, the mean above it.
				assert.InDelta(t, 10, c.MedianFrequency, 2)
				assert.Greater(t, c.MeanFrequency, 15.0)
			},
		},
		{
			name: "white noise", x: white, rms: 1 / math.Sqrt(3), mav: 0.5, peak: 1, zc: len(white) / 2,
			check: func(t *testing.T, c emg.ChannelAnalysis) {
				// A flat spectrum up to Nyquist has both at fs/4.
				assert.InEpsilon(t, fs/4, c.MeanFrequency, 0.05)
				assert.InEpsilon(t, fs/4, c.MedianFrequency, 0.05)
				// One window's periodogram has few degrees of
				// freedom, so single windows scatter; their average
				// must not be biased.
				var meanSum, medianSum float64
				for _, w := range c.Windows {
					assert.InEpsilon(t, fs/4, w.MeanFrequency, 0.3)
					assert.InEpsilon(t, fs/4, w.MedianFrequency, 0.3)
					meanSum += w.MeanFrequency
					medianSum += w.MedianFrequency
				}
				assert.InEpsilon(t, fs/4, meanSum/float64(len(c.Windows)), 0.05)
				assert.InEpsilon(t, fs/4, medianSum/float64(len(c.Windows)), 0.05)
			},
		},
		{
			name: "sine on a DC offset", x: sine(1, 60, 0, 5, fs, 1), rms: math.Sqrt(25 + 0.5), mav: 5, peak: 6, zc: 0,
			check: func(t *testing.T, c emg.ChannelAnalysis) {
				// The window mean is removed before the FFT, so the
				// offset does not pull the spectrum towards 0 Hz.
				assert.InDelta(t, 60, c.MeanFrequency, 1)
				assert.InDelta(t, 60, c.MedianFrequency, 1)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := emg.Analyze(recording(fs, tt.x), tt.opts)
			require.NoError(t, err)
			c := a.Channels[0]
			assert.InDelta(t, tt.rms, c.RMS, 1e-2*max(tt.rms, 1e-9))
			assert.InDelta(t, tt.mav, c.MeanAbsoluteValue, 1e-2*max(tt.mav, 1e-9))
			assert.InDelta(t, tt.peak, c.PeakAmplitude, 1e-2*max(tt.peak, 1e-9))
			if tt.name == "white noise" {
				assert.InEpsilon(t, tt.zc, c.ZeroCrossings, 0.05)
			} else {
				assert.Equal(t, tt.zc, c.ZeroCrossings)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func constant(n int, v float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = v
	}
	return x
}

func TestAnalyzeChannelsAreIndependent(t *testing.T) {
	const fs = 1000.0
	rec := recording(fs, sine(1, 50, 0, 0, fs, 1), sine(2, 120, 0, 0, fs, 1), constant(1000, 0))
	a, err := emg.Analyze(rec, emg.AnalysisOptions{})
	require.NoError(t, err)
	require.Len(t, a.Channels, 3)
	assert.Equal(t, []string{"a", "b", "c"}, []string{a.Channels[0].Name, a.Channels[1].Name, a.Channels[2].Name})
	assert.InDelta(t, 50, a.Channels[0].MedianFrequency, 1)
	assert.InDelta(t, 120, a.Channels[1].MedianFrequency, 1)
	assert.InDelta(t, math.Sqrt2, a.Channels[1].RMS, 1e-3)
	assert.Zero(t, a.Channels[2].RMS)
}

func TestAnalyzeExtremeValuesStayFinite(t *testing.T) {
	rec := recording(1000, sine(math.MaxFloat64, 50, 0, 0, 1000, 1), sine(1e-300, 50, 0, 0, 1000, 1))
	a, err := emg.Analyze(rec, emg.AnalysisOptions{})
	require.NoError(t, err)
	assert.InEpsilon(t, math.MaxFloat64/math.Sqrt2, a.Channels[0].RMS, 1e-3)
	assert.InEpsilon(t, 1e-300/math.Sqrt2, a.Channels[1].RMS, 1e-3)
	for _, c := range a.Channels {
		assert.InDelta(t, 50, c.MedianFrequency, 1)
	}
	_, err = json.Marshal(a)
	require.NoError(t, err, "every number is finite, so JSON encoding cannot fail")
}

func TestAnalyzeJSONNames(t *testing.T) {
	a, err := emg.Analyze(recording(1000, sine(1, 50, 0, 0, 1000, 0.5)), emg.AnalysisOptions{})
	require.NoError(t, err)
	b, err := json.Marshal(a)
	require.NoError(t, err)

	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	for _, key := range []string{"sample_rate", "samples", "duration_seconds", "window_seconds", "window_samples", "overlap_fraction", "channels"} {
		assert.Contains(t, doc, key)
	}
	channel := doc["channels"].([]any)[0].(map[string]any)
	for _, key := range []string{"name", "rms", "mean_absolute_value", "peak_amplitude", "zero_crossings",
		"zero_crossings_per_second", "mean_frequency_hz", "median_frequency_hz", "windows"} {
		assert.Contains(t, channel, key)
	}
	window := channel["windows"].([]any)[0].(map[string]any)
	for _, key := range []string{"start_seconds", "rms", "mean_absolute_value", "mean_frequency_hz", "median_frequency_hz"} {
		assert.Contains(t, window, key)
	}
}

func TestAnalyzeRejects(t *testing.T) {
	valid := sine(1, 50, 0, 0, 1000, 1)
	tests := []struct {
		name string
		rec  *emg.Recording
		opts emg.AnalysisOptions
		want error
	}{
		{name: "nil recording", rec: nil, want: emg.ErrEmptyRecording},
		{name: "no channels", rec: &emg.Recording{SampleRate: 1000}, want: emg.ErrEmptyRecording},
		{name: "no samples", rec: recording(1000, []float64{}), want: emg.ErrEmptyRecording},
		{name: "names and series disagree", rec: &emg.Recording{Channels: []string{"a", "b"}, SampleRate: 1000, Samples: [][]float64{valid}}, want: emg.ErrMalformed},
		{name: "ragged channels", rec: recording(1000, valid, valid[:10]), want: emg.ErrMalformed},
		{name: "NaN sample", rec: recording(1000, []float64{1, math.NaN(), 2}), want: emg.ErrMalformed},
		{name: "infinite sample", rec: recording(1000, []float64{1, math.Inf(-1)}), want: emg.ErrMalformed},
		{name: "zero sample rate", rec: recording(0, valid), want: emg.ErrBadSampleRate},
		{name: "NaN sample rate", rec: recording(math.NaN(), valid), want: emg.ErrBadSampleRate},
		{name: "negative window", rec: recording(1000, valid), opts: emg.AnalysisOptions{WindowSeconds: -1}, want: emg.ErrBadOptions},
		{name: "NaN window", rec: recording(1000, valid), opts: emg.AnalysisOptions{WindowSeconds: math.NaN()}, want: emg.ErrBadOptions},
		{name: "infinite window", rec: recording(1000, valid), opts: emg.AnalysisOptions{WindowSeconds: math.Inf(1)}, want: emg.ErrBadOptions},
		{name: "window under 4 samples", rec: recording(1000, valid), opts: emg.AnalysisOptions{WindowSeconds: 0.003}, want: emg.ErrBadOptions},
		{name: "overlap too large", rec: recording(1000, valid), opts: emg.AnalysisOptions{OverlapFraction: 0.95}, want: emg.ErrBadOptions},
		{name: "overlap of 1", rec: recording(1000, valid), opts: emg.AnalysisOptions{OverlapFraction: 1}, want: emg.ErrBadOptions},
		{name: "negative overlap other than NoOverlap", rec: recording(1000, valid), opts: emg.AnalysisOptions{OverlapFraction: -0.5}, want: emg.ErrBadOptions},
		{name: "NaN overlap", rec: recording(1000, valid), opts: emg.AnalysisOptions{OverlapFraction: math.NaN()}, want: emg.ErrBadOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := emg.Analyze(tt.rec, tt.opts)
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, a)
		})
	}
}

func TestAnalysisOptionsNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   emg.AnalysisOptions
		want emg.AnalysisOptions
	}{
		{name: "zero value", in: emg.AnalysisOptions{}, want: emg.AnalysisOptions{WindowSeconds: 0.25, OverlapFraction: 0.5}},
		{name: "explicit defaults", in: emg.AnalysisOptions{WindowSeconds: 0.25, OverlapFraction: 0.5}, want: emg.AnalysisOptions{WindowSeconds: 0.25, OverlapFraction: 0.5}},
		{name: "no overlap", in: emg.AnalysisOptions{WindowSeconds: 1, OverlapFraction: emg.NoOverlap}, want: emg.AnalysisOptions{WindowSeconds: 1, OverlapFraction: emg.NoOverlap}},
		{name: "maximum overlap", in: emg.AnalysisOptions{OverlapFraction: emg.MaxOverlapFraction}, want: emg.AnalysisOptions{WindowSeconds: 0.25, OverlapFraction: 0.9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.Normalize()
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			again, err := got.Normalize()
			require.NoError(t, err)
			assert.Equal(t, got, again, "idempotent")
		})
	}
}

func TestAnalyzeIsDeterministicAndLeavesInputAlone(t *testing.T) {
	rec := emg.Synthesize(emg.SynthOptions{})
	before := make([]float64, rec.Len())
	copy(before, rec.Samples[0])

	a1, err := emg.Analyze(rec, emg.AnalysisOptions{})
	require.NoError(t, err)
	a2, err := emg.Analyze(rec, emg.AnalysisOptions{})
	require.NoError(t, err)
	assert.Equal(t, a1, a2)
	assert.Equal(t, before, rec.Samples[0])
}
