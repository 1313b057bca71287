package msgpack

import (
	"bytes"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/emgcache/emgcache/store"
)

// Codec is a store.Codec for MessagePack (github.com/vmihailenco/msgpack/v5).
// Its zero value names struct fields as that package does: by their msgpack
// tag, else by the Go field name. It is safe for concurrent use.
type Codec struct {
	// JSONTags names the fields that have no msgpack tag by their json tag,
	// so that types written for encoding/json keep their field names and
	// omitempty, "-" and the rest of their tags. Its bytes differ from the
	// zero Codec's for such types, so it has a name of its own.
	JSONTags bool
}

var _ store.Codec = Codec{}

// Names of the codecs, stored with their values.
const (
	Name         = "msgpack"
	NameJSONTags = "msgpack/json-tags"
)

// Name is Name, or NameJSONTags with JSONTags.
func (c Codec) Name() string {
	if c.JSONTags {
		return NameJSONTags
	}
	return Name
}

// Marshal encodes v as MessagePack.
func (c Codec) Marshal(v any) ([]byte, error) {
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	var buf bytes.Buffer
	enc.Reset(&buf)
	if c.JSONTags {
		enc.SetCustomStructTag("json")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Unmarshal decodes the MessagePack in data into v. It neither keeps data
// nor writes into it, as store.Codec requires.
func (c Codec) Unmarshal(data []byte, v any) error {
	dec := msgpack.GetDecoder()
	defer msgpack.PutDecoder(dec)
	dec.Reset(bytes.NewReader(data))
	dec.UsePreallocateValues(true)
	if c.JSONTags {
		dec.SetCustomStructTag("json")
	}
	return dec.Decode(v)
}
