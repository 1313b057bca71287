package client

import (
	"context"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// unhealthyAnswerKey marks a request for which a 503 with a JSON body is
// the answer "unhealthy" rather than a failure to retry.
type unhealthyAnswerKey struct{}

func withUnhealthyAnswer(ctx context.Context) context.Context {
	return context.WithValue(ctx, unhealthyAnswerKey{}, true)
}

// checkRetry retries connection errors and 5xx answers but 501, and never a
// 4xx: unlike retryablehttp's default policy it does not retry 429, because
// hammering a rate limit only extends it. It stops when the context ends.
func checkRetry(ctx context.Context, res *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		// The default policy knows which transport errors are permanent
		// (bad scheme, untrusted certificate, redirect loops).
		return retryablehttp.DefaultRetryPolicy(ctx, res, err)
	}
	switch {
	case res.StatusCode == http.StatusServiceUnavailable && ctx.Value(unhealthyAnswerKey{}) != nil && isJSON(res):
		return false, nil
	case res.StatusCode == http.StatusNotImplemented:
		return false, nil
	case res.StatusCode == 0 || res.StatusCode >= 500:
		return true, nil
	}
	return false, nil
}

// backoff is retryablehttp's exponential backoff, which also honours a
// Retry-After on 503, capped at maxWait so that a server asking for an hour
// cannot stall the caller, and jittered so that clients that failed together
// do not retry together.
func backoff(minWait, maxWait time.Duration, attempt int, res *http.Response) time.Duration {
	d := min(retryablehttp.DefaultBackoff(minWait, maxWait, attempt, res), maxWait)
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}
