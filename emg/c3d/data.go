package c3d

import (
	"encoding/binary"
	"math"
	"strings"
)

// decodeFrames decodes n frames of layout l starting at off; the caller
// has checked that they lie within the file.
func (d *decoder) decodeFrames(off int, l layout, n int) error {
	f := d.f
	npts, nch, spf := l.points, l.channels, l.perFrame
	for i := range f.Points {
		p := &f.Points[i]
		p.XYZ, p.Residual, p.Cameras = make([][3]float64, n), make([]float64, n), make([]uint8, n)
	}
	samples := make([][]float64, nch)
	scale, offset := make([]float64, nch), make([]float64, nch)
	for i := range f.Analog {
		c := &f.Analog[i]
		c.Samples = make([]float64, n*spf)
		samples[i], scale[i], offset[i] = c.Samples, c.Scale, c.Offset
	}
	if n == 0 || npts+nch == 0 {
		return nil // frames without points or channels hold no bytes
	}

	w := 2
	if f.FloatStorage {
		w = 4
	}
	pointVals, analogVals := 4*npts, nch*spf
	fb := w * (pointVals + analogVals)
	row := make([]float64, max(pointVals, analogVals))
	unsigned := strings.EqualFold(f.Param("ANALOG", "FORMAT").Text(), "UNSIGNED")
	ptScale, resScale := f.PointScale, math.Abs(f.PointScale)
	if f.FloatStorage {
		ptScale = 1 // floating-point coordinates are stored scaled
	}

	for fr := range n {
		src := d.b[off+fr*fb : off+(fr+1)*fb]
		if npts > 0 {
			vals := row[:pointVals]
			d.values(vals, src[:w*pointVals], false, f.FloatStorage)
			for i := range f.Points {
				p := &f.Points[i]
				v := vals[4*i : 4*i+4 : 4*i+4]
				p.XYZ[fr] = [3]float64{v[0] * ptScale, v[1] * ptScale, v[2] * ptScale}
				// The fourth word packs the camera mask (bits 8–14) and
				// the residual (bits 0–7, in units of |POINT:SCALE|);
				// a negative word marks an invalid point.
				if !(v[3] >= 0) {
					p.Residual[fr] = -1
					continue
				}
				word := int(min(v[3], 0x7fff))
				p.Residual[fr] = float64(word&0xff) * resScale
				p.Cameras[fr] = uint8(word >> 8 & 0x7f)
			}
		}
		if nch > 0 {
			vals := row[:analogVals]
			d.values(vals, src[w*pointVals:], unsigned, f.FloatStorage)
			// Channel by channel, so each write continues the
			// previous one; the strided reads stay within one row.
			base := fr * spf
			for c, dst := range samples {
				dst = dst[base : base+spf : base+spf]
				off, k := offset[c], scale[c]
				for s := range dst {
					dst[s] = (vals[s*nch+c] - off) * k
				}
			}
		}
	}
	return nil
}

// values decodes len(dst) numbers from src, which holds at least that many
// of the storage type. Each case is its own loop so that the byte order
// and number format are decided once per row, not once per value.
func (d *decoder) values(dst []float64, src []byte, unsigned, float bool) {
	if float {
		src = src[:4*len(dst)]
		switch d.f.Processor {
		case MIPS:
			for i := range dst {
				dst[i] = float64(math.Float32frombits(binary.BigEndian.Uint32(src[4*i:])))
			}
		case DEC:
			for i := range dst {
				dst[i] = decFloat(binary.LittleEndian.Uint16(src[4*i:]), binary.LittleEndian.Uint16(src[4*i+2:]))
			}
		default:
			for i := range dst {
				dst[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:])))
			}
		}
		return
	}
	src = src[:2*len(dst)]
	big := d.f.Processor == MIPS
	switch {
	case big && unsigned:
		for i := range dst {
			dst[i] = float64(binary.BigEndian.Uint16(src[2*i:]))
		}
	case big:
		for i := range dst {
			dst[i] = float64(int16(binary.BigEndian.Uint16(src[2*i:])))
		}
	case unsigned:
		for i := range dst {
			dst[i] = float64(binary.LittleEndian.Uint16(src[2*i:]))
		}
	default:
		for i := range dst {
			dst[i] = float64(int16(binary.LittleEndian.Uint16(src[2*i:])))
		}
	}
}
