package main

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// isTerminal reports whether w is a terminal that understands ANSI escapes
// and carriage returns, so that views can be redrawn in place; written to a
// file or a pipe they would be noise. Tests replace it to see the terminal
// output.
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isatty.IsTerminal(f.Fd())
}

// ANSI escapes for redrawing a view in place. Going home and clearing each
// line's rest, instead of clearing the screen first, avoids a flicker on
// every refresh.
const (
	ansiClearScreen = "\x1b[2J"
	ansiHome        = "\x1b[H"
	ansiClearLine   = "\x1b[K"
	ansiClearBelow  = "\x1b[J"
)
