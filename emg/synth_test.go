package emg_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/emg"
)

func TestSampleReadsAndAnalyses(t *testing.T) {
	var raw bytes.Buffer
	require.NoError(t, emg.WriteCSV(&raw, emg.Synthesize(emg.SynthOptions{})))
	rec, err := emg.CSVReader{}.Read(&raw, emg.DefaultSynthSampleRate)
	require.NoError(t, err)
	assert.Equal(t, emg.DefaultSynthChannels(), rec.Channels)
	assert.Equal(t, 4000, rec.Len())

	a, err := emg.Analyze(rec, emg.AnalysisOptions{})
	require.NoError(t, err)
	for _, c := range a.Channels {
		t.Run(c.Name, func(t *testing.T) {
			// Plausible surface EMG: tenths of a millivolt, spectrum
			// inside the synthesised band and peaking near 100 Hz.
			assert.Greater(t, c.RMS, 0.05)
			assert.Less(t, c.RMS, 1.0)
			assert.Less(t, c.PeakAmplitude, 5.0)
			assert.Greater(t, c.MedianFrequency, 50.0)
			assert.Less(t, c.MedianFrequency, 150.0)
			assert.Greater(t, c.MeanFrequency, c.MedianFrequency, "EMG spectra are right-skewed")
			assert.Greater(t, c.ZeroCrossingsPerSecond, 100.0)
		})
	}
}

func TestSynthesizeContractionsAlternate(t *testing.T) {
	rec := emg.Synthesize(emg.SynthOptions{})
	a, err := emg.Analyze(rec, emg.AnalysisOptions{WindowSeconds: 0.1, OverlapFraction: emg.NoOverlap})
	require.NoError(t, err)

	// Biceps contract in the first half of each second, triceps in the
	// second: a flexor's activity peaks where its antagonist rests.
	rmsAt := func(channel int, seconds float64) float64 {
		return a.Channels[channel].Windows[int(math.Round(seconds/0.1))].RMS
	}
	for _, second := range []float64{0, 1} {
		for _, pair := range [][2]int{{0, 2}, {1, 3}} { // left, right
			biceps, triceps := pair[0], pair[1]
			assert.Greater(t, rmsAt(biceps, second+0.2), 4*rmsAt(triceps, second+0.2), "t=%vs biceps active", second+0.2)
			assert.Greater(t, rmsAt(triceps, second+0.7), 4*rmsAt(biceps, second+0.7), "t=%vs triceps active", second+0.7)
		}
	}
}

func TestSynthesizeOptions(t *testing.T) {
	tests := []struct {
		name     string
		opts     emg.SynthOptions
		channels []string
		rate     float64
		samples  int
	}{
		{name: "defaults", opts: emg.SynthOptions{}, channels: emg.DefaultSynthChannels(), rate: 2000, samples: 4000},
		{name: "custom", opts: emg.SynthOptions{SampleRate: 1000, DurationSeconds: 0.5, Channels: []string{"x"}}, channels: []string{"x"}, rate: 1000, samples: 500},
		{name: "invalid fall back", opts: emg.SynthOptions{SampleRate: math.NaN(), DurationSeconds: -3}, channels: emg.DefaultSynthChannels(), rate: 2000, samples: 4000},
		{name: "rate above limit falls back", opts: emg.SynthOptions{SampleRate: 2e6, DurationSeconds: 1}, channels: emg.DefaultSynthChannels(), rate: 2000, samples: 2000},
		{name: "low rate clips the band", opts: emg.SynthOptions{SampleRate: 100, DurationSeconds: 1}, channels: emg.DefaultSynthChannels(), rate: 100, samples: 100},
		{name: "at least one sample", opts: emg.SynthOptions{DurationSeconds: 1e-9}, channels: emg.DefaultSynthChannels(), rate: 2000, samples: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := emg.Synthesize(tt.opts)
			require.NoError(t, rec.Validate())
			assert.Equal(t, tt.channels, rec.Channels)
			assert.Equal(t, tt.rate, rec.SampleRate)
			assert.Equal(t, tt.samples, rec.Len())
		})
	}
}

func TestSynthesizeIsDeterministic(t *testing.T) {
	a := emg.Synthesize(emg.SynthOptions{Seed: 7})
	b := emg.Synthesize(emg.SynthOptions{Seed: 7})
	c := emg.Synthesize(emg.SynthOptions{Seed: 8})
	assert.Equal(t, a, b)
	assert.NotEqual(t, a.Samples, c.Samples)

	names := []string{"m"}
	d := emg.Synthesize(emg.SynthOptions{Channels: names})
	names[0] = "changed"
	assert.Equal(t, []string{"m"}, d.Channels, "channel names are copied")
}

func TestSynthesizeIsBandLimited(t *testing.T) {
	// Contraction envelopes change over a second, far too slowly to move
	// power out of the synthesised 20–450 Hz band.
	rec := emg.Synthesize(emg.SynthOptions{Channels: []string{"m"}, DurationSeconds: 4})
	a, err := emg.Analyze(rec, emg.AnalysisOptions{WindowSeconds: 4})
	require.NoError(t, err)
	c := a.Channels[0]
	assert.Greater(t, c.MedianFrequency, 60.0)
	assert.Less(t, c.MedianFrequency, 140.0)
	assert.Less(t, c.MeanFrequency, 450.0)
}
