package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
)

// Defaults applied by New to zero fields of Options.
const (
	// DefaultPathPrefix is where package health mounts the API.
	DefaultPathPrefix = "/api/cache/"
	// DefaultRetryMax is how many times a failed request is retried: with
	// the default waits, five attempts spread over at most three seconds,
	// long enough to ride out a server restart and short enough for a
	// monitor that polls.
	DefaultRetryMax = 4
	// DefaultRetryWaitMin is the first backoff; it doubles with every retry
	// and is jittered down to half.
	DefaultRetryWaitMin = 200 * time.Millisecond
	// DefaultRetryWaitMax caps one backoff, including one the server asks
	// for with Retry-After.
	DefaultRetryWaitMax = 2 * time.Second
	// DefaultAttemptTimeout bounds one attempt, so that a server that
	// accepts the connection and never answers is retried rather than
	// waited for until the caller's deadline.
	DefaultAttemptTimeout = 10 * time.Second
)

// maxBodyBytes bounds what is read of a response. A dashboard is a few
// kilobytes; anything near this is not the API talking.
const maxBodyBytes = 4 << 20

// Options configures a Client. Its zero value means the defaults.
type Options struct {
	// Token is the admin token Invalidate sends as "Authorization: Bearer".
	// The other calls never send it.
	Token string

	// PathPrefix is where the API is mounted on the server. Empty means
	// DefaultPathPrefix.
	PathPrefix string

	// HTTPClient makes the requests. Nil means a client of its own with
	// pooled connections and DefaultAttemptTimeout per attempt.
	HTTPClient *http.Client

	// RetryMax is how many times a failed request is retried. Zero means
	// DefaultRetryMax; negative means never.
	RetryMax int

	// RetryWaitMin and RetryWaitMax bound the exponential backoff between
	// attempts. Zero means DefaultRetryWaitMin and DefaultRetryWaitMax.
	RetryWaitMin, RetryWaitMax time.Duration

	// Logger receives a record for each retry. Nil means no logging.
	Logger *slog.Logger
}

// Client calls the cache monitoring API of one server. It is safe for
// concurrent use.
type Client struct {
	base  *url.URL
	token string
	http  *retryablehttp.Client
}

// New returns a client for the server at baseURL, such as
// "http://localhost:8080". It fails only if baseURL is not an absolute http
// or https URL.
func New(baseURL string, opts Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("client: base url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("client: base url %q: scheme must be http or https", baseURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("client: base url %q: no host", baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("client: base url %q: must have no query or fragment", baseURL)
	}
	if opts.RetryWaitMin < 0 || opts.RetryWaitMax < 0 {
		return nil, errors.New("client: negative retry wait")
	}
	prefix := opts.PathPrefix
	if prefix == "" {
		prefix = DefaultPathPrefix
	}
	u = u.JoinPath(prefix)

	rc := &retryablehttp.Client{
		HTTPClient:   opts.HTTPClient,
		RetryMax:     opts.RetryMax,
		RetryWaitMin: opts.RetryWaitMin,
		RetryWaitMax: opts.RetryWaitMax,
		CheckRetry:   checkRetry,
		Backoff:      backoff,
		// Keep the last response, so that its status and message become an
		// *APIError instead of retryablehttp's "giving up" text.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	if rc.HTTPClient == nil {
		rc.HTTPClient = cleanhttp.DefaultPooledClient()
		rc.HTTPClient.Timeout = DefaultAttemptTimeout
	}
	switch {
	case rc.RetryMax == 0:
		rc.RetryMax = DefaultRetryMax
	case rc.RetryMax < 0:
		rc.RetryMax = 0
	}
	if rc.RetryWaitMin == 0 {
		rc.RetryWaitMin = DefaultRetryWaitMin
	}
	if rc.RetryWaitMax == 0 {
		rc.RetryWaitMax = DefaultRetryWaitMax
	}
	rc.RetryWaitMax = max(rc.RetryWaitMax, rc.RetryWaitMin)
	// A nil *slog.Logger stored in the interface field would be called.
	if opts.Logger != nil {
		rc.Logger = opts.Logger
	}
	return &Client{base: u, token: opts.Token, http: rc}, nil
}

