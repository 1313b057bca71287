package c3d

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// sizer is what bytes.Reader, strings.Reader and bytes.Buffer report: the
// bytes left to read.
type sizer interface{ Len() int }

// errPrefix says the bytes read so far do not settle the parameters, so
// Read decodes the whole file instead.
var errPrefix = errors.New("c3d: parameters past the bytes read")

// Read decodes a whole C3D file from r.
//
// When r reports how many bytes it holds (a Len method, as bytes.Reader,
// strings.Reader and bytes.Buffer have, or a regular *os.File), Read reads
// the header and the parameters, then streams the data section through a
// small buffer straight into the series, which it allocates once from that
// length; a reader that then ends early is an error wrapping
// io.ErrUnexpectedEOF. Any other reader is read to its end first.
//
// Errors about the file's content wrap [ErrMalformed]; an error of r is
// returned wrapped as it is. Read never panics and, whatever the file
// claims, allocates in proportion to the bytes r holds. It reads r to its
// end and does not retain it.
func Read(r io.Reader) (*File, error) {
	size, ok := sizeOf(r)
	if !ok {
		return readAll(r, nil)
	}
	// The header, then the parameter section's preamble: where the
	// parameters are, how many blocks they take, the processor type.
	b, err := fill(r, nil, BlockSize, size)
	if err != nil || b[1] != headerKey || b[0] < 2 {
		return readAll(r, b)
	}
	pOff := (int(b[0]) - 1) * BlockSize
	if b, err = fill(r, b, pOff+4, size); err != nil {
		return readAll(r, b)
	}
	p := Processor(b[pOff+3])
	paramEnd := pOff + int(b[pOff+2])*BlockSize
	if !p.Valid() || b[pOff+2] == 0 || paramEnd > size {
		return readAll(r, b)
	}
	// Everything before the data section as the header places it, so
	// that a file whose data section starts elsewhere is still read
	// right: the stream then starts within these bytes, or skips on.
	end := paramEnd
	if db := int(newCodec(p).u16(b[16:])); db >= 1 && (db-1)*BlockSize <= size {
		end = max(end, (db-1)*BlockSize)
	}
	if b, err = fill(r, b, end, size); err != nil {
		return readAll(r, b)
	}
	d := &decoder{b: b, size: size, r: r, f: &File{}}
	if err := d.decode(); err != nil {
		if errors.Is(err, ErrMalformed) || errors.Is(err, errPrefix) {
			// The exact verdict, and message, of the whole file.
			return readAll(r, b)
		}
		return nil, err
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, fmt.Errorf("c3d: read: %w", err)
	}
	return d.f, nil
}

// sizeOf returns the bytes r holds, when it can tell.
func sizeOf(r io.Reader) (int, bool) {
	switch r := r.(type) {
	case sizer:
		return r.Len(), true
	case *os.File:
		st, err := r.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return 0, false
		}
		at, err := r.Seek(0, io.SeekCurrent)
		if err != nil || at > st.Size() || st.Size()-at > int64(int(^uint(0)>>1)) {
			return 0, false
		}
		return int(st.Size() - at), true
	}
	return 0, false
}

// readAll appends what is left of r to b, the bytes read so far, and
// decodes the whole.
func readAll(r io.Reader, b []byte) (*File, error) {
	rest, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("c3d: read: %w", err)
	}
	if len(b) == 0 {
		b = rest
	} else {
		b = append(b, rest...)
	}
	return Decode(b)
}

// errShort is a reader that ended before n bytes.
var errShort = errors.New("c3d: short read")

// fill reads from r until b holds n bytes, growing b only as bytes
// arrive, and never past size (what r said it holds). It returns
// errShort when r ends first or n > size.
func fill(r io.Reader, b []byte, n, size int) ([]byte, error) {
	if n > size {
		return b, errShort
	}
	for len(b) < n {
		if len(b) == cap(b) {
			b = append(b, make([]byte, min(n-len(b), max(len(b), 4<<10)))...)[:len(b)]
		}
		m, err := r.Read(b[len(b):min(n, cap(b))])
		b = b[:len(b)+m]
		if errors.Is(err, io.EOF) && len(b) < n {
			return b, errShort
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return b, err
		}
	}
	return b, nil
}

// streamFrames decodes n frames starting at byte off of the file from
// what d.b holds past off and then from d.r, which it reads to its end.
// It copies d.r into a frameWriter, so a reader with a WriteTo method
// (bytes.Reader, bytes.Buffer) hands over its bytes in place, and any
// other is read through io.Copy's buffer.
func (d *decoder) streamFrames(fd *frameDecoder, off, n int) error {
	w := &frameWriter{fd: fd, n: n, step: fd.chunkFrames(), read: int64(len(d.b))}
	if off < len(d.b) {
		_, _ = w.Write(d.b[off:])
		w.read = int64(len(d.b))
	} else {
		w.skip = off - len(d.b)
	}
	if _, err := io.Copy(w, d.r); err != nil {
		return d.short(w.read, err)
	}
	if w.next < n {
		return d.short(w.read, io.EOF)
	}
	return nil
}

// frameWriter decodes the frames written to it, in order, and discards
// what follows them. It does not retain what it is given.
type frameWriter struct {
	fd      *frameDecoder
	n, step int
	skip    int    // bytes before the first frame still to come
	next    int    // the next frame to decode
	carry   []byte // the start of a frame cut between writes
	read    int64  // bytes of the file seen
}

func (w *frameWriter) Write(p []byte) (int, error) {
	written := len(p)
	w.read += int64(written)
	fb := w.fd.fb
	if w.skip > 0 {
		k := min(w.skip, len(p))
		p, w.skip = p[k:], w.skip-k
	}
	for len(p) > 0 && w.next < w.n {
		if len(w.carry) > 0 || len(p) < fb {
			if w.carry == nil {
				w.carry = make([]byte, 0, fb)
			}
			k := min(fb-len(w.carry), len(p))
			w.carry, p = append(w.carry, p[:k]...), p[k:]
			if len(w.carry) == fb {
				w.fd.decode(w.carry, w.next)
				w.next, w.carry = w.next+1, w.carry[:0]
			}
			continue
		}
		m := min(len(p)/fb, w.n-w.next)
		for i := 0; i < m; i += w.step {
			k := min(w.step, m-i)
			w.fd.decode(p[i*fb:(i+k)*fb], w.next+i)
		}
		w.next, p = w.next+m, p[m*fb:]
	}
	return written, nil
}

// short is the error of a reader that ended, or failed, at byte at of a
// file it said was d.size bytes long.
func (d *decoder) short(at int64, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("c3d: read: the reader ended at byte %d of the %d it reported: %w", at, d.size, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("c3d: read: %w", err)
}
