package c3d

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// File is a decoded C3D file.
type File struct {
	// Header is the first block as stored.
	Header Header
	// Processor is the processor type the file was written on.
	Processor Processor
	// Groups are the parameter groups in file order.
	Groups []*Group

	// PointRate is the frame rate in Hz: POINT:RATE, or the header's when
	// the parameter is missing or not positive.
	PointRate float64
	// AnalogRate is the analog sample rate in Hz: PointRate times
	// AnalogSamplesPerFrame (ANALOG:RATE when it agrees).
	AnalogRate float64
	// AnalogSamplesPerFrame is the number of samples of each analog
	// channel per frame.
	AnalogSamplesPerFrame int
	// PointFrames is the number of frames read: the largest count a
	// field of the file claims (the header, TRIAL:ACTUAL_START_FIELD and
	// ACTUAL_END_FIELD, POINT:LONG_FRAMES, POINT:FRAMES) that the data
	// section holds, or the frames it holds when every claim is larger
	// (see Warnings).
	// A file without points or channels holds no bytes per frame, so its
	// claim is taken as it is.
	PointFrames int
	// FirstFrame is the number of the first frame (TRIAL:ACTUAL_START_FIELD
	// when present, else the header's).
	FirstFrame int
	// FloatStorage reports floating-point data (a negative POINT:SCALE);
	// otherwise values are 16-bit integers.
	FloatStorage bool
	// PointScale is POINT:SCALE: the factor of integer point coordinates
	// and of residuals.
	PointScale float64
	// PointUnit is POINT:UNITS, usually "mm".
	PointUnit string

	// Points are the 3D trajectories, in file order.
	Points []Point
	// Analog are the analog channels, in file order.
	Analog []Channel
	// Events are the events of the EVENT group, in file order; the
	// header's own event table is in Header.Events.
	Events []Event

	// Warnings say where the file contradicts itself and what Read chose.
	Warnings []string

	index index // by Read, for Param
}

// Point is one 3D trajectory (a marker, or a computed angle or force).
type Point struct {
	// Label and Description come from POINT:LABELS and POINT:DESCRIPTIONS
	// (and LABELS2, … beyond 255 points).
	Label, Description string
	// XYZ holds one coordinate triple per frame, in PointUnit, scaled by
	// PointScale for integer storage.
	XYZ [][3]float64
	// Residual is the reconstruction residual per frame, ≥ 0, or −1 where
	// the point is invalid in that frame (its coordinates are then
	// whatever the writer left).
	Residual []float64
	// Cameras is the bit mask of cameras that saw the point, per frame.
	Cameras []uint8
}

// Channel is one analog channel.
type Channel struct {
	// Label, Description and Unit come from ANALOG:LABELS, DESCRIPTIONS and
	// UNITS (and LABELS2, … beyond 255 channels).
	Label, Description, Unit string
	// Scale is the channel's ANALOG:SCALE times ANALOG:GEN_SCALE; Offset
	// is its ANALOG:OFFSET.
	Scale, Offset float64
	// Samples holds AnalogSamplesPerFrame values per frame, as
	// (raw − Offset) × Scale.
	Samples []float64
}

// Event is one entry of the EVENT group.
type Event struct {
	// Context is EVENT:CONTEXTS, for example "Left", "Right", "General".
	Context string
	// Label is EVENT:LABELS, for example "Foot Strike".
	Label string
	// Description is EVENT:DESCRIPTIONS.
	Description string
	// Time is the time in seconds (EVENT:TIMES minutes × 60 + seconds).
	Time float64
}

// Decode decodes a whole C3D file held in data, which it does not retain
// nor modify. Errors wrap [ErrMalformed].
func Decode(data []byte) (*File, error) {
	d := &decoder{b: data, size: len(data), f: &File{}}
	if err := d.decode(); err != nil {
		return nil, err
	}
	return d.f, nil
}

