package c3d

import (
	"math"
	"strconv"
	"strings"
)

// Type is a parameter's data type, as the parameter section stores it: the
// number of bytes of one element, negative for characters.
type Type int8

// The parameter data types of the C3D specification.
const (
	Char  Type = -1 // Latin-1 text; arrays of strings have the length first
	Byte  Type = 1  // unsigned 8-bit integers
	Int16 Type = 2  // 16-bit integers, signed unless a parameter says otherwise
	Float Type = 4  // 32-bit floats in the processor's encoding
)

// String returns "char", "byte", "int16", "float" or "Type(n)".
func (t Type) String() string {
	switch t {
	case Char:
		return "char"
	case Byte:
		return "byte"
	case Int16:
		return "int16"
	case Float:
		return "float"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Group is a named set of parameters (POINT, ANALOG, TRIAL, …).
type Group struct {
	// ID is the group's number in the parameter section, 1 to 127.
	ID int
	// Name is the group's name as stored (normally upper case).
	Name string
	// Description is the group's free text.
	Description string
	// Locked reports a negative name length: the writer asked editors not
	// to change the group.
	Locked bool
	// Params are the group's parameters in file order, duplicates
	// included.
	Params []*Parameter
}

// Parameter is one entry of the parameter section. Its values are kept as
// stored and decoded on request, so a parameter a program never asks for
// costs nothing.
type Parameter struct {
	// Group is the name of the group the parameter belongs to.
	Group string
	// Name is the parameter's name as stored.
	Name string
	// Description is the parameter's free text.
	Description string
	// Locked reports a negative name length.
	Locked bool
	// Type is the element type.
	Type Type
	// Dims are the array dimensions, first varying fastest; none for a
	// scalar. For Char the first dimension is the length of each string.
	Dims []int

	data  []byte // len = element count × element size
	codec codec
}

// Len returns the number of elements: the product of Dims, or 1 for a
// scalar.
func (p *Parameter) Len() int {
	if p == nil {
		return 0
	}
	return p.elements()
}

func (p *Parameter) elements() int {
	n := 1
	for _, d := range p.Dims {
		n *= d
	}
	return n
}

// Bytes returns a copy of the raw values in the file's byte order.
func (p *Parameter) Bytes() []byte {
	if p == nil {
		return nil
	}
	return append([]byte(nil), p.data...)
}

// Float64s returns the values of a numeric parameter: Int16 as signed,
// Byte as unsigned, Float decoded for the file's processor. It returns nil
// for Char and for a nil parameter.
func (p *Parameter) Float64s() []float64 {
	if p == nil {
		return nil
	}
	n := p.elements()
	switch p.Type {
	case Byte:
		out := make([]float64, n)
		for i := range out {
			out[i] = float64(p.data[i])
		}
		return out
	case Int16:
		out := make([]float64, n)
		for i := range out {
			out[i] = float64(p.codec.i16(p.data[2*i:]))
		}
		return out
	case Float:
		out := make([]float64, n)
		for i := range out {
			out[i] = p.codec.f32(p.data[4*i:])
		}
		return out
	}
	return nil
}

// Ints returns the values of a numeric parameter as integers: Int16 as
// signed, Byte as unsigned, Float rounded to the nearest integer (a value
// that is not finite or beyond ±2^53 becomes 0). It returns nil for Char.
func (p *Parameter) Ints() []int {
	f := p.Float64s()
	if f == nil {
		return nil
	}
	out := make([]int, len(f))
	for i, v := range f {
		if math.Abs(v) <= 1<<53 {
			out[i] = int(math.Round(v))
		}
	}
	return out
}

// Uints returns the values of a numeric parameter with Int16 read as
// unsigned, as C3D counts (POINT:USED, ANALOG:USED, POINT:FRAMES) are once
// they pass 32767. Other types are as from Ints, negatives clamped to 0.
func (p *Parameter) Uints() []int {
	if p == nil {
		return nil
	}
	if p.Type != Int16 {
		out := p.Ints()
		for i, v := range out {
			out[i] = max(v, 0)
		}
		return out
	}
	out := make([]int, p.elements())
	for i := range out {
		out[i] = int(p.codec.u16(p.data[2*i:]))
	}
	return out
}

// Strings returns the values of a Char parameter as strings of Dims[0]
// bytes each (one string for a scalar or one-dimensional parameter),
// converted from Latin-1 to UTF-8 without trailing spaces and NULs. It
// returns nil for other types.
func (p *Parameter) Strings() []string {
	if p == nil || p.Type != Char {
		return nil
	}
	if len(p.Dims) <= 1 {
		return []string{latin1(p.data)}
	}
	width := p.Dims[0]
	if width == 0 {
		return make([]string, len(p.data)) // len(p.data) is 0 here
	}
	out := make([]string, len(p.data)/width)
	for i := range out {
		out[i] = latin1(p.data[i*width : (i+1)*width])
	}
	return out
}

// Text returns all of a Char parameter's bytes as one string, converted as
// by Strings; "" for other types.
func (p *Parameter) Text() string {
	if p == nil || p.Type != Char {
		return ""
	}
	return latin1(p.data)
}

// float returns the first value of a numeric parameter.
func (p *Parameter) float() (float64, bool) {
	if p == nil || p.Type == Char || len(p.data) == 0 {
		return 0, false
	}
	switch p.Type {
	case Byte:
		return float64(p.data[0]), true
	case Int16:
		return float64(p.codec.i16(p.data)), true
	}
	return p.codec.f32(p.data), true
}

// uint returns the first value of a numeric parameter as a count (Int16
// read unsigned); false if absent, negative or not an integer.
func (p *Parameter) uint() (int, bool) {
	if p == nil || p.Type == Char || len(p.data) == 0 {
		return 0, false
	}
	if p.Type == Int16 {
		return int(p.codec.u16(p.data)), true
	}
	v, _ := p.float()
	if !(v >= 0 && v <= 1<<31) || v != math.Trunc(v) {
		return 0, false
	}
	return int(v), true
}

// Param returns the first parameter named name among the parameters of
// the groups named group (both compared case-insensitively, as readers of
// the format do), or nil. Later duplicates stay visible in Groups.
func (f *File) Param(group, name string) *Parameter {
	if f == nil {
		return nil
	}
	if f.index != nil {
		return f.index[strings.ToUpper(group)][strings.ToUpper(name)]
	}
	// A File not from Read: search, rather than build an index that
	// concurrent readers would race on.
	for _, g := range f.Groups {
		if !strings.EqualFold(g.Name, group) {
			continue
		}
		for _, p := range g.Params {
			if strings.EqualFold(p.Name, name) {
				return p
			}
		}
	}
	return nil
}

// Group returns the first group named name (case-insensitively), or nil.
func (f *File) Group(name string) *Group {
	if f == nil {
		return nil
	}
	for _, g := range f.Groups {
		if strings.EqualFold(g.Name, name) {
			return g
		}
	}
	return nil
}
