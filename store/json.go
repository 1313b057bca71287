package store

import (
	"context"
	"errors"
	"time"
)

// ErrDecode means a cached value could not be decoded into the requested
// type: it is not valid for the type, or another codec wrote it. The error
// names the key. The entry is left in place.
var ErrDecode = errors.New("store: cached value does not decode into the type")

// GetJSON is GetValue with the JSON codec, whatever Config.Codec says: it
// reads key and decodes its JSON value into a T. A miss is ErrNotFound; a
// value that is not valid JSON for T (or that another codec wrote) is
// ErrDecode naming the key, never a panic.
//
// Like GetValue's, the value is decoded once per stored version of the key
// and shared by every read of that version: callers must not modify it
// (see GetValue for the contract, and Cloner for types that need copies).
func GetJSON[T any](ctx context.Context, c *Cache, key string) (T, error) {
	return getDecoded[T](ctx, c, jsonFramed, key)
}

// SetJSON encodes v as JSON and stores it under key for ttl (0:
// Config.DefaultTTL). A value that cannot be encoded is an error and nothing
// is stored.
func SetJSON(ctx context.Context, c *Cache, key string, v any, ttl time.Duration) error {
	return setEncoded(ctx, c, jsonFramed, key, v, ttl)
}
