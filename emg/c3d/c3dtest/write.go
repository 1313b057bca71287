package c3dtest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/emgcache/emgcache/emg/c3d"
)

// Defaults for the zero values of [File]'s fields.
const (
	DefaultPointScale = 0.1
	DefaultPointRate  = 100.0
)

// maxPerParam is how many labels or scales fit one parameter, whose
// dimensions are bytes; more continue in LABELS2, LABELS3, ….
const maxPerParam = 255

// File describes a C3D file to write.
type File struct {
	// Processor selects byte order and float encoding; 0 means c3d.Intel.
	Processor c3d.Processor
	// Float selects floating-point storage (a negative POINT:SCALE).
	Float bool
	// PointScale is |POINT:SCALE|; 0 means DefaultPointScale.
	PointScale float64
	// PointRate is the frame rate in Hz; 0 means DefaultPointRate.
	PointRate float64
	// SamplesPerFrame is the analog samples per frame; 0 means 1.
	SamplesPerFrame int
	// FirstFrame is the first frame number; 0 means 1.
	FirstFrame int
	// Frames is the number of frames. Points need Frames coordinates and
	// channels Frames × SamplesPerFrame raw values.
	Frames int
	// Points are the 3D trajectories.
	Points []Point
	// Analog are the analog channels.
	Analog []Channel
	// GenScale is ANALOG:GEN_SCALE; 0 means 1.
	GenScale float64
	// Unsigned writes ANALOG:FORMAT "UNSIGNED" and raw values as unsigned
	// 16-bit integers.
	Unsigned bool
	// Events are written to the EVENT group.
	Events []Event
	// Params are further parameters, in groups created as needed. They
	// come after the standard ones, so a duplicate name here is the
	// second definition.
	Params []Param
	// AnalogRate overrides ANALOG:RATE; 0 means PointRate ×
	// SamplesPerFrame.
	AnalogRate float64
	// OmitTrial leaves out TRIAL:ACTUAL_START_FIELD and ACTUAL_END_FIELD,
	// which otherwise carry frame numbers past 65535.
	OmitTrial bool
}

// Point is one trajectory.
type Point struct {
	Label string
	// XYZ has one triple per frame.
	XYZ [][3]float64
	// Residual has one value per frame (nil means 0); a negative value
	// marks the point invalid in that frame.
	Residual []float64
	// Cameras has one camera mask per frame (nil means 0).
	Cameras []uint8
}

// Channel is one analog channel.
type Channel struct {
	Label, Unit, Description string
	// Scale is ANALOG:SCALE; 0 means 1.
	Scale float64
	// Offset is ANALOG:OFFSET.
	Offset int
	// Raw holds the stored values, Frames × SamplesPerFrame of them;
	// integers in range for integer storage.
	Raw []float64
}

// Event is one entry of the EVENT group.
type Event struct {
	Context, Label string
	// Time in seconds.
	Time float64
}

// Param is a parameter to add. Value is a string (one Char string), a
// []string (equal-width Char strings, padded with spaces), []int16 or
// []float32; Dims, when set, overrides the dimensions derived from it.
type Param struct {
	Group, Name string
	Locked      bool
	Value       any
	Dims        []int
}

