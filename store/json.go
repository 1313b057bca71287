package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unsafe"
)

// ErrDecode means a cached value could not be decoded as JSON into the
// requested type. The error names the key. The entry is left in place.
var ErrDecode = errors.New("store: cached value is not valid JSON for the type")

// GetJSON reads key and decodes its JSON value into a T. A miss is
// ErrNotFound; a value that is not valid JSON for T is ErrDecode naming the
// key, never a panic.
func GetJSON[T any](ctx context.Context, c *Cache, key string) (T, error) {
	var v T
	s, err := c.GetString(ctx, key)
	if err != nil {
		return v, err
	}
	// Decoding reads the bytes and never writes them, so the immutable
	// cached string can be viewed as bytes without a copy.
	if err := json.Unmarshal(unsafe.Slice(unsafe.StringData(s), len(s)), &v); err != nil {
		return v, fmt.Errorf("%w: key %q: %w", ErrDecode, key, err)
	}
	return v, nil
}

// SetJSON encodes v as JSON and stores it under key for ttl (0:
// Config.DefaultTTL). A value that cannot be encoded is an error and nothing
// is stored.
func SetJSON(ctx context.Context, c *Cache, key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", key, err)
	}
	return c.Set(ctx, key, b, ttl)
}
