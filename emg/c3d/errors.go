package c3d

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every error Read returns about the file's
// content (as opposed to an error of the io.Reader): a truncated file, a
// header or parameter section that does not parse, sizes that do not fit the
// bytes present. The message says what is wrong and where.
var ErrMalformed = errors.New("malformed C3D file")

// malformed returns an error wrapping ErrMalformed.
func malformed(format string, args ...any) error {
	return fmt.Errorf("c3d: "+format+": %w", append(args, ErrMalformed)...)
}
