package store

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

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

	// ErrInvalidKey means a key (or a namespace) is empty or longer than
	// MaxKeyBytes.
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

// NodesError reports the primaries a multi-node call (DeletePattern, Scan)
// could not walk, each with its reason; the other primaries were walked.
// It matches ErrUnavailable with errors.Is.
type NodesError struct {
	// Op is the call: "delete-pattern" or "scan".
	Op string
	// Failed maps each node's address to why it was not (fully) walked.
	Failed map[string]error
}

func (e *NodesError) Error() string {
	addrs := make([]string, 0, len(e.Failed))
	for a := range e.Failed {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d node(s) not walked:", e.Op, len(addrs))
	for _, a := range addrs {
		fmt.Fprintf(&b, " %s (%v)", a, e.Failed[a])
	}
	return b.String()
}

// Is makes a NodesError match ErrUnavailable.
func (e *NodesError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap returns the nodes' errors.
func (e *NodesError) Unwrap() []error {
	out := make([]error, 0, len(e.Failed))
	for _, err := range e.Failed {
		out = append(out, err)
	}
	return out
}

// nodesErr is nil when no node failed.
func nodesErr(op string, failed map[string]error) error {
	if len(failed) == 0 {
		return nil
	}
	return &NodesError{Op: op, Failed: failed}
}
