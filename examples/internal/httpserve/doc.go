// Package httpserve is the start-up and shutdown the example programs
// share: listen, serve until the context ends, then shut down gracefully
// within a deadline, closing what is still open when it passes.
package httpserve
