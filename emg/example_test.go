package emg_test

import (
	"bytes"
	"fmt"
	"log"
	"math"
	"os"
	"strings"

	"github.com/emgcache/emgcache/emg"
)

func ExampleHashBytes() {
	fmt.Println(emg.HashBytes([]byte("hello")))
	// Output: 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
}

func ExampleCSVReader() {
	input := "biceps_l, triceps_l\n0.12,-0.03\n-0.08,0.01\n0.05,0.02\n"
	rec, err := emg.CSVReader{}.Read(strings.NewReader(input), 2000)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Channels, rec.Len(), rec.DurationSeconds())

	_, err = emg.CSVReader{}.Read(strings.NewReader("a,b\n1,2\n3\n"), 2000)
	fmt.Println(err)
	// Output:
	// [biceps_l triceps_l] 3 0.0015
	// csv line 3: 1 fields, header has 2: malformed recording
}

func ExampleAnalyze() {
	// One second of a 1 mV, 50 Hz sine sampled at 1 kHz.
	const amplitude, f, fs = 1.0, 50.0, 1000.0
	x := make([]float64, int(fs))
	for i := range x {
		x[i] = amplitude * math.Sin(2*math.Pi*f*float64(i)/fs)
	}
	rec := &emg.Recording{Channels: []string{"sine"}, SampleRate: fs, Samples: [][]float64{x}}

	a, err := emg.Analyze(rec, emg.AnalysisOptions{})
	if err != nil {
		log.Fatal(err)
	}
	c := a.Channels[0]
	fmt.Printf("RMS %.3f (A/√2 = %.3f)\n", c.RMS, amplitude/math.Sqrt2)
	fmt.Printf("MAV %.2f (2A/π = %.2f)\n", c.MeanAbsoluteValue, 2*amplitude/math.Pi)
	fmt.Printf("zero crossings %d, %.0f per second\n", c.ZeroCrossings, c.ZeroCrossingsPerSecond)
	fmt.Printf("mean frequency %.0f Hz, median frequency %.0f Hz\n", c.MeanFrequency, c.MedianFrequency)
	fmt.Printf("%d windows of %.2f s, %.0f%% overlap\n", len(c.Windows), a.WindowSeconds, 100*a.OverlapFraction)
	// Output:
	// RMS 0.707 (A/√2 = 0.707)
	// MAV 0.63 (2A/π = 0.64)
	// zero crossings 99, 99 per second
	// mean frequency 50 Hz, median frequency 50 Hz
	// 7 windows of 0.25 s, 50% overlap
}

func ExampleSynthesize() {
	rec := emg.Synthesize(emg.SynthOptions{})
	fmt.Println(rec.Channels, rec.SampleRate, rec.Len())
	// Output: [biceps_l biceps_r triceps_l triceps_r] 2000 4000
}

func ExampleC3DReader() {
	raw, err := os.ReadFile("c3d/testdata/sample30_emgwl.c3d")
	if err != nil {
		log.Fatal(err)
	}
	rec, err := emg.C3DReader{Channels: []string{"MG-2", "MG-4"}}.Read(bytes.NewReader(raw), 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Channels, rec.SampleRate, "Hz", rec.Len(), "samples in", rec.Unit)
	fmt.Println(rec.C3D.Processor, rec.C3D.Storage, rec.C3D.Manufacturer["COMPANY"], rec.C3D.Manufacturer["SOFTWARE"])
	fmt.Printf("%.2f %s\n", rec.Samples[0][0], rec.Unit)
	// Output:
	// [MG-2 MG-4] 1600 Hz 16032 samples in mV
	// Intel float Biogesta Saga-3RT
	// -14.11 mV
}
