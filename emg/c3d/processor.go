package c3d

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Processor is the processor type a file was written on, stored in the
// fourth byte of the parameter section. It fixes the byte order of every
// integer and the encoding of every floating-point number in the file.
type Processor uint8

// The processor types of the C3D specification.
const (
	// Intel files are little-endian with IEEE 754 floats.
	Intel Processor = 84
	// DEC files are little-endian with VAX F-floating numbers.
	DEC Processor = 85
	// MIPS files (SGI workstations) are big-endian with IEEE 754 floats.
	MIPS Processor = 86
)

// String returns "Intel", "DEC", "MIPS" or "Processor(n)".
func (p Processor) String() string {
	switch p {
	case Intel:
		return "Intel"
	case DEC:
		return "DEC"
	case MIPS:
		return "MIPS"
	}
	return fmt.Sprintf("Processor(%d)", uint8(p))
}

// Valid reports whether p is one of the specification's processor types.
func (p Processor) Valid() bool { return p == Intel || p == DEC || p == MIPS }

// order returns the processor's integer byte order.
func (p Processor) order() binary.ByteOrder {
	if p == MIPS {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// codec decodes the numbers of one file. Callers guarantee the slices are
// long enough.
type codec struct {
	proc  Processor
	order binary.ByteOrder
}

func newCodec(p Processor) codec { return codec{proc: p, order: p.order()} }

func (c codec) u16(b []byte) uint16 { return c.order.Uint16(b) }
func (c codec) i16(b []byte) int16  { return int16(c.order.Uint16(b)) }

// f32 decodes one 4-byte floating-point number as a float64.
func (c codec) f32(b []byte) float64 {
	switch c.proc {
	case DEC:
		return decFloat(binary.LittleEndian.Uint16(b), binary.LittleEndian.Uint16(b[2:]))
	case MIPS:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
	}
	return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
}

// decFloat converts a VAX F-floating number, given as its two 16-bit words
// in file order (the word holding sign, exponent and the high fraction bits
// first), to a float64. F-floating has IEEE single's field widths but the
// value 0.1fff… × 2^(e−128) = 1.fff… × 2^(e−129), so it maps onto a float64
// exactly and never overflows. An exponent of 0 is zero (with the sign bit,
// a "reserved operand", which is returned as NaN).
func decFloat(hi, lo uint16) float64 {
	bits := uint32(hi)<<16 | uint32(lo)
	exp := (bits >> 23) & 0xff
	sign := uint64(bits>>31) << 63
	if exp == 0 {
		if sign != 0 {
			return math.NaN()
		}
		return 0
	}
	frac := uint64(bits & 0x7fffff)
	return math.Float64frombits(sign | uint64(exp-129+1023)<<52 | frac<<29)
}
