package store

import "errors"

var (
	// ErrNotFound means the key holds no value: it was never set, expired,
	// was deleted or evicted. It is a normal outcome, not a failure.
	ErrNotFound = errors.New("store: not found")

	// ErrTooLarge means a value is over Config.MaxEntryBytes. It is returned
	// before anything is sent, and nothing is stored.
	ErrTooLarge = errors.New("store: value too large")

	// ErrUnavailable means the backend could not serve the call: Redis is
	// down, slow, unreachable or not yet connected, or the circuit breaker is
	// open. Callers fall back to the origin.
	ErrUnavailable = errors.New("store: backend unavailable")

	// ErrInvalidKey means a key is empty, longer than MaxKeyBytes, or (for
	// the EMG key builders) not of the required form, such as a file hash
	// that is not a hex digest.
	ErrInvalidKey = errors.New("store: invalid key")

	// ErrInvalidPattern means a key pattern is empty, longer than
	// MaxPatternBytes or has an unbalanced '['. Nothing was scanned or
	// removed.
	ErrInvalidPattern = errors.New("store: invalid pattern")

	// ErrInvalidConfig means Open was given a configuration it cannot use,
	// such as a malformed URL or a negative limit.
	ErrInvalidConfig = errors.New("store: invalid config")

	// ErrClosed means the Cache was closed.
	ErrClosed = errors.New("store: closed")
)
