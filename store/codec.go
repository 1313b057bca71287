package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Codec turns the values of GetValue, SetValue and the patterns package
// into the bytes stored under a key, and back. Implementations must be safe
// for concurrent use, and Unmarshal must not keep data or write into it:
// it is the stored value itself, shared with every other reader.
type Codec interface {
	// Name identifies the encoding. "json" promises standard JSON, which
	// is stored as it is, readable by any client; the bytes of every other
	// codec are stored behind a short header that carries the name, so
	// that a value is only ever decoded by a codec of the same name (any
	// other gets ErrDecode). Two codecs of one name must therefore read
	// each other's bytes. A name is 1 to 32 bytes of ASCII letters, digits
	// and "-._/+".
	Name() string
	// Marshal encodes v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into v, a non-nil pointer.
	Unmarshal(data []byte, v any) error
}

// JSON is the default Codec: encoding/json, stored without a header.
var JSON Codec = jsonCodec{}

type jsonCodec struct{}

func (jsonCodec) Name() string                       { return jsonName }
func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

const (
	jsonName = "json"
	// codecHeader starts the bytes of every codec but JSON. It begins with
	// a NUL byte, which no JSON text does, so JSON readers of any client
	// reject it rather than misread it.
	codecHeader = "\x00emgcache:codec:"
	// maxCodecName bounds a codec's name, so that the header stays small.
	maxCodecName = 32
)

// errWrongCodec means a value was written by another codec than the one
// reading it.
var errWrongCodec = errors.New("written by another codec")

// framedCodec is a Codec with the header that names it: what the store
// stores and reads.
type framedCodec struct {
	inner Codec
	name  string
	// header is codecHeader, the name and a NUL; empty for JSON.
	header []byte
}

var jsonFramed = &framedCodec{inner: JSON, name: jsonName}

// newFramedCodec frames c, nil meaning JSON, or reports a malformed name.
func newFramedCodec(c Codec) (*framedCodec, error) {
	if c == nil || c == JSON {
		return jsonFramed, nil
	}
	if f, ok := c.(*framedCodec); ok {
		// Another Cache's Codec(): framed already.
		return f, nil
	}
	name := c.Name()
	if msg := codecNameProblem(name); msg != "" {
		return nil, fmt.Errorf("%w: codec name %q %s", ErrInvalidConfig, name, msg)
	}
	f := &framedCodec{inner: c, name: name}
	if name != jsonName {
		f.header = append([]byte(codecHeader+name), 0)
	}
	return f, nil
}

func codecNameProblem(name string) string {
	if name == "" || len(name) > maxCodecName {
		return fmt.Sprintf("is not 1 to %d bytes long", maxCodecName)
	}
	for i := 0; i < len(name); i++ {
		switch b := name[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', bytes.IndexByte([]byte("-._/+"), b) >= 0:
		default:
			return "holds a byte other than an ASCII letter, a digit or one of -._/+"
		}
	}
	return ""
}

func (f *framedCodec) Name() string { return f.name }

// Marshal encodes v and puts the codec's header in front.
func (f *framedCodec) Marshal(v any) ([]byte, error) {
	b, err := f.inner.Marshal(v)
	if err != nil || f.header == nil {
		return b, err
	}
	out := make([]byte, len(f.header)+len(b))
	copy(out, f.header)
	copy(out[len(f.header):], b)
	return out, nil
}

// Unmarshal checks the header and decodes the rest into v.
func (f *framedCodec) Unmarshal(data []byte, v any) error {
	p, err := f.payload(data)
	if err != nil {
		return err
	}
	return f.inner.Unmarshal(p, v)
}

// payload returns the encoded bytes behind the header, or errWrongCodec
// naming the codec that wrote data.
func (f *framedCodec) payload(data []byte) ([]byte, error) {
	if f.header == nil {
		if bytes.HasPrefix(data, []byte(codecHeader)) {
			return nil, fmt.Errorf("%w %q, read as %q", errWrongCodec, writerOf(data), f.name)
		}
		return data, nil
	}
	if !bytes.HasPrefix(data, f.header) {
		return nil, fmt.Errorf("%w %q, read as %q", errWrongCodec, writerOf(data), f.name)
	}
	return data[len(f.header):], nil
}

// writerOf names the codec whose header starts data.
func writerOf(data []byte) string {
	rest, ok := bytes.CutPrefix(data, []byte(codecHeader))
	if !ok {
		return "json or none (no header)"
	}
	if i := bytes.IndexByte(rest, 0); i >= 0 && i <= maxCodecName {
		return string(rest[:i])
	}
	return "unknown"
}
