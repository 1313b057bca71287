package c3d_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/emgcache/emgcache/emg/c3d"
	"github.com/emgcache/emgcache/emg/c3d/c3dtest"
)

// TestDataValueByValue decodes every value of the data section again, one
// at a time from the file's bytes with encoding/binary, and requires Read's
// series to hold exactly those values, bit for bit. The files cover every
// processor, storage and format, with and without points, one and several
// samples per frame, and enough frames to span several of Read's chunks.
func TestDataValueByValue(t *testing.T) {
	files := map[string][]byte{}
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.c3d"))
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = raw
	}
	for _, proc := range []c3d.Processor{c3d.Intel, c3d.DEC, c3d.MIPS} {
		for _, float := range []bool{false, true} {
			for _, shape := range []struct{ frames, spf, points, channels int }{{700, 1, 0, 3}, {300, 10, 0, 16}, {500, 3, 5, 7}, {2000, 1, 2, 1}, {90, 1, 40, 0}} {
				w := recording(proc, float, shape.frames, shape.spf, shape.points, shape.channels)
				w.Unsigned = !float && shape.points == 0
				if w.Unsigned {
					for c := range w.Analog {
						for i := range w.Analog[c].Raw {
							w.Analog[c].Raw[i] += 1000
						}
					}
				}
				raw, err := c3dtest.Bytes(w)
				if err != nil {
					t.Fatal(err)
				}
				files[fmt.Sprintf("%v float=%v %+v", proc, float, shape)] = raw
			}
		}
	}
	for name, raw := range files {
		t.Run(name, func(t *testing.T) {
			f, err := c3d.Read(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			checkEveryValue(t, raw, f)
		})
	}
}

// checkEveryValue compares f's series with raw's data section decoded
// value by value.
func checkEveryValue(t *testing.T, raw []byte, f *c3d.File) {
	t.Helper()
	var order binary.ByteOrder = binary.LittleEndian
	if f.Processor == c3d.MIPS {
		order = binary.BigEndian
	}
	w := 2
	if f.FloatStorage {
		w = 4
	}
	unsigned := f.Param("ANALOG", "FORMAT").Text() == "UNSIGNED"
	value := func(at int, unsigned bool) float64 {
		b := raw[at : at+w]
		switch {
		case !f.FloatStorage && unsigned:
			return float64(order.Uint16(b))
		case !f.FloatStorage:
			return float64(int16(order.Uint16(b)))
		case f.Processor == c3d.DEC:
			// VAX F: the high word first, then 0.1fff… × 2^(e−128).
			bits := uint32(binary.LittleEndian.Uint16(b))<<16 | uint32(binary.LittleEndian.Uint16(b[2:]))
			e, frac := int(bits>>23&0xff), float64(bits&0x7fffff)
			if e == 0 {
				if bits>>31 != 0 {
					return math.NaN()
				}
				return 0
			}
			v := math.Ldexp(0.5+frac/(1<<24), e-128)
			if bits>>31 != 0 {
				v = -v
			}
			return v
		}
		return float64(math.Float32frombits(order.Uint32(b)))
	}
	same := func(a, b float64) bool { return a == b && math.Signbit(a) == math.Signbit(b) || a != a && b != b }

	nch, spf := len(f.Analog), f.AnalogSamplesPerFrame
	fb := w * (4*len(f.Points) + nch*spf)
	start := (f.Header.DataBlock - 1) * c3d.BlockSize
	ptScale := f.PointScale
	if f.FloatStorage {
		ptScale = 1
	}
	for fr := range f.PointFrames {
		at := start + fr*fb
		for i, p := range f.Points {
			for k := range 3 {
				if want := value(at+w*(4*i+k), false) * ptScale; !same(p.XYZ[fr][k], want) {
					t.Fatalf("frame %d point %d coordinate %d is %v, want %v", fr, i, k, p.XYZ[fr][k], want)
				}
			}
			word := value(at+w*(4*i+3), false)
			wantRes, wantCams := -1.0, uint8(0)
			if word >= 0 {
				n := int(min(word, 0x7fff))
				wantRes, wantCams = float64(n&0xff)*math.Abs(f.PointScale), uint8(n>>8&0x7f)
			}
			if !same(p.Residual[fr], wantRes) || p.Cameras[fr] != wantCams {
				t.Fatalf("frame %d point %d: residual %v cameras %d, want %v and %d", fr, i, p.Residual[fr], p.Cameras[fr], wantRes, wantCams)
			}
		}
		at += w * 4 * len(f.Points)
		for s := range spf {
			for c, ch := range f.Analog {
				want := (value(at+w*(s*nch+c), unsigned) - ch.Offset) * ch.Scale
				if got := ch.Samples[fr*spf+s]; !same(got, want) {
					t.Fatalf("frame %d sample %d of channel %d is %v, want %v", fr, s, c, got, want)
				}
			}
		}
	}
}
