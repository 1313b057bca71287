package c3d_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

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
			var sum float64
			for b.Loop() {
				sum = 0
				for i := 0; i+4 <= len(raw); i += 4 {
					sum += float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[i:])))
				}
			}
			sink = sum
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

var sink float64
