package c3d

import (
	"encoding/binary"
	"math"
	"strings"
)

// chunkBytes is how much of the data section is decoded at a time: each
// channel takes its own pass over a chunk, so a chunk should stay in the
// processor's cache between passes.
const chunkBytes = 32 << 10

// frameDecoder decodes whole frames into the File's series. The data
// section interleaves values (every point, then every channel's samples,
// sample by sample, in each frame), while each series is contiguous, so it
// decodes a chunk of frames one series at a time: the writes run straight
// along the series, the reads stride through the chunk in cache, and the
// format, scale and offset are fixed for the whole inner loop.
type frameDecoder struct {
	f       *File
	l       layout
	fb      int    // bytes per frame
	w       int    // bytes per value
	analog  kernel // for channels: unsigned when ANALOG:FORMAT says so
	point   kernel // for points: signed
	ptScale float64
	rows    []float64 // a point's values in a chunk, 4 per frame
}

// newFrameDecoder allocates the File's series for n frames of layout l.
func (d *decoder) newFrameDecoder(l layout, n int) *frameDecoder {
	f := d.f
	spf := l.perFrame
	if len(f.Points) > 0 {
		xyz, res, cams := make([][3]float64, n*len(f.Points)), make([]float64, n*len(f.Points)), make([]uint8, n*len(f.Points))
		for i := range f.Points {
			p, lo, hi := &f.Points[i], i*n, (i+1)*n
			p.XYZ, p.Residual, p.Cameras = xyz[lo:hi:hi], res[lo:hi:hi], cams[lo:hi:hi]
		}
	}
	if len(f.Analog) > 0 {
		// One allocation for every channel: small files pay for few
		// allocations, and large ones zero the memory in one pass.
		all := make([]float64, n*spf*len(f.Analog))
		for i := range f.Analog {
			lo, hi := i*n*spf, (i+1)*n*spf
			f.Analog[i].Samples = all[lo:hi:hi]
		}
	}
	fd := &frameDecoder{f: f, l: l, w: 2, ptScale: f.PointScale}
	if f.FloatStorage {
		fd.w, fd.ptScale = 4, 1 // floating-point coordinates are stored scaled
	}
	fd.fb = fd.w * (4*l.points + l.channels*l.perFrame)
	unsigned := strings.EqualFold(f.Param("ANALOG", "FORMAT").Text(), "UNSIGNED")
	fd.analog, fd.point = kernelFor(f.Processor, f.FloatStorage, unsigned), kernelFor(f.Processor, f.FloatStorage, false)
	return fd
}

// chunkFrames is how many frames a chunk holds: at least one.
func (fd *frameDecoder) chunkFrames() int { return max(1, chunkBytes/max(fd.fb, 1)) }

// decodeFrames decodes n frames of layout l starting at off; the caller
// has checked that they lie within the file.
func (d *decoder) decodeFrames(off int, l layout, n int) error {
	fd := d.newFrameDecoder(l, n)
	if n == 0 || fd.fb == 0 {
		return nil // frames without points or channels hold no bytes
	}
	if d.r != nil {
		return d.streamFrames(fd, off, n)
	}
	step := fd.chunkFrames()
	for first := 0; first < n; first += step {
		k := min(step, n-first)
		fd.decode(d.b[off+first*fd.fb:off+(first+k)*fd.fb], first)
	}
	return nil
}

