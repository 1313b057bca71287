// Package emgresult holds the JSON shape of the example server's EMG
// analysis, the value the benchmarks read and serve most, and synthesizes
// instances of it.
package emgresult

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Analysis mirrors the JSON shape of the example server's EMG analysis:
// per-channel features and a per-window series.
type Analysis struct {
	SampleRate      float64           `json:"sample_rate"`
	Samples         int               `json:"samples"`
	DurationSeconds float64           `json:"duration_seconds"`
	WindowSeconds   float64           `json:"window_seconds"`
	WindowSamples   int               `json:"window_samples"`
	OverlapFraction float64           `json:"overlap_fraction"`
	Channels        []ChannelAnalysis `json:"channels"`
}

// ChannelAnalysis is one channel of an Analysis.
type ChannelAnalysis struct {
	Name                   string           `json:"name"`
	RMS                    float64          `json:"rms"`
	MeanAbsoluteValue      float64          `json:"mean_absolute_value"`
	PeakAmplitude          float64          `json:"peak_amplitude"`
	ZeroCrossings          int              `json:"zero_crossings"`
	ZeroCrossingsPerSecond float64          `json:"zero_crossings_per_second"`
	MeanFrequency          float64          `json:"mean_frequency_hz"`
	MedianFrequency        float64          `json:"median_frequency_hz"`
	Windows                []WindowAnalysis `json:"windows"`
}

// WindowAnalysis is one analysis window of a channel.
type WindowAnalysis struct {
	StartSeconds      float64 `json:"start_seconds"`
	RMS               float64 `json:"rms"`
	MeanAbsoluteValue float64 `json:"mean_absolute_value"`
	MeanFrequency     float64 `json:"mean_frequency_hz"`
	MedianFrequency   float64 `json:"median_frequency_hz"`
}

// Synthesize returns the Analysis of a recording with the given number of
// channels and seconds at 2 kHz, with 250 ms half-overlapping windows. Its
// numbers are plausible and not round, so that encoding it costs what
// encoding a real result costs.
func Synthesize(channels int, seconds float64) Analysis {
	const rate, window, overlap = 2000.0, 0.25, 0.5
	r := rand.New(rand.NewPCG(uint64(channels), uint64(seconds)))
	step := window * (1 - overlap)
	nWindows := int(math.Floor((seconds-window)/step)) + 1
	a := Analysis{
		SampleRate:      rate,
		Samples:         int(seconds * rate),
		DurationSeconds: seconds,
		WindowSeconds:   window,
		WindowSamples:   int(window * rate),
		OverlapFraction: overlap,
	}
	for ch := range channels {
		c := ChannelAnalysis{
			Name:                   fmt.Sprintf("channel_%d", ch),
			RMS:                    r.Float64(),
			MeanAbsoluteValue:      r.Float64(),
			PeakAmplitude:          r.Float64() * 3,
			ZeroCrossings:          r.IntN(10_000),
			ZeroCrossingsPerSecond: r.Float64() * 200,
			MeanFrequency:          40 + r.Float64()*80,
			MedianFrequency:        40 + r.Float64()*60,
		}
		for w := range nWindows {
			c.Windows = append(c.Windows, WindowAnalysis{
				StartSeconds:      float64(w) * step,
				RMS:               r.Float64(),
				MeanAbsoluteValue: r.Float64(),
				MeanFrequency:     40 + r.Float64()*80,
				MedianFrequency:   40 + r.Float64()*60,
			})
		}
		a.Channels = append(a.Channels, c)
	}
	return a
}
