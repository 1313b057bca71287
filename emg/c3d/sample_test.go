package c3d_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/emgcache/emgcache/emg/c3d"
)

// readSample reads a file of testdata (see testdata/README.md).
func readSample(t testing.TB, name string) (*c3d.File, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	f, err := c3d.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f, raw
}

// sample02 are the six encodings of c3d.org's sample 02.
var sample02 = []struct {
	name  string
	proc  c3d.Processor
	float bool
}{
	{"sample02_pc_int.c3d", c3d.Intel, false},
	{"sample02_pc_real.c3d", c3d.Intel, true},
	{"sample02_dec_int.c3d", c3d.DEC, false},
	{"sample02_dec_real.c3d", c3d.DEC, true},
	{"sample02_sgi_int.c3d", c3d.MIPS, false},
	{"sample02_sgi_real.c3d", c3d.MIPS, true},
}

func TestSample02Shape(t *testing.T) {
	for _, s := range sample02 {
		t.Run(s.name, func(t *testing.T) {
			f, _ := readSample(t, s.name)
			if f.Processor != s.proc || f.FloatStorage != s.float {
				t.Errorf("processor %v float %v, want %v %v", f.Processor, f.FloatStorage, s.proc, s.float)
			}
			if len(f.Points) != 36 || len(f.Analog) != 16 || f.PointFrames != 89 || f.FirstFrame != 1 {
				t.Errorf("%d points, %d channels, %d frames from %d; want 36, 16, 89 from 1", len(f.Points), len(f.Analog), f.PointFrames, f.FirstFrame)
			}
			if f.PointRate != 50 || f.AnalogRate != 200 || f.AnalogSamplesPerFrame != 4 {
				t.Errorf("rates %v/%v Hz, %d samples per frame; want 50/200, 4", f.PointRate, f.AnalogRate, f.AnalogSamplesPerFrame)
			}
			if got := f.Analog[0]; got.Label != "FX1" || got.Unit != "nt" || got.Description != "FORCE X-COMP 1" {
				t.Errorf("channel 0 is %q %q %q", got.Label, got.Unit, got.Description)
			}
			if got := f.Analog[15].Label; got != "CH16" {
				t.Errorf("channel 15 is %q", got)
			}
			if f.Points[0].Label != "RFT1" || f.PointUnit != "mm" {
				t.Errorf("point 0 is %q in %q", f.Points[0].Label, f.PointUnit)
			}
			if got := f.Param("SUBJECT", "NAME").Text(); got != "Norm Walker" {
				t.Errorf("SUBJECT:NAME %q", got)
			}
			if p := f.Param("point", "used"); p == nil || !p.Locked {
				t.Errorf("POINT:USED is found case-insensitively and is locked in these files: %+v", p)
			}
			for _, c := range f.Analog {
				if len(c.Samples) != 89*4 {
					t.Fatalf("channel %s has %d samples", c.Label, len(c.Samples))
				}
			}
			if len(f.Warnings) != 0 {
				t.Errorf("warnings: %q", f.Warnings)
			}
		})
	}
}

// TestSample02Agree checks the relation c3d.org documents: the six files
// hold the same recording. Analog values agree exactly (the float files
// store the integer raw values); float points agree exactly across
// processors, and integer points are within one step of POINT:SCALE of
// them (the integer files were not all rounded the same way: pc_int and
// sgi_int sit one step below dec_int in places).
func TestSample02Agree(t *testing.T) {
	ref, _ := readSample(t, "sample02_pc_int.c3d")
	refReal, _ := readSample(t, "sample02_pc_real.c3d")
	for _, s := range sample02 {
		t.Run(s.name, func(t *testing.T) {
			f, _ := readSample(t, s.name)
			for c := range f.Analog {
				for i, v := range f.Analog[c].Samples {
					if want := ref.Analog[c].Samples[i]; v != want {
						t.Fatalf("channel %s sample %d is %v, pc_int has %v", f.Analog[c].Label, i, v, want)
					}
				}
			}
			same := refReal
			tol := math.Abs(ref.PointScale) * (1 + 1e-6)
			valid := 0
			for p := range f.Points {
				for fr, xyz := range f.Points[p].XYZ {
					if f.Points[p].Residual[fr] < 0 != (same.Points[p].Residual[fr] < 0) {
						t.Fatalf("point %d frame %d validity differs", p, fr)
					}
					if f.Points[p].Residual[fr] < 0 {
						continue
					}
					valid++
					for k := range 3 {
						if s.float && xyz[k] != same.Points[p].XYZ[fr][k] {
							t.Fatalf("point %d frame %d: %v, same-storage reference %v", p, fr, xyz, same.Points[p].XYZ[fr])
						}
						if d := math.Abs(xyz[k] - refReal.Points[p].XYZ[fr][k]); d > tol {
							t.Fatalf("point %d frame %d: %v vs real %v, off by %v > %v", p, fr, xyz, refReal.Points[p].XYZ[fr], d, tol)
						}
					}
				}
			}
			if valid < 1000 {
				t.Errorf("only %d valid point samples compared", valid)
			}
		})
	}
}

