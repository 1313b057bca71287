package c3d_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/emgcache/emgcache/emg/c3d"
	"github.com/emgcache/emgcache/emg/c3d/c3dtest"
)

// valid is a small correct file the hostile cases corrupt.
func valid(t testing.TB) []byte {
	t.Helper()
	raw, err := c3dtest.Bytes(recording(c3d.Intel, false, 10, 2, 2, 3))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// paramValue returns the offset of the value of parameter name (the first
// entry with that name), whose entry has no dimensions.
func paramValue(t testing.TB, raw []byte, group, name string) int {
	t.Helper()
	f, err := c3d.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	p := f.Param(group, name)
	if p == nil || len(p.Dims) != 0 {
		t.Fatalf("%s:%s is not a scalar", group, name)
	}
	i := bytes.Index(raw[512:], []byte(name))
	// name, 2-byte offset, type, 0 dims, then the value.
	for i >= 0 {
		at := 512 + i
		if (raw[at-2] == byte(len(name)) || raw[at-2] == byte(-int8(len(name)))) && int(raw[at-1]) == f.Group(group).ID {
			return at + len(name) + 4
		}
		next := bytes.Index(raw[at+1:], []byte(name))
		if next < 0 {
			break
		}
		i += 1 + next
	}
	t.Fatalf("%s:%s not found", group, name)
	return 0
}

func TestHostileFilesAreMalformed(t *testing.T) {
	tests := []struct {
		name string
		edit func(t *testing.T, b []byte) []byte
		want string // in the message
	}{
		{"empty", func(_ *testing.T, b []byte) []byte { return nil }, "shorter than the 512-byte header"},
		{"header only", func(_ *testing.T, b []byte) []byte { return b[:512] }, "past the end"},
		{"not C3D", func(_ *testing.T, b []byte) []byte { b[1] = 'x'; return b }, "not a C3D file"},
		{"parameter block in the header", func(_ *testing.T, b []byte) []byte { b[0] = 1; return b }, "inside the header"},
		{"parameter block past the end", func(_ *testing.T, b []byte) []byte { b[0] = 250; return b }, "past the end"},
		{"unknown processor", func(_ *testing.T, b []byte) []byte { b[512+3] = 99; return b }, "unknown processor type 99"},
		{"truncated in the parameters", func(_ *testing.T, b []byte) []byte { b[512+2] = 0; return b[:512+40] }, "truncated"},
		{"parameter type unknown", func(t *testing.T, b []byte) []byte {
			b[paramValue(t, b, "POINT", "USED")-2] = 3
			return b
		}, "unknown type 3"},
		{"parameter data past the end", func(t *testing.T, b []byte) []byte {
			at := paramValue(t, b, "POINT", "USED")
			b[at-1] = 7 // seven dimensions, read from the value's bytes on
			for i := range 7 {
				b[at+i] = 255
			}
			return b
		}, "more than the file's"},
		{"ANALOG:USED claims 65535 channels", func(t *testing.T, b []byte) []byte {
			at := paramValue(t, b, "ANALOG", "USED")
			binary.LittleEndian.PutUint16(b[at:], 0xffff)
			binary.LittleEndian.PutUint16(b[4:], 0xffff) // and the header agrees
			return b
		}, "65535 analog channels claimed in a 1536-byte file"},
		{"ANALOG:USED claims more channels than the data holds", func(t *testing.T, b []byte) []byte {
			at := paramValue(t, b, "ANALOG", "USED")
			binary.LittleEndian.PutUint16(b[at:], 700)
			binary.LittleEndian.PutUint16(b[4:], 1400)
			return b
		}, "less than one frame"},
		{"data section past the end", func(t *testing.T, b []byte) []byte {
			binary.LittleEndian.PutUint16(b[paramValue(t, b, "POINT", "DATA_START"):], 60000)
			binary.LittleEndian.PutUint16(b[16:], 60000)
			return b
		}, "past the end of the file"},
		{"link backwards", func(t *testing.T, b []byte) []byte {
			at := paramValue(t, b, "POINT", "USED")
			binary.LittleEndian.PutUint16(b[at-4:], 0xfff0)
			return b
		}, "links backwards"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.edit(t, valid(t))
			f, err := c3d.Read(bytes.NewReader(raw))
			if !errors.Is(err, c3d.ErrMalformed) {
				t.Fatalf("Read = %v, %v; want an error wrapping ErrMalformed", f, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

// TestTruncationNeverPanics cuts a real file at every 97th byte: each
// prefix reads or fails with ErrMalformed.
func TestTruncationNeverPanics(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "sample02_pc_int.c3d"))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(raw); n += 97 {
		f, err := c3d.Read(bytes.NewReader(raw[:n]))
		if err != nil && !errors.Is(err, c3d.ErrMalformed) {
			t.Fatalf("prefix %d: %v", n, err)
		}
		if err == nil && f.PointFrames > 89 {
			t.Fatalf("prefix %d: %d frames", n, f.PointFrames)
		}
	}
}

// TestClaimsDoNotAllocate: a 2.5 KB file claiming 65535 points and
// channels, frames and samples per frame allocates kilobytes, not what it
// claims.
func TestClaimsDoNotAllocate(t *testing.T) {
	raw := valid(t)
	binary.LittleEndian.PutUint16(raw[paramValue(t, raw, "POINT", "USED"):], 0xffff)
	binary.LittleEndian.PutUint16(raw[paramValue(t, raw, "ANALOG", "USED"):], 0xffff)
	raw = raw[:len(raw)-512] // no data left for the claims
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := c3d.Read(bytes.NewReader(raw))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, c3d.ErrMalformed) {
		t.Fatalf("Read: %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<10 {
		t.Errorf("allocated %d bytes for a %d-byte file", alloc, len(raw))
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestReaderErrorIsNotMalformed(t *testing.T) {
	_, err := c3d.Read(failingReader{})
	if !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, c3d.ErrMalformed) {
		t.Errorf("Read = %v", err)
	}
}
