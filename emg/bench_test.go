package emg_test

import (
	"bytes"
	"testing"

	"github.com/emgcache/emgcache/emg"
)

// BenchmarkAnalyze measures the work a cache in front of Analyze saves: the
// example server's sample (4 channels, 2 s at 2 kHz) and a longer session (8
// channels, 60 s at 2 kHz).
func BenchmarkAnalyze(b *testing.B) {
	sample := emg.Synthesize(emg.SynthOptions{})
	session := emg.Synthesize(emg.SynthOptions{DurationSeconds: 60, Channels: []string{
		"biceps_l", "biceps_r", "triceps_l", "triceps_r", "deltoid_l", "deltoid_r", "trapezius_l", "trapezius_r",
	}})
	for _, bm := range []struct {
		name string
		rec  *emg.Recording
	}{{"sample", sample}, {"session_60s_8ch", session}} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := emg.Analyze(bm.rec, emg.AnalysisOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCSVReader measures parsing the example server's sample, which an
// analysis request pays on top of Analyze when it starts from raw bytes.
func BenchmarkCSVReader(b *testing.B) {
	var buf bytes.Buffer
	if err := emg.WriteCSV(&buf, emg.Synthesize(emg.SynthOptions{})); err != nil {
		b.Fatal(err)
	}
	raw := buf.Bytes()
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := (emg.CSVReader{}).Read(bytes.NewReader(raw), emg.DefaultSynthSampleRate); err != nil {
			b.Fatal(err)
		}
	}
}
