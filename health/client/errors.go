package client

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

var (
	// ErrBadRequest means the server refused the request as malformed: for
	// Invalidate, a missing, empty or invalid pattern. The same request
	// cannot succeed.
	ErrBadRequest = errors.New("client: bad request")

	// ErrUnauthorized means the admin token was missing or wrong.
	ErrUnauthorized = errors.New("client: unauthorized")

	// ErrForbidden means invalidation is disabled on the server, because it
	// has no admin token configured; no token can help.
	ErrForbidden = errors.New("client: forbidden")

	// ErrNotFound means there is no such endpoint: the base URL or the path
	// prefix is wrong.
	ErrNotFound = errors.New("client: not found")

	// ErrRateLimited means the server refused the call because it came too
	// soon after others; APIError.RetryAfter says when to try again.
	ErrRateLimited = errors.New("client: rate limited")

	// ErrUnavailable means the server or its cache backend could not serve
	// the call, still after the retries.
	ErrUnavailable = errors.New("client: unavailable")
)

// APIError is an answer of the server with an error status.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Message is the server's explanation (the "error" field of its JSON
	// body), or the status text when the body held none.
	Message string
	// RetryAfter is the server's Retry-After, when it sent one (429).
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	return fmt.Sprintf("cache api: %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Is makes errors.Is(err, ErrUnauthorized) and the other sentinels work on
// an *APIError with the matching status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.Status == http.StatusBadRequest
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrUnavailable:
		return e.Status == http.StatusServiceUnavailable
	}
	return false
}