// decode decodes the whole frames in src, the first of which is frame
// number first (from 0) of the series.
func (fd *frameDecoder) decode(src []byte, first int) {
	f, l, w, fb := fd.f, fd.l, fd.w, fd.fb
	frames := len(src) / fb
	if l.points > 0 {
		// A point's four values of every frame of the chunk, then
		// spread: the buffer stays in the first-level cache.
		if cap(fd.rows) < 4*frames {
			fd.rows = make([]float64, 4*frames)
		}
		rows := fd.rows[:4*frames]
		resScale := math.Abs(f.PointScale)
		for i := range f.Points {
			p := &f.Points[i]
			fd.point(rows, src[4*w*i:], frames, fb, 4, w, 0, 1)
			xyz, res, cams := p.XYZ[first:first+frames], p.Residual[first:first+frames], p.Cameras[first:first+frames]
			for fr := range xyz {
				v := rows[4*fr : 4*fr+4 : 4*fr+4]
				xyz[fr] = [3]float64{v[0] * fd.ptScale, v[1] * fd.ptScale, v[2] * fd.ptScale}
				// The fourth word packs the camera mask (bits 8–14) and
				// the residual (bits 0–7, in units of |POINT:SCALE|);
				// a negative word marks an invalid point.
				if !(v[3] >= 0) {
					res[fr] = -1
					continue
				}
				word := int(min(v[3], 0x7fff))
				res[fr] = float64(word&0xff) * resScale
				cams[fr] = uint8(word >> 8 & 0x7f)
			}
		}
	}
	if l.channels > 0 {
		spf, stride := l.perFrame, w*l.channels
		n, per := frames, spf
		if l.points == 0 {
			n, per = 1, frames*spf // the samples of a channel are evenly spaced throughout
		}
		for c := range f.Analog {
			ch := &f.Analog[c]
			dst := ch.Samples[first*spf : (first+frames)*spf]
			fd.analog(dst, src[w*(4*l.points+c):], n, fb, per, stride, ch.Offset, ch.Scale)
		}
	}
}

// A kernel decodes values of one format: frames × perFrame of them into
// dst, as (raw − off) × k, where frame i's values start at src[i×fb] and
// lie stride bytes apart. Each format has its own loop so the byte order
// and number format are decided once per call, not once per value.
type kernel func(dst []float64, src []byte, frames, fb, perFrame, stride int, off, k float64)

func kernelFor(p Processor, float, unsigned bool) kernel {
	switch {
	case float && p == MIPS:
		return f32BE
	case float && p == DEC:
		return vaxF
	case float:
		return f32LE
	case p == MIPS && unsigned:
		return u16BE
	case p == MIPS:
		return i16BE
	case unsigned:
		return u16LE
	}
	return i16LE
}

func f32LE(dst []float64, src []byte, frames, fb, perFrame, stride int, off, k float64) {
	for i := range frames {
		row, p := dst[i*perFrame:(i+1)*perFrame], i*fb
		for s := range row {
			row[s] = (float64(math.Float32frombits(binary.LittleEndian.Uint32(src[p:]))) - off) * k
			p += stride
		}
	}
}

func f32BE(dst []float64, src []byte, frames, fb, perFrame, stride int, off, k float64) {
	for i := range frames {
		row, p := dst[i*perFrame:(i+1)*perFrame], i*fb
		for s := range row {
			row[s] = (float64(math.Float32frombits(binary.BigEndian.Uint32(src[p:]))) - off) * k
			p += stride
		}
	}
}

func vaxF(dst []float64, src []byte, frames, fb, perFrame, stride int, off, k float64) {
	for i := range frames {
		row, p := dst[i*perFrame:(i+1)*perFrame], i*fb
		for s := range row {
			row[s] = (decFloat(binary.LittleEndian.Uint16(src[p:]), binary.LittleEndian.Uint16(src[p+2:])) - off) * k
			p += stride
		}
	}
}

func i16LE(dst []float64, src []byte, frames, fb, perFrame, stride int, off, k float64) {
	for i := range frames {
		row, p := dst[i*perFrame:(i+1)*perFrame], i*fb
		for s := range row {
			row[s] = (float64(int16(binary.LittleEndian.Uint16(src[p:]))) - off) * k
			p += stride
		}
	}
}

func u16LE(dst []float64, src []byte, frames, fb, perFrame, stride int, off, k float64) {
	for i := range frames {
		row, p := dst[i*perFrame:(i+1)*perFrame], i*fb
		for s := range row {
			row[s] = (float64(binary.LittleEndian.Uint16(src[p:])) - off) * k
			p += stride
		}
	}
}

func i16BE(dst []float64, src []byte, frames, fb, perFrame, stride int, off, k float64) {
	for i := range frames {
		row, p := dst[i*perFrame:(i+1)*perFrame], i*fb
		for s := range row {
			row[s] = (float64(int16(binary.BigEndian.Uint16(src[p:]))) - off) * k
			p += stride
		}
	}
}

func u16BE(dst []float64, src []byte, frames, fb, perFrame, stride int, off, k float64) {
	for i := range frames {
		row, p := dst[i*perFrame:(i+1)*perFrame], i*fb
		for s := range row {
			row[s] = (float64(binary.BigEndian.Uint16(src[p:])) - off) * k
			p += stride
		}
	}
}
