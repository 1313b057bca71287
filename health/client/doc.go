// Package client talks to the cache monitoring API that package health
// serves: Health, Stats, Dashboard and Invalidate, with typed results and
// typed errors.
//
// Requests are retried with exponential backoff and jitter on connection
// errors and 5xx answers (except 501), because those are what a restarting
// server or a proxy in between produce, and they pass. A 4xx is never
// retried: the same request would be refused the same way, and for 401 and
// 429 retrying would look like an attack or make the limit worse. Every call
// stops as soon as its context ends, including while waiting to retry.
//
// Health is the one call for which a 503 is an answer and not a failure:
// the server answers 503 with a health report when the backend is down.
// Health returns that report, with Healthy false and a nil error, at once;
// retrying would only delay the news, and a monitor wants it now. A 503
// without a JSON report, such as one from a proxy whose upstream is
// restarting, is retried like any other.
//
// Failures the caller can act on are *APIError values that match a
// sentinel with errors.Is: ErrUnauthorized (401), ErrForbidden (403),
// ErrBadRequest (400), ErrNotFound (404), ErrRateLimited (429) and
// ErrUnavailable (503).
package client
