package c3d_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/emgcache/emgcache/emg/c3d"
	"github.com/emgcache/emgcache/emg/c3d/c3dtest"
)

// describe prints everything Read returns, so two files compare as text
// (NaN equals NaN there, as it must for files that hold NaNs).
func describe(f *c3d.File) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%+v\n%v %v %v %v %v %v %v %v %q\n", f.Header, f.Processor, f.PointRate, f.AnalogRate,
		f.AnalogSamplesPerFrame, f.PointFrames, f.FirstFrame, f.FloatStorage, f.PointScale, f.PointUnit)
	fmt.Fprintf(&sb, "%+v\n%+v\n%+v\n%q\n", f.Points, f.Analog, f.Events, f.Warnings)
	for _, g := range f.Groups {
		fmt.Fprintf(&sb, "%d %q %q %v\n", g.ID, g.Name, g.Description, g.Locked)
		for _, p := range g.Params {
			fmt.Fprintf(&sb, "  %q %q %q %v %v %v %v %q\n", p.Group, p.Name, p.Description, p.Type, p.Dims, p.Locked, p.Float64s(), p.Strings())
		}
	}
	return sb.String()
}

// sameAsDecode requires Read of a reader that reports its length (which
// streams the data section) to return what Decode returns for the whole
// file: the same File, or the same error.
func sameAsDecode(t testing.TB, raw []byte) {
	t.Helper()
	want, werr := c3d.Decode(raw)
	got, gerr := c3d.Read(bytes.NewReader(raw))
	if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Fatalf("Read: %v; Decode: %v", gerr, werr)
	}
	if werr == nil {
		if g, w := describe(got), describe(want); g != w {
			t.Fatalf("Read and Decode differ:\n%s\n%s", g, w)
		}
	}
}

// TestStreamedReadIsDecode covers the layouts the stream must get right:
// data sections that start inside the bytes read before them (an overlap,
// or POINT:DATA_START before the header's block), after them, or past the
// end; frames cut by the end of the prefix; and the real samples.
func TestStreamedReadIsDecode(t *testing.T) {
	cases := map[string][]byte{}
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.c3d"))
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		cases[filepath.Base(p)] = raw
	}
	big := mustBytes(t, recording(c3d.Intel, true, 3000, 4, 3, 5))
	cases["written"] = big
	for _, block := range []uint16{1, 2, 3, 5, 6, 9, 0xffff} {
		raw := bytes.Clone(big)
		binary.LittleEndian.PutUint16(raw[16:], block) // the header's data block
		cases[fmt.Sprintf("header data block %d", block)] = raw
	}
	for _, block := range []int16{2, 4, 7, 1000} {
		raw := bytes.Clone(big)
		binary.LittleEndian.PutUint16(raw[paramValue(t, raw, "POINT", "DATA_START"):], uint16(block))
		binary.LittleEndian.PutUint16(raw[16:], 0)
		cases[fmt.Sprintf("POINT:DATA_START %d, header 0", block)] = raw
	}
	for _, cut := range []int{600, 2000, 3000, len(big) / 2, len(big) - 7} {
		cases[fmt.Sprintf("cut at %d", cut)] = big[:cut]
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) { sameAsDecode(t, raw) })
	}
}

// TestReadOfAnyReader reads the same files through readers that report no
// length, one byte at a time, and from an *os.File.
func TestReadOfAnyReader(t *testing.T) {
	raw := mustBytes(t, recording(c3d.MIPS, false, 500, 3, 2, 4))
	want, err := c3d.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "f.c3d")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for name, r := range map[string]io.Reader{
		"one byte at a time": iotest.OneByteReader(bytes.NewReader(raw)),
		"half reads":         iotest.HalfReader(bytes.NewReader(raw)),
		// These stream, with frames cut between reads.
		"one byte at a time, with its length": sized{iotest.OneByteReader(bytes.NewReader(raw)), len(raw)},
		"odd reads, with its length":          sized{iotest.HalfReader(iotest.DataErrReader(bytes.NewReader(raw))), len(raw)},
		"os.File":                             file,
		"bytes.Buffer":                        bytes.NewBuffer(bytes.Clone(raw)),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := c3d.Read(r)
			if err != nil {
				t.Fatal(err)
			}
			if describe(got) != describe(want) {
				t.Fatal("differs from Decode")
			}
		})
	}
}

// sized is a reader that reports its length but has no WriteTo method.
type sized struct {
	io.Reader
	n int
}

func (s sized) Len() int { return s.n }

// lyingReader reports more bytes than it holds.
type lyingReader struct {
	*bytes.Reader
	extra int
}

func (r lyingReader) Len() int { return r.Reader.Len() + r.extra }

// TestReaderThatEndsEarly reads cut files through readers that report
// the whole length: an error of the reader, as the frames the length
// promised do not arrive.
func TestReaderThatEndsEarly(t *testing.T) {
	raw := mustBytes(t, recording(c3d.Intel, true, 2000, 2, 1, 3))
	for _, cut := range []int{len(raw) - 600, len(raw) / 2, 4000} {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			_, err := c3d.Read(lyingReader{bytes.NewReader(raw[:cut]), len(raw) - cut})
			if !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, c3d.ErrMalformed) {
				t.Fatalf("Read = %v, want io.ErrUnexpectedEOF", err)
			}
		})
	}
}

// failAfter fails once n bytes have been read.
type failAfter struct {
	r *bytes.Reader
	n int
}

var errDisk = errors.New("disk on fire")

func (f *failAfter) Len() int { return f.r.Len() }
func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errDisk
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

func TestReaderErrorWhileStreaming(t *testing.T) {
	raw := mustBytes(t, recording(c3d.Intel, true, 2000, 2, 1, 3))
	for _, at := range []int{0, 100, 1500, len(raw) / 2, len(raw) - 1} {
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			_, err := c3d.Read(&failAfter{bytes.NewReader(raw), at})
			if !errors.Is(err, errDisk) || errors.Is(err, c3d.ErrMalformed) {
				t.Fatalf("Read = %v, want the reader's error", err)
			}
		})
	}
}

func mustBytes(t testing.TB, w c3dtest.File) []byte {
	t.Helper()
	raw, err := c3dtest.Bytes(w)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