// Sniff reports whether b starts like a C3D file: a parameter block number
// and the 0x50 key, then (when b is long enough to hold it) a parameter
// section with a known processor type. It needs 2 bytes and is sure with
// the whole parameter section's first block.
func Sniff(b []byte) bool {
	if len(b) < 2 || b[1] != headerKey || b[0] < 2 {
		return false
	}
	off := (int(b[0]) - 1) * BlockSize
	if len(b) >= off+4 {
		return Processor(b[off+3]).Valid()
	}
	return true
}

type decoder struct {
	b    []byte // the file, or (reading from r) its first bytes
	size int    // the file's length
	r    io.Reader
	f    *File
	c    codec
}

func (d *decoder) warn(format string, args ...any) {
	d.f.Warnings = append(d.f.Warnings, fmt.Sprintf(format, args...))
}

func (d *decoder) decode() error {
	b, f := d.b, d.f
	if len(b) < BlockSize {
		return malformed("file is %d bytes, shorter than the %d-byte header", len(b), BlockSize)
	}
	if b[1] != headerKey {
		return malformed("not a C3D file: second byte is 0x%02x, want 0x%02x", b[1], headerKey)
	}
	if b[0] < 2 {
		return malformed("header puts the parameter section at block %d, inside the header", b[0])
	}
	pOff := (int(b[0]) - 1) * BlockSize
	if pOff+4 > len(b) {
		return malformed("parameter section at block %d is past the end of the file (%d bytes)", b[0], len(b))
	}
	f.Processor = Processor(b[pOff+3])
	if !f.Processor.Valid() {
		return malformed("unknown processor type %d in the parameter section (want 84 Intel, 85 DEC or 86 MIPS)", b[pOff+3])
	}
	d.c = newCodec(f.Processor)
	f.Header = parseHeader(b[:BlockSize], d.c)
	groups, err := parseParameters(b, d.size, pOff, d.c, d.warn)
	if err != nil {
		return err
	}
	f.Groups, f.index = groups, newIndex(groups)
	return d.data(pOff)
}

// layout is the shape of one frame in the data section.
type layout struct {
	points, channels, perFrame int // perFrame: samples of each channel per frame
}

func (l layout) frameBytes(float bool) int64 {
	w := int64(2)
	if float {
		w = 4
	}
	return w * (4*int64(l.points) + int64(l.channels)*int64(l.perFrame))
}

