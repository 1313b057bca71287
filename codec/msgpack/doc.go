// Package msgpack is a MessagePack codec for emgcache's store: set it as
// store.Config.Codec and store.GetValue, store.SetValue and the patterns
// package read and write MessagePack instead of JSON, which for a typical
// struct is several times faster to decode and smaller on the wire.
//
// It is a module of its own so that the store does not require a
// MessagePack library; the store stores the codec's name with each value,
// so a Cache using another codec (JSON by default) gets store.ErrDecode
// for these values instead of misreading them. Every process that shares
// keys must use the same codec.
package msgpack