// Write writes f to w. It returns an error for a description that cannot
// be written (lengths that disagree with Frames, values out of range).
func Write(w io.Writer, f File) error {
	b, err := Bytes(f)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Bytes returns f as a C3D file; see Write.
func Bytes(f File) ([]byte, error) {
	if f.Processor == 0 {
		f.Processor = c3d.Intel
	}
	if f.PointScale == 0 {
		f.PointScale = DefaultPointScale
	}
	if f.PointRate == 0 {
		f.PointRate = DefaultPointRate
	}
	if f.SamplesPerFrame == 0 {
		f.SamplesPerFrame = 1
	}
	if f.FirstFrame == 0 {
		f.FirstFrame = 1
	}
	if f.GenScale == 0 {
		f.GenScale = 1
	}
	for _, p := range f.Points {
		if len(p.XYZ) != f.Frames {
			return nil, fmt.Errorf("c3dtest: point %q has %d frames, want %d", p.Label, len(p.XYZ), f.Frames)
		}
	}
	for _, c := range f.Analog {
		if len(c.Raw) != f.Frames*f.SamplesPerFrame {
			return nil, fmt.Errorf("c3dtest: channel %q has %d values, want %d", c.Label, len(c.Raw), f.Frames*f.SamplesPerFrame)
		}
	}
	e := enc{proc: f.Processor}

	params := f.standardParams()
	params = append(params, f.Params...)
	// The data block is in POINT:DATA_START, so lay the section out once
	// to learn its size, then again with the right value.
	section, err := e.section(params, 0)
	if err != nil {
		return nil, err
	}
	blocks := (len(section) + c3d.BlockSize - 1) / c3d.BlockSize
	dataBlock := 2 + blocks
	if section, err = e.section(params, dataBlock); err != nil {
		return nil, err
	}

	var out bytes.Buffer
	out.Write(e.header(f, dataBlock))
	out.Write(section)
	pad(&out)
	if err := e.frames(&out, f); err != nil {
		return nil, err
	}
	pad(&out)
	return out.Bytes(), nil
}

func pad(b *bytes.Buffer) {
	if r := b.Len() % c3d.BlockSize; r != 0 {
		b.Write(make([]byte, c3d.BlockSize-r))
	}
}

func (f File) storedScale() float64 {
	if f.Float {
		return -f.PointScale
	}
	return f.PointScale
}

// standardParams are the POINT, ANALOG, TRIAL and EVENT parameters. The
// DATA_START value is patched in by section.
func (f File) standardParams() []Param {
	frames := any([]int16{u16(f.Frames)})
	if f.Frames > 0xffff {
		frames = []float32{float32(f.Frames)} // what writers do past 16 bits
	}
	ps := []Param{
		{Group: "POINT", Name: "USED", Value: []int16{u16(len(f.Points))}},
		{Group: "POINT", Name: "FRAMES", Value: frames},
		{Group: "POINT", Name: "SCALE", Value: []float32{float32(f.storedScale())}},
		{Group: "POINT", Name: "RATE", Value: []float32{float32(f.PointRate)}},
		{Group: "POINT", Name: "DATA_START", Value: []int16{0}},
		{Group: "POINT", Name: "UNITS", Value: "mm"},
	}
	analogRate := f.AnalogRate
	if analogRate == 0 {
		analogRate = f.PointRate * float64(f.SamplesPerFrame)
	}
	var labels []string
	for _, p := range f.Points {
		labels = append(labels, p.Label)
	}
	ps = append(ps, split("POINT", "LABELS", labels)...)

	ps = append(ps,
		Param{Group: "ANALOG", Name: "USED", Value: []int16{u16(len(f.Analog))}},
		Param{Group: "ANALOG", Name: "RATE", Value: []float32{float32(analogRate)}},
		Param{Group: "ANALOG", Name: "GEN_SCALE", Value: []float32{float32(f.GenScale)}},
	)
	format := "SIGNED"
	if f.Unsigned {
		format = "UNSIGNED"
	}
	ps = append(ps, Param{Group: "ANALOG", Name: "FORMAT", Value: format})
	var units, descs []string
	var scales []float32
	var offsets []int16
	labels = nil
	for _, c := range f.Analog {
		labels, units, descs = append(labels, c.Label), append(units, c.Unit), append(descs, c.Description)
		s := c.Scale
		if s == 0 {
			s = 1
		}
		scales, offsets = append(scales, float32(s)), append(offsets, int16(c.Offset))
	}
	ps = append(ps, split("ANALOG", "LABELS", labels)...)
	ps = append(ps, split("ANALOG", "UNITS", units)...)
	ps = append(ps, split("ANALOG", "DESCRIPTIONS", descs)...)
	ps = append(ps, split("ANALOG", "SCALE", scales)...)
	ps = append(ps, split("ANALOG", "OFFSET", offsets)...)

	if !f.OmitTrial {
		last := f.FirstFrame + f.Frames - 1
		ps = append(ps,
			Param{Group: "TRIAL", Name: "ACTUAL_START_FIELD", Value: []int16{int16(uint16(f.FirstFrame)), int16(uint16(f.FirstFrame >> 16))}},
			Param{Group: "TRIAL", Name: "ACTUAL_END_FIELD", Value: []int16{int16(uint16(last)), int16(uint16(last >> 16))}},
		)
	}

	if len(f.Events) > 0 {
		var times []float32
		var contexts []string
		labels = nil
		for _, ev := range f.Events {
			m := math.Floor(ev.Time / 60)
			times = append(times, float32(m), float32(ev.Time-60*m))
			labels, contexts = append(labels, ev.Label), append(contexts, ev.Context)
		}
		ps = append(ps,
			Param{Group: "EVENT", Name: "USED", Value: []int16{int16(len(f.Events))}},
			Param{Group: "EVENT", Name: "TIMES", Value: times, Dims: []int{2, len(f.Events)}},
			Param{Group: "EVENT", Name: "LABELS", Value: labels},
			Param{Group: "EVENT", Name: "CONTEXTS", Value: contexts},
		)
	}
	return ps
}

// split writes values as name, name2, name3, … of at most 255 each.
func split[T any](group, name string, values []T) []Param {
	var out []Param
	for i := 0; i == 0 || i*maxPerParam < len(values); i++ {
		n := name
		if i > 0 {
			n = fmt.Sprintf("%s%d", name, i+1)
		}
		chunk := values[i*maxPerParam : min((i+1)*maxPerParam, len(values))]
		out = append(out, Param{Group: group, Name: n, Value: chunk, Dims: dimsOf(chunk)})
	}
	return out
}

func dimsOf(v any) []int {
	switch v := v.(type) {
	case []string:
		return []int{width(v), len(v)}
	case []float32:
		return []int{len(v)}
	case []int16:
		return []int{len(v)}
	}
	return nil
}

func width(s []string) int {
	w := 1
	for _, x := range s {
		w = max(w, len(latin1(x)))
	}
	return w
}

func u16(n int) int16 { return int16(uint16(min(n, 0xffff))) }

// enc encodes numbers for one processor.
type enc struct{ proc c3d.Processor }

func (e enc) order() binary.ByteOrder {
	if e.proc == c3d.MIPS {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func (e enc) i16(b []byte, v int16) { e.order().PutUint16(b, uint16(v)) }

func (e enc) f32(b []byte, v float32) {
	switch e.proc {
	case c3d.DEC:
		hi, lo := EncodeDEC(v)
		binary.LittleEndian.PutUint16(b, hi)
		binary.LittleEndian.PutUint16(b[2:], lo)
	default:
		e.order().PutUint32(b, math.Float32bits(v))
	}
}

// EncodeDEC returns v as a VAX F-floating number's two 16-bit words in
// file order. Values below F-floating's range become 0 and values above it
// its largest.
func EncodeDEC(v float32) (hi, lo uint16) {
	bits := math.Float32bits(v)
	exp := (bits >> 23) & 0xff
	if v == 0 || exp == 0 {
		return 0, 0
	}
	sign, frac := bits>>31, bits&0x7fffff
	exp += 2 // 1.f × 2^(e−127) = 0.1f × 2^((e+2)−128)
	if exp > 0xff {
		exp, frac = 0xff, 0x7fffff
	}
	u := sign<<31 | exp<<23 | frac
	return uint16(u >> 16), uint16(u)
}

func (e enc) header(f File, dataBlock int) []byte {
	b := make([]byte, c3d.BlockSize)
	b[0], b[1] = 2, 0x50
	word := func(n, v int) { e.i16(b[2*(n-1):], int16(uint16(v))) }
	word(2, min(len(f.Points), 0xffff))
	word(3, len(f.Analog)*f.SamplesPerFrame)
	word(4, min(f.FirstFrame, 0xffff))
	word(5, min(f.FirstFrame+f.Frames-1, 0xffff))
	word(6, 10)
	e.f32(b[12:], float32(f.storedScale()))
	word(9, dataBlock)
	word(10, f.SamplesPerFrame)
	e.f32(b[20:], float32(f.PointRate))
	return b
}

// section lays out the parameter section: preamble, groups, parameters,
// with DATA_START set to dataBlock.
func (e enc) section(params []Param, dataBlock int) ([]byte, error) {
	var groups []string
	ids := map[string]int{}
	for _, p := range params {
		if _, ok := ids[p.Group]; !ok {
			groups = append(groups, p.Group)
			ids[p.Group] = len(groups)
		}
	}
	if len(groups) > 127 {
		return nil, errors.New("c3dtest: more than 127 groups")
	}
	var out bytes.Buffer
	out.Write([]byte{1, 0x50, 0, byte(e.proc)})
	for _, g := range groups {
		e.entry(&out, g, -ids[g], false, nil)
	}
	for _, p := range params {
		if p.Group == "POINT" && p.Name == "DATA_START" {
			p.Value = []int16{int16(dataBlock)}
		}
		body, err := e.value(p)
		if err != nil {
			return nil, err
		}
		e.entry(&out, p.Name, ids[p.Group], p.Locked, body)
	}
	out.Write([]byte{0, 0}) // terminator
	blocks := (out.Len() + c3d.BlockSize - 1) / c3d.BlockSize
	if blocks > 255 {
		return nil, errors.New("c3dtest: parameter section beyond 255 blocks")
	}
	b := out.Bytes()
	b[2] = byte(blocks)
	return b, nil
}

// entry writes a group (body nil) or a parameter (body = type, dims, data).
func (e enc) entry(out *bytes.Buffer, name string, id int, locked bool, body []byte) {
	n := int8(len(name))
	if locked {
		n = -n
	}
	out.WriteByte(byte(n))
	out.WriteByte(byte(int8(id)))
	out.WriteString(name)
	rest := append(body, 0) // an empty description
	var off [2]byte
	e.i16(off[:], int16(2+len(rest)))
	out.Write(off[:])
	out.Write(rest)
}

// value encodes a parameter's type, dimensions and data.
func (e enc) value(p Param) ([]byte, error) {
	var t c3d.Type
	var data []byte
	dims := p.Dims
	switch v := p.Value.(type) {
	case string:
		t, data = c3d.Char, latin1(v)
		if dims == nil {
			dims = []int{len(data)}
		}
	case []string:
		t = c3d.Char
		w := width(v)
		for _, s := range v {
			l := latin1(s)
			data = append(data, l...)
			data = append(data, bytes.Repeat([]byte{' '}, w-len(l))...)
		}
		if dims == nil {
			dims = []int{w, len(v)}
		}
	case []int16:
		t, data = c3d.Int16, make([]byte, 2*len(v))
		for i, x := range v {
			e.i16(data[2*i:], x)
		}
		if dims == nil && len(v) != 1 {
			dims = []int{len(v)}
		}
	case []float32:
		t, data = c3d.Float, make([]byte, 4*len(v))
		for i, x := range v {
			e.f32(data[4*i:], x)
		}
		if dims == nil && len(v) != 1 {
			dims = []int{len(v)}
		}
	default:
		return nil, fmt.Errorf("c3dtest: parameter %s:%s has unsupported value %T", p.Group, p.Name, p.Value)
	}
	if len(dims) > 7 {
		return nil, fmt.Errorf("c3dtest: parameter %s:%s has %d dimensions", p.Group, p.Name, len(dims))
	}
	body := []byte{byte(int8(t)), byte(len(dims))}
	for _, d := range dims {
		if d < 0 || d > 255 {
			return nil, fmt.Errorf("c3dtest: parameter %s:%s dimension %d out of range", p.Group, p.Name, d)
		}
		body = append(body, byte(d))
	}
	return append(body, data...), nil
}

// latin1 encodes s as Latin-1, '?' for runes beyond it.
func latin1(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			r = '?'
		}
		out = append(out, byte(r))
	}
	return out
}

// frames writes the data section.
func (e enc) frames(out *bytes.Buffer, f File) error {
	w := 2
	if f.Float {
		w = 4
	}
	row := make([]byte, w*(4*len(f.Points)+len(f.Analog)*f.SamplesPerFrame))
	for fr := range f.Frames {
		i := 0
		put := func(v float64) error {
			if f.Float {
				e.f32(row[i:], float32(v))
			} else {
				r := math.Round(v)
				if r < math.MinInt16 || r > math.MaxUint16 || (r > math.MaxInt16 && !f.Unsigned) {
					return fmt.Errorf("c3dtest: %v does not fit 16 bits", v)
				}
				e.order().PutUint16(row[i:], uint16(int32(r)))
			}
			i += w
			return nil
		}
		for _, p := range f.Points {
			scale := f.PointScale
			if f.Float {
				scale = 1
			}
			for _, x := range p.XYZ[fr] {
				if err := put(x / scale); err != nil {
					return err
				}
			}
			word := 0.0
			res := 0.0
			if p.Residual != nil {
				res = p.Residual[fr]
			}
			if res < 0 {
				word = -1
			} else {
				cams := 0
				if p.Cameras != nil {
					cams = int(p.Cameras[fr] & 0x7f)
				}
				word = float64(cams<<8 | int(math.Round(res/f.PointScale))&0xff)
			}
			if err := put(word); err != nil {
				return err
			}
		}
		for s := range f.SamplesPerFrame {
			for _, c := range f.Analog {
				if err := put(c.Raw[fr*f.SamplesPerFrame+s]); err != nil {
					return err
				}
			}
		}
		out.Write(row)
	}
	return nil
}
