package c3d

import "math"

// BlockSize is the unit of a C3D file: the header, the parameter section
// and the start of the data section all fall on 512-byte blocks, numbered
// from 1.
const BlockSize = 512

// headerKey is the second byte of every C3D file.
const headerKey = 0x50

// labelRangeKey and eventLabelKey mark optional header fields.
const (
	labelRangeKey   = 12345
	eventLabelKey   = 12345
	maxHeaderEvents = 18
)

// Header is the first block of a C3D file, as stored. Programs should
// prefer the File's fields, which reconcile the header with the parameters;
// the header is kept for tools that show or check it. Counts are unsigned
// 16-bit, so they saturate or wrap in long or wide recordings.
type Header struct {
	// ParameterBlock is the block number of the parameter section.
	ParameterBlock int
	// Points is the number of 3D points per frame.
	Points int
	// AnalogPerFrame is the number of analog values per frame: channels
	// times samples per frame.
	AnalogPerFrame int
	// FirstFrame and LastFrame are the frame numbers of the first and
	// last frame, both counted in.
	FirstFrame, LastFrame int
	// MaxInterpolationGap is the longest gap, in frames, the capture
	// software filled in.
	MaxInterpolationGap int
	// Scale is the point scale factor; negative means floating-point
	// storage.
	Scale float64
	// DataBlock is the block number where the data section starts.
	DataBlock int
	// AnalogSamplesPerFrame is the number of samples of each analog
	// channel per frame.
	AnalogSamplesPerFrame int
	// FrameRate is the point frame rate in Hz.
	FrameRate float64
	// LabelRangeBlock is the block of the (obsolete) label and range
	// section, or 0 when the header marks none.
	LabelRangeBlock int
	// FourCharEventLabels reports the header's event labels are 4
	// characters long (otherwise 2).
	FourCharEventLabels bool
	// Events are the header's events (at most 18), which older software
	// writes instead of the EVENT group.
	Events []HeaderEvent
}

// HeaderEvent is one event of the header's event table.
type HeaderEvent struct {
	// Time is the event time in seconds from the start of the trial.
	Time float64
	// Label is the event's short label.
	Label string
	// Displayed reports the event's display flag.
	Displayed bool
}

// parseHeader decodes the first block, which the caller guarantees is
// BlockSize bytes long, with the file's codec.
func parseHeader(b []byte, c codec) Header {
	w := func(word int) int { return int(c.u16(b[2*(word-1):])) } // 1-based words, as the specification numbers them
	h := Header{
		ParameterBlock:        int(b[0]),
		Points:                w(2),
		AnalogPerFrame:        w(3),
		FirstFrame:            w(4),
		LastFrame:             w(5),
		MaxInterpolationGap:   w(6),
		Scale:                 c.f32(b[12:]),
		DataBlock:             w(9),
		AnalogSamplesPerFrame: w(10),
		FrameRate:             c.f32(b[20:]),
	}
	if w(148) == labelRangeKey {
		h.LabelRangeBlock = w(149)
	}
	h.FourCharEventLabels = w(150) == eventLabelKey
	n := w(151)
	if n > maxHeaderEvents {
		n = 0 // not an event count: some writers leave the area unused
	}
	labelLen := 2
	if h.FourCharEventLabels {
		labelLen = 4
	}
	for i := range n {
		t := c.f32(b[304+4*i:])
		if math.IsNaN(t) || math.IsInf(t, 0) {
			t = 0
		}
		h.Events = append(h.Events, HeaderEvent{
			Time:      t,
			Displayed: b[376+i] == 0,
			Label:     latin1(b[396+4*i : 396+4*i+labelLen]),
		})
	}
	return h
}
