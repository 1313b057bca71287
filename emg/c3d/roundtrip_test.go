package c3d_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/emgcache/emgcache/emg/c3d"
	"github.com/emgcache/emgcache/emg/c3d/c3dtest"
)

// recording is a small deterministic description: points moving on
// circles, channels of integer raw values around their offsets.
func recording(proc c3d.Processor, float bool, frames, spf, points, channels int) c3dtest.File {
	f := c3dtest.File{Processor: proc, Float: float, PointScale: 0.05, PointRate: 120, SamplesPerFrame: spf,
		Frames: frames, GenScale: 0.25, FirstFrame: 7}
	for p := range points {
		pt := c3dtest.Point{Label: fmt.Sprintf("M%02d", p)}
		for fr := range frames {
			a := float64(fr+p) / 10
			pt.XYZ = append(pt.XYZ, [3]float64{100 * math.Cos(a), 100 * math.Sin(a), float64(p)*10 + 0.5})
			res := float64(fr%5) * 0.05
			if fr%7 == 3 {
				res = -1
			}
			pt.Residual = append(pt.Residual, res)
			pt.Cameras = append(pt.Cameras, uint8(fr%128))
		}
		f.Points = append(f.Points, pt)
	}
	for c := range channels {
		ch := c3dtest.Channel{Label: fmt.Sprintf("EMG%d", c+1), Unit: "mV", Scale: 0.01 * float64(c+1), Offset: 10 * c}
		for i := range frames * spf {
			ch.Raw = append(ch.Raw, float64((i*37+c*11)%2001-1000))
		}
		f.Analog = append(f.Analog, ch)
	}
	return f
}

func roundTrip(t *testing.T, w c3dtest.File) *c3d.File {
	t.Helper()
	raw, err := c3dtest.Bytes(w)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw)%c3d.BlockSize != 0 {
		t.Fatalf("file of %d bytes is not whole blocks", len(raw))
	}
	f, err := c3d.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// checkValues compares every value read with what was written.
func checkValues(t *testing.T, w c3dtest.File, f *c3d.File) {
	t.Helper()
	if f.PointFrames != w.Frames || len(f.Points) != len(w.Points) || len(f.Analog) != len(w.Analog) {
		t.Fatalf("%d frames, %d points, %d channels; wrote %d, %d, %d", f.PointFrames, len(f.Points), len(f.Analog), w.Frames, len(w.Points), len(w.Analog))
	}
	f32 := func(v float64) float64 { return float64(float32(v)) }
	gen := f32(w.GenScale)
	for c, ch := range w.Analog {
		got := f.Analog[c]
		if got.Label != ch.Label || got.Unit != ch.Unit {
			t.Fatalf("channel %d is %q in %q, wrote %q in %q", c, got.Label, got.Unit, ch.Label, ch.Unit)
		}
		for i, raw := range ch.Raw {
			want := (raw - float64(ch.Offset)) * f32(ch.Scale) * gen
			if d := math.Abs(got.Samples[i] - want); d > 1e-12*math.Max(1, math.Abs(want)) {
				t.Fatalf("channel %s sample %d is %v, want %v", ch.Label, i, got.Samples[i], want)
			}
		}
	}
	scale := f32(w.PointScale)
	for p, pt := range w.Points {
		got := f.Points[p]
		if got.Label != pt.Label {
			t.Fatalf("point %d is %q, wrote %q", p, got.Label, pt.Label)
		}
		for fr, xyz := range pt.XYZ {
			if pt.Residual[fr] < 0 {
				if got.Residual[fr] != -1 {
					t.Fatalf("point %s frame %d: residual %v, want -1 (invalid)", pt.Label, fr, got.Residual[fr])
				}
				continue
			}
			for k := range 3 {
				want := f32(xyz[k])
				if !w.Float {
					want = math.Round(xyz[k]/w.PointScale) * scale
				}
				if math.Abs(got.XYZ[fr][k]-want) > 1e-9 {
					t.Fatalf("point %s frame %d coordinate %d is %v, want %v", pt.Label, fr, k, got.XYZ[fr][k], want)
				}
			}
			if want := math.Round(pt.Residual[fr]/w.PointScale) * scale; math.Abs(got.Residual[fr]-want) > 1e-9 {
				t.Fatalf("point %s frame %d residual %v, want %v", pt.Label, fr, got.Residual[fr], want)
			}
			if got.Cameras[fr] != pt.Cameras[fr] {
				t.Fatalf("point %s frame %d cameras %v, want %v", pt.Label, fr, got.Cameras[fr], pt.Cameras[fr])
			}
		}
	}
}

