package store

import (
	"context"
	"time"
)

// backend is what a Cache delegates to. Keys arrive already prefixed and
// validated, values already size-checked. Errors other than ErrNotFound mean
// the backend failed and count against the circuit breaker.
type backend interface {
	name() string
	// get returns the value, and whether it was served from process memory
	// without a round trip. The string may share memory with the backend's
	// own copy, which is safe because strings are immutable.
	get(ctx context.Context, key string) (value string, local bool, err error)
	set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	setNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	del(ctx context.Context, keys []string) (int64, error)
	delIfValue(ctx context.Context, key string, value []byte) (bool, error)
	exists(ctx context.Context, key string) (bool, error)
	ttl(ctx context.Context, key string) (time.Duration, error)
	getMany(ctx context.Context, keys []string) []rawResult
	setMany(ctx context.Context, items []Item) []error
	// scan calls fn with batches of keys matching the (already prefixed)
	// glob pattern, on every primary node; fn's error stops the scan.
	scan(ctx context.Context, match string, fn func(keys []string) error) error
	// deleteMatching removes every key matching the prefixed pattern.
	deleteMatching(ctx context.Context, match string) (int64, error)
	ping(ctx context.Context) error
	memory(ctx context.Context) (used, limit int64, err error)
	close() error
}

// Item is one entry of a SetMany call. TTL 0 means Config.DefaultTTL.
type Item struct {
	Key   string
	Value []byte
	TTL   time.Duration
}

// GetResult is one key's outcome of a GetMany call: its value, or
// ErrNotFound, or another error for that key alone.
type GetResult struct {
	// Value is the key's value, the caller's own copy; nil unless Err is nil.
	Value []byte
	// Local reports that the value came from process memory (the
	// client-side cache or the embedded backend) without a round trip.
	Local bool
	// Err is nil for a value, ErrNotFound for a key without one, and
	// otherwise why this key alone could not be read.
	Err error
}

// rawResult is one key's outcome inside a backend's getMany.
type rawResult struct {
	value string
	local bool
	err   error
}