// data reconciles header and parameters, then decodes the data section.
func (d *decoder) data(pOff int) error {
	f, h := d.f, &d.f.Header

	// Storage and scale.
	f.PointScale = h.Scale
	if s, ok := f.Param("POINT", "SCALE").float(); ok && !math.IsNaN(s) {
		if (s < 0) != (h.Scale < 0) {
			d.warn("POINT:SCALE %v and the header's scale %v disagree on the storage type; POINT:SCALE is used", s, h.Scale)
		}
		f.PointScale = s
	}
	f.FloatStorage = f.PointScale < 0
	f.PointUnit = f.Param("POINT", "UNITS").Text()

	// Rates.
	f.PointRate = h.FrameRate
	if r, ok := f.Param("POINT", "RATE").float(); ok && r > 0 && !math.IsInf(r, 0) {
		if h.FrameRate > 0 && !near(r, h.FrameRate) {
			d.warn("POINT:RATE %v Hz and the header's %v Hz disagree; POINT:RATE is used", r, h.FrameRate)
		}
		f.PointRate = r
	} else if !(h.FrameRate > 0) || math.IsInf(h.FrameRate, 0) {
		f.PointRate = 0
		d.warn("no usable frame rate (header %v Hz, POINT:RATE missing)", h.FrameRate)
	}

	// Frames claimed.
	claims, claimed, first := d.frames()
	f.FirstFrame = first

	// Data start.
	dataBlock := h.DataBlock
	if s, ok := f.Param("POINT", "DATA_START").uint(); ok && s != dataBlock {
		if dataBlock <= int(d.b[0]) || (dataBlock-1)*BlockSize > d.size {
			d.warn("header data block %d is unusable; POINT:DATA_START %d is used", dataBlock, s)
			dataBlock = s
		} else {
			d.warn("POINT:DATA_START %d and the header's data block %d disagree; the header is used", s, dataBlock)
		}
	}
	if dataBlock < 1 {
		return malformed("data section at block %d", dataBlock)
	}
	dataOff := (dataBlock - 1) * BlockSize
	if dataOff < pOff+4 {
		d.warn("data section at block %d overlaps the parameter section at block %d", dataBlock, d.b[0])
	}
	if dataOff > d.size {
		if claimed == 0 {
			dataOff = d.size
		} else {
			return malformed("data section at block %d starts past the end of the file (%d bytes) but %d frames are claimed", dataBlock, d.size, claimed)
		}
	}
	avail := int64(d.size - dataOff)

	l, err := d.layout(claimed, avail)
	if err != nil {
		return err
	}
	f.AnalogSamplesPerFrame = l.perFrame
	f.AnalogRate = f.PointRate * float64(l.perFrame)
	if r, ok := f.Param("ANALOG", "RATE").float(); ok && l.channels > 0 && near(r, f.AnalogRate) {
		f.AnalogRate = r
	}

	fb := l.frameBytes(f.FloatStorage)
	n := claimed
	// Points and channels cost memory even without frames, so their
	// number is bounded by what the file could describe.
	if int64(l.points)+int64(l.channels) > int64(d.size) {
		return malformed("%d points and %d analog channels claimed in a %d-byte file", l.points, l.channels, d.size)
	}
	if n > 0 && fb > avail {
		return malformed("%d frames of %d bytes (%d points, %d channels × %d samples) are claimed, but the data section holds %d bytes, less than one frame",
			n, fb, l.points, l.channels, l.perFrame, avail)
	}
	held := int64(math.MaxInt32) // frames without bytes fit any file
	if fb > 0 {
		held = avail / fb
	}
	n = d.chooseFrames(claims, held)
	f.PointFrames = n
	d.labels(l)
	d.events()
	return d.decodeFrames(dataOff, l, n)
}

// claim is one field's count of frames.
type claim struct {
	what string
	n    int
}

// frames returns what each field says of the number of frames (the
// header first), the count to lay the data out by, and the first frame
// number. The count prefers the fields made for more than 65535 frames.
func (d *decoder) frames() (claims []claim, preferred, first int) {
	f, h := d.f, d.f.Header
	first = h.FirstFrame
	headerN := 0
	if h.LastFrame >= h.FirstFrame {
		headerN = h.LastFrame - h.FirstFrame + 1
	}
	claims = append(claims, claim{"the header", headerN})
	preferred = headerN
	// TRIAL:ACTUAL_START_FIELD and ACTUAL_END_FIELD hold 32-bit frame
	// numbers as two unsigned 16-bit words, low word first.
	start, sok := long32(f.Param("TRIAL", "ACTUAL_START_FIELD"))
	end, eok := long32(f.Param("TRIAL", "ACTUAL_END_FIELD"))
	trial := sok && eok && end >= start
	if trial {
		claims = append(claims, claim{"TRIAL:ACTUAL_START_FIELD/ACTUAL_END_FIELD", end - start + 1})
		preferred, first = end-start+1, start
	}
	if lf, ok := f.Param("POINT", "LONG_FRAMES").uint(); ok && lf > 0 {
		claims = append(claims, claim{"POINT:LONG_FRAMES", lf})
		if !trial {
			preferred = lf
		}
	}
	if pf, ok := f.Param("POINT", "FRAMES").uint(); ok {
		claims = append(claims, claim{"POINT:FRAMES", pf})
		if preferred == headerN && pf > headerN && (h.LastFrame == 0xffff || pf > 0xffff) {
			preferred = pf // the header saturated
		}
	}
	return claims, preferred, first
}