func TestRoundTripEveryProcessorAndStorage(t *testing.T) {
	for _, proc := range []c3d.Processor{c3d.Intel, c3d.DEC, c3d.MIPS} {
		for _, float := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/float=%v", proc, float), func(t *testing.T) {
				w := recording(proc, float, 40, 3, 4, 5)
				w.Events = []c3dtest.Event{{Context: "Left", Label: "Foot Strike", Time: 0.125}, {Context: "Right", Label: "Foot Off", Time: 61.5}}
				f := roundTrip(t, w)
				if f.Processor != proc || f.FloatStorage != float {
					t.Errorf("processor %v float %v", f.Processor, f.FloatStorage)
				}
				if f.PointRate != 120 || f.AnalogRate != 360 || f.AnalogSamplesPerFrame != 3 || f.FirstFrame != 7 {
					t.Errorf("rates %v/%v, %d per frame, first %d", f.PointRate, f.AnalogRate, f.AnalogSamplesPerFrame, f.FirstFrame)
				}
				checkValues(t, w, f)
				if len(f.Events) != 2 || f.Events[1].Label != "Foot Off" || f.Events[1].Context != "Right" || math.Abs(f.Events[1].Time-61.5) > 1e-6 {
					t.Errorf("events %+v", f.Events)
				}
				if len(f.Warnings) != 0 {
					t.Errorf("warnings %q", f.Warnings)
				}
			})
		}
	}
}

func TestRoundTripMoreThan255Channels(t *testing.T) {
	w := recording(c3d.Intel, false, 3, 2, 0, 300)
	w.Analog[299].Unit = "µV"
	f := roundTrip(t, w)
	checkValues(t, w, f)
	if f.Param("ANALOG", "LABELS2") == nil || f.Param("ANALOG", "SCALE2") == nil || f.Param("ANALOG", "OFFSET2") == nil || f.Param("ANALOG", "UNITS2") == nil {
		t.Error("the writer did not continue into LABELS2, SCALE2, OFFSET2, UNITS2")
	}
	if got := f.Analog[299]; got.Label != "EMG300" || got.Unit != "µV" {
		t.Errorf("last channel %q in %q", got.Label, got.Unit)
	}
}

func TestRoundTripMoreThan65535Frames(t *testing.T) {
	const frames = 70_000
	tests := []struct {
		name   string
		mutate func(*c3dtest.File)
	}{
		{"TRIAL fields", func(*c3dtest.File) {}},
		{"POINT:FRAMES as float", func(w *c3dtest.File) { w.OmitTrial = true }},
		{"POINT:LONG_FRAMES", func(w *c3dtest.File) {
			w.OmitTrial = true
			w.Params = []c3dtest.Param{{Group: "POINT", Name: "LONG_FRAMES", Value: []float32{frames}}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := recording(c3d.Intel, false, frames, 1, 0, 1)
			w.FirstFrame = 1
			tt.mutate(&w)
			f := roundTrip(t, w)
			if f.Header.LastFrame != 0xffff {
				t.Errorf("header last frame %d; the 16-bit field should saturate", f.Header.LastFrame)
			}
			checkValues(t, w, f)
		})
	}
}

func TestRoundTripUnsigned(t *testing.T) {
	w := recording(c3d.MIPS, false, 10, 2, 0, 2)
	w.Unsigned = true
	for c := range w.Analog {
		w.Analog[c].Offset = 2048
		for i := range w.Analog[c].Raw {
			w.Analog[c].Raw[i] = float64(40000 + i*100) // beyond int16
		}
	}
	w.Analog[1].Offset = 40000 // an offset beyond int16 too
	checkValues(t, w, roundTrip(t, w))
}

func TestLatin1Labels(t *testing.T) {
	w := recording(c3d.Intel, true, 2, 1, 1, 1)
	w.Points[0].Label = "Knee°"
	w.Analog[0].Unit = "µV"
	raw, err := c3dtest.Bytes(w)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("Knee\xb0")) || !bytes.Contains(raw, []byte("\xb5V")) {
		t.Fatal("the file does not hold Latin-1 bytes")
	}
	f, err := c3d.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if f.Points[0].Label != "Knee°" || f.Analog[0].Unit != "µV" {
		t.Errorf("%q, %q", f.Points[0].Label, f.Analog[0].Unit)
	}
}

