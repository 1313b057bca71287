package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/emgcache/emgcache/emg"
	"github.com/emgcache/emgcache/emgkey"
	"github.com/emgcache/emgcache/examples/internal/recordstore"
	"github.com/emgcache/emgcache/store"
)

// errBadRequest marks input the server itself rejects (a missing or
// malformed query parameter, a bad user id); the emg and store packages
// have sentinels of their own for theirs.
var errBadRequest = errors.New("bad request")

// errUnsupportedMedia marks an upload wrapped in a form or JSON instead
// of being the file itself.
var errUnsupportedMedia = errors.New("unsupported media type")

// badRequest returns an error wrapping errBadRequest whose message is the
// formatted text alone, since it is shown to the client.
func badRequest(format string, args ...any) error {
	return &clientError{msg: fmt.Sprintf(format, args...), err: errBadRequest}
}

// clientError is err with a message written for the client; errors.Is
// still sees err, which decides the status.
type clientError struct {
	msg string
	err error
}

func (e *clientError) Error() string { return e.msg }
func (e *clientError) Unwrap() error { return e.err }

// errorBody is the body of every error response.
type errorBody struct {
	Error string `json:"error"`
}

// statusOf maps an error to the status that answers it.
func statusOf(err error) int {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig), errors.Is(err, emg.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, recordstore.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, recordstore.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, errUnsupportedMedia):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, emg.ErrNoChannels):
		return http.StatusUnprocessableEntity
	case errors.Is(err, errBadRequest),
		errors.Is(err, store.ErrInvalidKey),
		errors.Is(err, emgkey.ErrInvalid),
		errors.Is(err, emg.ErrMalformed),
		errors.Is(err, emg.ErrEmptyRecording),
		errors.Is(err, emg.ErrBadSampleRate),
		errors.Is(err, emg.ErrBadOptions),
		errors.Is(err, recordstore.ErrBadPreferences):
		return http.StatusBadRequest
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// fail answers r with the status err maps to. The text of a 4xx error is
// the client's to read: it says what was wrong with the request. A 5xx
// error is logged and the client gets a generic message, since its text
// may describe the server's internals.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client is gone; nobody would read an answer.
		return
	}
	status := statusOf(err)
	msg := err.Error()
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "route", routeOf(r), "error", err)
		msg = http.StatusText(status)
	}
	writeError(w, status, msg)
}

// writeJSON answers with v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Every value answered is built from finite numbers and strings,
		// so this is a bug, and one to show rather than hide.
		status = http.StatusInternalServerError
		body, _ = json.Marshal(errorBody{Error: "encode response: " + err.Error()})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// writeError answers with {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}