// chooseFrames returns the number of frames to read: the largest claim the
// data section holds (readers differ on which field to trust, and a field
// too large for the data is wrong whichever it is), or all the frames it
// holds when every claim is larger.
func (d *decoder) chooseFrames(claims []claim, held int64) int {
	best := -1
	for _, c := range claims {
		if int64(c.n) <= held && c.n > best {
			best = c.n
		}
	}
	disagree := false
	for _, c := range claims[1:] {
		disagree = disagree || c.n != claims[0].n
	}
	var said []string
	for _, c := range claims {
		said = append(said, fmt.Sprintf("%s %d", c.what, c.n))
	}
	if best < 0 {
		d.warn("%d frames are claimed (%s) but the data section holds %d; %d are read", claims[0].n, strings.Join(said, ", "), held, held)
		return int(held)
	}
	if disagree && claims[0].n != 0xffff {
		d.warn("the frame counts disagree (%s); %d, the largest the data section holds, are read", strings.Join(said, ", "), best)
	}
	return best
}

// long32 decodes a TRIAL field: two unsigned 16-bit words, low first.
func long32(p *Parameter) (int, bool) {
	if p == nil || p.Type != Int16 || p.Len() < 2 {
		return 0, false
	}
	u := p.Uints()
	return u[0] | u[1]<<16, true
}

// layout chooses points, channels and samples per frame. The parameters
// are the specification's authority and the header a copy that 16 bits
// may truncate, so the parameters win unless only the header's layout fits
// the claimed frames into the data section.
func (d *decoder) layout(claimed int, avail int64) (layout, error) {
	f, h := d.f, d.f.Header
	hdr := layout{points: h.Points, perFrame: h.AnalogSamplesPerFrame}
	if hdr.perFrame > 0 {
		hdr.channels = h.AnalogPerFrame / hdr.perFrame
	} else if h.AnalogPerFrame > 0 {
		hdr.perFrame, hdr.channels = 1, h.AnalogPerFrame
	}

	par := hdr
	if p, ok := f.Param("POINT", "USED").uint(); ok {
		par.points = p
	}
	channels, haveChannels := f.Param("ANALOG", "USED").uint()
	if haveChannels {
		par.channels = channels
	}
	if ar, ok := f.Param("ANALOG", "RATE").float(); ok && ar > 0 && f.PointRate > 0 && par.channels > 0 {
		ratio := ar / f.PointRate
		if k := math.Round(ratio); k >= 1 && k <= 0xffff && math.Abs(ratio-k) <= 1e-6*k {
			par.perFrame = int(k)
		} else {
			d.warn("ANALOG:RATE %v Hz is not a whole multiple of the frame rate %v Hz; %d samples per frame from the header are used", ar, f.PointRate, hdr.perFrame)
		}
	}
	if par.channels > 0 && par.perFrame == 0 {
		if h.AnalogPerFrame > 0 && h.AnalogPerFrame%par.channels == 0 {
			par.perFrame = h.AnalogPerFrame / par.channels
		} else {
			par.perFrame = 1
			d.warn("no analog samples per frame in the header nor the rates; 1 is assumed")
		}
	}
	if !haveChannels && hdr.perFrame > 0 && par.perFrame != hdr.perFrame {
		par.channels = h.AnalogPerFrame / par.perFrame
	}
	if par.channels == 0 {
		par.perFrame = 0
	}

	chosen := par
	if par != hdr {
		fits := func(l layout) bool { return int64(claimed)*l.frameBytes(f.FloatStorage) <= avail }
		if !fits(par) && fits(hdr) {
			chosen = hdr
			d.warn("parameters give %d points and %d×%d analog values per frame, the header %d and %d; only the header's fit the data section, so it is used",
				par.points, par.channels, par.perFrame, hdr.points, h.AnalogPerFrame)
		} else if par.points != hdr.points || int64(par.channels)*int64(par.perFrame)%0x10000 != int64(h.AnalogPerFrame) {
			d.warn("parameters give %d points and %d×%d analog values per frame, the header %d and %d; the parameters are used",
				par.points, par.channels, par.perFrame, hdr.points, h.AnalogPerFrame)
		}
	}
	if chosen.channels > 0 && chosen.perFrame <= 0 {
		return layout{}, malformed("%d analog channels with %d samples per frame", chosen.channels, chosen.perFrame)
	}
	return chosen, nil
}