// Health checks the cache backend. A 503 with a health report is an
// answer, not a failure: Health returns it at once, with Healthy false and a
// nil error. The error is for when no report could be had.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	res, err := c.send(withUnhealthyAnswer(ctx), http.MethodGet, "health", nil, false)
	if err != nil {
		return h, fmt.Errorf("health: %w", err)
	}
	if res.StatusCode == http.StatusServiceUnavailable && isJSON(res) {
		err = decodeUnhealthy(res, &h)
	} else {
		err = decodeResult(res, &h)
	}
	if err != nil {
		return Health{}, fmt.Errorf("health: %w", err)
	}
	return h, nil
}

// decodeUnhealthy decodes the health report of a 503. A JSON body without
// the healthy field is not a report but an error from something else, such
// as a proxy, and becomes an *APIError.
func decodeUnhealthy(res *http.Response, h *Health) error {
	defer drain(res)
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBodyBytes))
	if err != nil {
		return fmt.Errorf("read %d response: %w", res.StatusCode, err)
	}
	var probe struct {
		Healthy *bool  `json:"healthy"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(body, &probe) != nil || probe.Healthy == nil {
		e := &APIError{Status: res.StatusCode, Message: http.StatusText(res.StatusCode)}
		if probe.Error != "" {
			e.Message = probe.Error
		}
		return e
	}
	if err := json.Unmarshal(body, h); err != nil {
		return fmt.Errorf("decode %d response: %w", res.StatusCode, err)
	}
	return nil
}

// Stats returns what the cache counted since it opened.
func (c *Client) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	if err := c.get(ctx, "stats", &s); err != nil {
		return Stats{}, fmt.Errorf("stats: %w", err)
	}
	return s, nil
}

// Dashboard returns health, stats and configuration taken together.
func (c *Client) Dashboard(ctx context.Context) (Dashboard, error) {
	var d Dashboard
	if err := c.get(ctx, "dashboard", &d); err != nil {
		return Dashboard{}, fmt.Errorf("dashboard: %w", err)
	}
	return d, nil
}

// Invalidate removes every key of the cache matching the glob pattern and
// reports how many went. It sends Options.Token. It is retried like the
// other calls: removing the same keys twice is harmless.
func (c *Client) Invalidate(ctx context.Context, pattern string) (Invalidation, error) {
	var inv Invalidation
	res, err := c.send(ctx, http.MethodPost, "invalidate", url.Values{"pattern": {pattern}}, true)
	if err == nil {
		err = decodeResult(res, &inv)
	}
	if err != nil {
		return Invalidation{}, fmt.Errorf("invalidate %q: %w", pattern, err)
	}
	return inv, nil
}

// CloseIdleConnections closes the pooled connections not in use, for
// programs that are done with the client.
func (c *Client) CloseIdleConnections() { c.http.HTTPClient.CloseIdleConnections() }

func (c *Client) get(ctx context.Context, endpoint string, out any) error {
	res, err := c.send(ctx, http.MethodGet, endpoint, nil, false)
	if err != nil {
		return err
	}
	return decodeResult(res, out)
}

// send makes the request with retries and returns the last response; the
// caller must close its body (the decode functions do).
func (c *Client) send(ctx context.Context, method, endpoint string, query url.Values, auth bool) (*http.Response, error) {
	u := c.base.JoinPath(endpoint)
	u.RawQuery = query.Encode()
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "emgcache-health-client")
	if auth && c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		// A context error wins over the transport's version of it.
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
		return nil, err
	}
	return res, nil
}

// decodeResult decodes a 2xx body into out and turns anything else into an
// *APIError.
func decodeResult(res *http.Response, out any) error {
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return apiError(res)
	}
	return decodeBody(res, out)
}

func decodeBody(res *http.Response, out any) error {
	defer drain(res)
	if err := json.NewDecoder(io.LimitReader(res.Body, maxBodyBytes)).Decode(out); err != nil {
		return fmt.Errorf("decode %d response: %w", res.StatusCode, err)
	}
	return nil
}

func apiError(res *http.Response) error {
	defer drain(res)
	e := &APIError{Status: res.StatusCode, Message: http.StatusText(res.StatusCode)}
	if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && secs >= 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	var body struct {
		Error string `json:"error"`
	}
	if isJSON(res) && json.NewDecoder(io.LimitReader(res.Body, maxBodyBytes)).Decode(&body) == nil && body.Error != "" {
		e.Message = body.Error
	}
	return e
}

// drain reads what is left of the body so that the connection can be
// reused, and closes it.
func drain(res *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxBodyBytes))
	_ = res.Body.Close()
}

func isJSON(res *http.Response) bool {
	return strings.HasPrefix(res.Header.Get("Content-Type"), "application/json")
}