// TestSample02RawBytes decodes the first analog values straight from the
// bytes, with the constants a hex dump of the files shows: data at block
// 13, 36 points of 4 words before the analog values, FX1's ANALOG:SCALE
// −0.86, GEN_SCALE 0.5, OFFSET 2048.
func TestSample02RawBytes(t *testing.T) {
	const dataOff, pointBytes = 12 * 512, 36 * 4 * 2
	for _, s := range []struct {
		name  string
		order binary.ByteOrder
	}{{"sample02_pc_int.c3d", binary.LittleEndian}, {"sample02_sgi_int.c3d", binary.BigEndian}, {"sample02_dec_int.c3d", binary.LittleEndian}} {
		t.Run(s.name, func(t *testing.T) {
			f, raw := readSample(t, s.name)
			frameBytes := pointBytes + 16*4*2
			for fr := range 89 {
				for k := range 4 {
					off := dataOff + fr*frameBytes + pointBytes + k*16*2
					v := float64(int16(s.order.Uint16(raw[off:])))
					want := (v - 2048) * float64(float32(-0.86)) * 0.5
					if got := f.Analog[0].Samples[fr*4+k]; math.Abs(got-want) > 1e-9 {
						t.Fatalf("frame %d sample %d: %v, want %v", fr, k, got, want)
					}
				}
			}
		})
	}
}

// TestSample01DEC checks c3d.org's sample 01, a DEC file with float
// storage, against floats decoded in the test by the classic recipe: swap
// the 16-bit words, read as IEEE single, divide by 4.
func TestSample01DEC(t *testing.T) {
	f, raw := readSample(t, "sample01_eb015vr.c3d")
	if f.Processor != c3d.DEC || !f.FloatStorage || len(f.Points) != 26 || len(f.Analog) != 16 || f.PointFrames != 450 {
		t.Fatalf("%v float=%v %d points %d channels %d frames", f.Processor, f.FloatStorage, len(f.Points), len(f.Analog), f.PointFrames)
	}
	if f.PointRate != 50 || f.AnalogRate != 200 {
		t.Errorf("rates %v/%v", f.PointRate, f.AnalogRate)
	}
	dec := func(b []byte) float64 {
		return float64(math.Float32frombits(uint32(b[2])|uint32(b[3])<<8|uint32(b[0])<<16|uint32(b[1])<<24)) / 4
	}
	dataOff := (f.Header.DataBlock - 1) * 512
	frameBytes := (26*4 + 16*4) * 4
	for fr := range 450 {
		off := dataOff + fr*frameBytes
		if got, want := f.Points[0].XYZ[fr][0], dec(raw[off:]); got != want && f.Points[0].Residual[fr] >= 0 {
			t.Fatalf("frame %d RFT1 x %v, want %v", fr, got, want)
		}
		a := off + 26*4*4
		want := (dec(raw[a:]) - 2048) * f.Analog[0].Scale
		if got := f.Analog[0].Samples[fr*4]; math.Abs(got-want) > 1e-9 {
			t.Fatalf("frame %d FX1 %v, want %v", fr, got, want)
		}
	}
	var labels []string
	for _, e := range f.Header.Events {
		labels = append(labels, e.Label)
	}
	if len(labels) != 3 || labels[0] != "RIC" || labels[1] != "RHS" || labels[2] != "RTO" {
		t.Errorf("header events %q", labels)
	}
	if math.Abs(f.Header.Events[1].Time-5.4) > 1e-6 {
		t.Errorf("RHS at %v s", f.Header.Events[1].Time)
	}
}

// TestSample30EMG checks the EMG recording's documented channels: four
// channels MG-1…MG-4 in volts at 1600 Hz (32 samples per 50 Hz frame),
// stored as floats with ANALOG:GEN_SCALE 0.0041504 (0x3B880000), scale 1
// and offset 0.
func TestSample30EMG(t *testing.T) {
	f, raw := readSample(t, "sample30_emgwl.c3d")
	if len(f.Points) != 0 || len(f.Analog) != 4 || f.AnalogRate != 1600 || f.AnalogSamplesPerFrame != 32 {
		t.Fatalf("%d points %d channels at %v Hz, %d per frame", len(f.Points), len(f.Analog), f.AnalogRate, f.AnalogSamplesPerFrame)
	}
	// The header counts frames 0 to 500 and POINT:FRAMES says 501: all
	// 501 fit the data section exactly.
	if f.PointFrames != 501 || f.FirstFrame != 0 {
		t.Errorf("%d frames from %d", f.PointFrames, f.FirstFrame)
	}
	gen := float64(math.Float32frombits(0x3b880000))
	for c, want := range []string{"MG-1", "MG-2", "MG-3", "MG-4"} {
		ch := f.Analog[c]
		if ch.Label != want || ch.Unit != "Volt" || ch.Description != "EMG-"+want[3:] {
			t.Errorf("channel %d: %q %q %q", c, ch.Label, ch.Unit, ch.Description)
		}
		if len(ch.Samples) != 501*32 {
			t.Fatalf("channel %s: %d samples", ch.Label, len(ch.Samples))
		}
		for i, got := range ch.Samples {
			off := 4*512 + i*4*4 + c*4
			want := float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[off:]))) * gen
			if got != want {
				t.Fatalf("channel %s sample %d: %v, want %v", ch.Label, i, got, want)
			}
		}
	}
	if got := f.Param("MANUFACTURER", "COMPANY").Text(); got != "Biogesta" {
		t.Errorf("MANUFACTURER:COMPANY %q", got)
	}
	if got := f.Param("MANUFACTURER", "VERSION").Ints(); len(got) != 3 || got[0] != 1 || got[1] != 4 || got[2] != 1 {
		t.Errorf("MANUFACTURER:VERSION %v", got)
	}
}