// near reports whether two rates agree to a part in a million.
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(math.Abs(a), math.Abs(b)) }

// series concatenates a group's parameter and its continuations for more
// than 255 entries (LABELS, LABELS2, LABELS3, …).
func (f *File) series(group, name string) []*Parameter {
	var out []*Parameter
	if p := f.Param(group, name); p != nil {
		out = append(out, p)
	}
	for i := 2; ; i++ {
		p := f.Param(group, name+strconv.Itoa(i))
		if p == nil {
			return out
		}
		out = append(out, p)
	}
}

func (f *File) strings(group, name string) []string {
	var out []string
	for _, p := range f.series(group, name) {
		out = append(out, p.Strings()...)
	}
	return out
}

func (f *File) floats(group, name string, unsigned bool) []float64 {
	var out []float64
	for _, p := range f.series(group, name) {
		if unsigned && p.Type == Int16 {
			for _, v := range p.Uints() {
				out = append(out, float64(v))
			}
			continue
		}
		out = append(out, p.Float64s()...)
	}
	return out
}

// labels builds the points' and channels' names, units and scales.
func (d *decoder) labels(l layout) {
	f := d.f
	f.Points = make([]Point, l.points)
	labels, descs := f.strings("POINT", "LABELS"), f.strings("POINT", "DESCRIPTIONS")
	for i := range f.Points {
		f.Points[i].Label, f.Points[i].Description = at(labels, i), at(descs, i)
	}
	if len(labels) < l.points && l.points > 0 {
		d.warn("POINT:LABELS names %d of %d points", len(labels), l.points)
	}

	f.Analog = make([]Channel, l.channels)
	labels, descs = f.strings("ANALOG", "LABELS"), f.strings("ANALOG", "DESCRIPTIONS")
	units := f.strings("ANALOG", "UNITS")
	unsigned := strings.EqualFold(f.Param("ANALOG", "FORMAT").Text(), "UNSIGNED")
	scales := f.floats("ANALOG", "SCALE", false)
	offsets := f.floats("ANALOG", "OFFSET", unsigned)
	gen := 1.0
	if g, ok := f.Param("ANALOG", "GEN_SCALE").float(); ok {
		gen = g
	}
	if l.channels > 0 {
		if len(labels) < l.channels {
			d.warn("ANALOG:LABELS names %d of %d channels", len(labels), l.channels)
		}
		if len(scales) < l.channels && f.Param("ANALOG", "SCALE") != nil {
			d.warn("ANALOG:SCALE gives %d of %d channels; the rest are scaled by 1", len(scales), l.channels)
		}
		if len(offsets) < l.channels && f.Param("ANALOG", "OFFSET") != nil {
			d.warn("ANALOG:OFFSET gives %d of %d channels; the rest are offset by 0", len(offsets), l.channels)
		}
	}
	for i := range f.Analog {
		c := &f.Analog[i]
		c.Label, c.Description, c.Unit = at(labels, i), at(descs, i), at(units, i)
		c.Scale = gen
		if i < len(scales) {
			c.Scale = scales[i] * gen
		}
		if i < len(offsets) {
			c.Offset = offsets[i]
		}
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

// events decodes the EVENT group.
func (d *decoder) events() {
	f := d.f
	times := f.Param("EVENT", "TIMES").Float64s()
	n := len(times) / 2
	if used, ok := f.Param("EVENT", "USED").uint(); ok && used < n {
		n = used
	}
	labels, contexts, descs := f.strings("EVENT", "LABELS"), f.strings("EVENT", "CONTEXTS"), f.strings("EVENT", "DESCRIPTIONS")
	for i := range n {
		f.Events = append(f.Events, Event{
			Context:     at(contexts, i),
			Label:       at(labels, i),
			Description: at(descs, i),
			Time:        times[2*i]*60 + times[2*i+1],
		})
	}
}
