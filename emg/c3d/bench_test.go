package c3d_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emgcache/emgcache/emg/c3d"
	"github.com/emgcache/emgcache/emg/c3d/c3dtest"
)

// benchFiles are the real samples plus a long EMG-shaped recording (16
// channels at 2 kHz for 60 s, float storage), where the analog data
// dominates as it does in the files the server receives.
func benchFiles(b *testing.B) map[string][]byte {
	b.Helper()
	files := map[string][]byte{}
	for _, name := range []string{"sample30_emgwl.c3d", "sample02_pc_int.c3d", "sample02_pc_real.c3d", "sample02_dec_real.c3d", "sample02_sgi_real.c3d"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			b.Fatal(err)
		}
		files[name] = raw
	}
	for _, float := range []bool{true, false} {
		w := recording(c3d.Intel, float, 6000, 20, 0, 16) // 100 Hz frames × 20 = 2 kHz
		raw, err := c3dtest.Bytes(w)
		if err != nil {
			b.Fatal(err)
		}
		name := "emg16ch_60s_int"
		if float {
			name = "emg16ch_60s_float"
		}
		files[name] = raw
	}
	return files
}

// BenchmarkRead measures Read in MB/s of file. Its baseline, in the same
// run and on the same bytes, touches every byte once: it decodes each 4
// bytes as a float32 into a float64 and sums them, the least any reader
// of the data must do.
func BenchmarkRead(b *testing.B) {
	files := benchFiles(b)
	for _, name := range []string{"sample30_emgwl.c3d", "sample02_pc_int.c3d", "sample02_pc_real.c3d", "sample02_dec_real.c3d", "sample02_sgi_real.c3d", "emg16ch_60s_float", "emg16ch_60s_int"} {
		raw := files[name]
		b.Run(name+"/baseline", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				sink = baseline(raw)
			}
		})
		b.Run(name+"/Read", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := c3d.Read(bytes.NewReader(raw)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadVsBaseline runs the baseline and Read alternately on each
// file and reports the ratio of their fastest runs ("x-baseline") with the
// MB/s of each. On a shared machine the fastest of many alternating runs
// is what noise disturbs least, and alternating keeps both sides under the
// same conditions. Two more steps, timed the same way, say where Read's
// time goes: "copy-x" copies the file into memory, which Read does first
// for a reader that does not report its length (a bytes.Reader, as here,
// streams instead), and "out-x" allocates the float64s Read returns and
// writes each once, the least that returning them costs (memory the
// runtime zeroes, or the kernel maps in on the first write, and then the
// write itself).
func BenchmarkReadVsBaseline(b *testing.B) {
	files := benchFiles(b)
	for _, name := range []string{"sample30_emgwl.c3d", "sample02_pc_int.c3d", "sample02_pc_real.c3d", "sample02_dec_real.c3d", "sample02_sgi_real.c3d", "emg16ch_60s_float", "emg16ch_60s_int"} {
		raw := files[name]
		f, err := c3d.Read(bytes.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		values := 0
		for _, c := range f.Analog {
			values += len(c.Samples)
		}
		values += 4 * len(f.Points) * f.PointFrames
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var fastBase, fastRead, fastCopy, fastAlloc time.Duration = math.MaxInt64, math.MaxInt64, math.MaxInt64, math.MaxInt64
			for b.Loop() {
				t0 := time.Now()
				sink = baseline(raw)
				t1 := time.Now()
				if _, err := c3d.Read(bytes.NewReader(raw)); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				buf := bytes.NewBuffer(make([]byte, 0, len(raw)+bytes.MinRead))
				_, _ = buf.ReadFrom(bytes.NewReader(raw))
				t3 := time.Now()
				out := make([]float64, values)
				for i := range out {
					out[i] = 1
				}
				t4 := time.Now()
				sinkBytes, sinkFloats = buf.Bytes(), out
				fastBase, fastRead = min(fastBase, t1.Sub(t0)), min(fastRead, t2.Sub(t1))
				fastCopy, fastAlloc = min(fastCopy, t3.Sub(t2)), min(fastAlloc, t4.Sub(t3))
			}
			mb := float64(len(raw)) / 1e6
			b.ReportMetric(float64(fastRead)/float64(fastBase), "x-baseline")
			b.ReportMetric(float64(fastCopy)/float64(fastBase), "copy-x")
			b.ReportMetric(float64(fastAlloc)/float64(fastBase), "out-x")
			b.ReportMetric(mb/fastBase.Seconds(), "baseline-MB/s")
			b.ReportMetric(mb/fastRead.Seconds(), "Read-MB/s")
		})
	}
}

var (
	sinkBytes  []byte
	sinkFloats []float64
)

// baseline touches every byte of raw once: each 4 bytes decoded as a
// float32 into a float64, summed.
func baseline(raw []byte) float64 {
	var sum float64
	for i := 0; i+4 <= len(raw); i += 4 {
		sum += float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[i:])))
	}
	return sum
}

var sink float64