// TestReconcile covers files whose parts disagree: each still reads, with
// a warning that says what was chosen.
func TestReconcile(t *testing.T) {
	base := recording(c3d.Intel, false, 20, 4, 2, 3)
	tests := []struct {
		name    string
		mutate  func(*c3dtest.File)
		edit    func([]byte) []byte
		editT   func(*testing.T, []byte) []byte
		check   func(*testing.T, *c3d.File)
		warning string
	}{
		{
			name: "header counts fewer points than POINT:USED",
			edit: func(b []byte) []byte { b[2] = 1; return b },
			check: func(t *testing.T, f *c3d.File) {
				if len(f.Points) != 2 {
					t.Errorf("%d points", len(f.Points))
				}
			},
			warning: "the parameters are used",
		},
		{
			name: "file claims more frames than it holds",
			edit: func(b []byte) []byte { return b[:len(b)-512] },
			check: func(t *testing.T, f *c3d.File) {
				if f.PointFrames >= 20 || f.PointFrames == 0 {
					t.Errorf("%d frames", f.PointFrames)
				}
				for _, c := range f.Analog {
					if len(c.Samples) != f.PointFrames*4 {
						t.Errorf("%d samples for %d frames", len(c.Samples), f.PointFrames)
					}
				}
			},
			warning: "20 frames are claimed (the header 20, TRIAL:ACTUAL_START_FIELD/ACTUAL_END_FIELD 20, POINT:FRAMES 20) but the data section holds",
		},
		{
			name: "POINT:FRAMES claims more than the data holds",
			editT: func(t *testing.T, b []byte) []byte {
				binary.LittleEndian.PutUint16(b[paramValue(t, b, "POINT", "FRAMES"):], 30000)
				return b
			},
			check: func(t *testing.T, f *c3d.File) {
				if f.PointFrames != 20 {
					t.Errorf("%d frames", f.PointFrames)
				}
			},
			warning: "POINT:FRAMES 30000); 20, the largest the data section holds, are read",
		},
		{
			name: "TRIAL fields count fewer frames than the header",
			editT: func(t *testing.T, b []byte) []byte {
				f, err := c3d.Read(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				p := f.Param("TRIAL", "ACTUAL_END_FIELD")
				i := bytes.Index(b, []byte("ACTUAL_END_FIELD"))
				// name, offset, type, 1 dimension, then the low word.
				binary.LittleEndian.PutUint16(b[i+len(p.Name)+2+2+1:], 7+9)
				return b
			},
			check: func(t *testing.T, f *c3d.File) {
				if f.PointFrames != 20 || f.FirstFrame != 7 {
					t.Errorf("%d frames from %d", f.PointFrames, f.FirstFrame)
				}
			},
			warning: "TRIAL:ACTUAL_START_FIELD/ACTUAL_END_FIELD 10",
		},
		{
			name:   "ANALOG:RATE not a multiple of POINT:RATE",
			mutate: func(w *c3dtest.File) { w.AnalogRate = 500 },
			check: func(t *testing.T, f *c3d.File) {
				if f.AnalogSamplesPerFrame != 4 || f.AnalogRate != 480 {
					t.Errorf("%d per frame at %v Hz", f.AnalogSamplesPerFrame, f.AnalogRate)
				}
			},
			warning: "not a whole multiple",
		},
		{
			name: "ANALOG:RATE missing",
			mutate: func(w *c3dtest.File) {
				w.AnalogRate = -1 // written, then renamed below
			},
			edit: func(b []byte) []byte { return bytes.Replace(b, []byte("RATE"), []byte("RATX"), 2) },
			check: func(t *testing.T, f *c3d.File) {
				if f.AnalogSamplesPerFrame != 4 || f.AnalogRate != 480 || f.PointRate != 120 {
					t.Errorf("%d per frame at %v/%v Hz", f.AnalogSamplesPerFrame, f.PointRate, f.AnalogRate)
				}
			},
		},
		{
			name: "POINT:USED claims more points than fit",
			edit: func(b []byte) []byte {
				i := bytes.Index(b, []byte("USED"))
				b[i+4+2+2] = 200 // the value of POINT:USED, after offset, type and dims
				return b
			},
			check: func(t *testing.T, f *c3d.File) {
				if len(f.Points) != 2 {
					t.Errorf("%d points", len(f.Points))
				}
			},
			warning: "only the header's fit",
		},
		{
			name: "duplicate parameter",
			mutate: func(w *c3dtest.File) {
				w.Params = []c3dtest.Param{{Group: "ANALOG", Name: "GEN_SCALE", Value: []float32{99}}}
			},
			check: func(t *testing.T, f *c3d.File) {
				if len(f.Group("ANALOG").Params) < 2 || f.Analog[0].Scale != float64(float32(0.01))*0.25 {
					t.Errorf("first GEN_SCALE not used: scale %v", f.Analog[0].Scale)
				}
			},
			warning: "defined twice",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := base
			w.Params = nil
			if tt.mutate != nil {
				tt.mutate(&w)
			}
			raw, err := c3dtest.Bytes(w)
			if err != nil {
				t.Fatal(err)
			}
			if tt.edit != nil {
				raw = tt.edit(raw)
			}
			if tt.editT != nil {
				raw = tt.editT(t, raw)
			}
			f, err := c3d.Read(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, f)
			if tt.warning != "" && !strings.Contains(strings.Join(f.Warnings, "\n"), tt.warning) {
				t.Errorf("warnings %q lack %q", f.Warnings, tt.warning)
			}
		})
	}
}
