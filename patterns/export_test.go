package patterns

// NewPlaceholder is what a load writes into a missing key before it starts,
// for tests that play another process in the middle of a load.
func NewPlaceholder() []byte { return newPlaceholder() }
