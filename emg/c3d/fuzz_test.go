package c3d_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/emgcache/emgcache/emg/c3d"
	"github.com/emgcache/emgcache/emg/c3d/c3dtest"
)

// FuzzRead feeds Read corrupted files, seeded with the real samples and
// with written files of every processor and storage. The samples are cut
// to their first 16 KiB (the header, the parameters and some frames; the
// rest claimed but missing): the fuzzer's cost grows with input size, and
// it minimizes every new input it finds. Read must not panic,
// must fail only with ErrMalformed, and what it returns must be
// consistent: every series as long as the frames read, and no more frames
// than the data section could hold. Read, which streams the data section
// of a reader that reports its length, must also agree with Decode of the
// whole file.
func FuzzRead(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.c3d"))
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw[:min(len(raw), 16<<10)])
	}
	for _, proc := range []c3d.Processor{c3d.Intel, c3d.DEC, c3d.MIPS} {
		for _, float := range []bool{false, true} {
			w := recording(proc, float, 4, 2, 2, 3)
			w.Unsigned = !float
			w.Events = []c3dtest.Event{{Label: "Foot Strike", Context: "Left", Time: 0.5}}
			raw, err := c3dtest.Bytes(w)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		sameAsDecode(t, raw)
		file, err := c3d.Read(bytes.NewReader(raw))
		if err != nil {
			if !errors.Is(err, c3d.ErrMalformed) {
				t.Fatalf("error not wrapping ErrMalformed: %v", err)
			}
			return
		}
		if file.PointFrames < 0 || (len(file.Points)+len(file.Analog) > 0 && file.PointFrames > len(raw)) {
			t.Fatalf("%d frames from %d bytes", file.PointFrames, len(raw))
		}
		for _, p := range file.Points {
			if len(p.XYZ) != file.PointFrames || len(p.Residual) != file.PointFrames || len(p.Cameras) != file.PointFrames {
				t.Fatalf("point %q: %d/%d/%d values for %d frames", p.Label, len(p.XYZ), len(p.Residual), len(p.Cameras), file.PointFrames)
			}
		}
		for _, c := range file.Analog {
			if len(c.Samples) != file.PointFrames*file.AnalogSamplesPerFrame {
				t.Fatalf("channel %q: %d samples for %d×%d", c.Label, len(c.Samples), file.PointFrames, file.AnalogSamplesPerFrame)
			}
		}
		for _, g := range file.Groups {
			for _, p := range g.Params {
				_, _, _, _ = p.Float64s(), p.Strings(), p.Uints(), p.Text()
			}
		}
	})
}
