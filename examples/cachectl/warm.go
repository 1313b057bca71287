package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/emgcache/emgcache/emgkey"
)

// defaultWarmConcurrency keeps warming from crowding out real users: the
// analyses it triggers are the server's most expensive requests.
const defaultWarmConcurrency = 4

// analysisPath is where a bare file hash is fetched, the endpoint whose
// answers are the costliest to compute and so the most worth warming.
const analysisPath = "/api/emg/analysis/"

// maxWarmErrors bounds how many bad lines of a file are reported at once.
const maxWarmErrors = 10

// maxListedFailures bounds the failures repeated in the summary.
const maxListedFailures = 10

var warmCommand = command{
	synopsis: "warm -file F [-concurrency N]",
	help: `Loads entries into the cache by requesting them from the server, so that
the first users after a deploy or an invalidation do not wait. Each line of
F is one entry:

  a URL                 http://emg.internal:8080/api/emg/analysis/3a7b...
  a path on -server     /api/emg/analysis/3a7b...
  a file hash (hex)     3a7b...   fetched as /api/emg/analysis/HASH

optionally followed by a priority, an integer; higher priorities load
first, equal ones in file order. Blank lines and # comments are ignored;
an entry listed twice is loaded once. Every GET must answer 2xx. Exits 1
when an entry failed or was not attempted because of Ctrl-C.

Example file:

  # today's recordings first
  3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b  10
  /api/emg/analysis/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
  http://localhost:8080/api/cache/stats   -1
`,
	bind: func(fs *flag.FlagSet) func(context.Context, *app, []string) int {
		file := fs.String("file", "", "the `file` of entries to load; - reads stdin")
		conc := fs.Int("concurrency", defaultWarmConcurrency, "how many GETs run at once")
		return func(ctx context.Context, a *app, args []string) int {
			return runWarm(ctx, a, args, *file, *conc)
		}
	},
}

// warmEntry is one line of a warm file.
type warmEntry struct {
	line     int
	url      string
	priority int
}

func runWarm(ctx context.Context, a *app, args []string, file string, concurrency int) int {
	switch {
	case len(args) > 0:
		return a.usageError("warm", "takes no arguments; name the file with -file")
	case file == "":
		return a.usageError("warm", "-file is required")
	case concurrency < 1:
		return a.usageError("warm", "-concurrency must be at least 1")
	}
	entries, err := readWarmFile(file, a.server, a.stdin)
	if err != nil {
		fmt.Fprintf(a.stderr, "cachectl warm: %v\n", err)
		return exitError
	}
	if len(entries) == 0 {
		fmt.Fprintf(a.stdout, "nothing to warm: %s lists no entries\n", file)
		return exitOK
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Without this, all but two of the workers would open a new connection
	// for every request.
	transport.MaxIdleConnsPerHost = concurrency
	defer transport.CloseIdleConnections()
	w := &warmer{a: a, http: &http.Client{Transport: transport}}
	sum := w.warm(ctx, entries, concurrency)
	sum.write(a.stdout)
	if sum.failed > 0 || sum.skipped > 0 {
		return exitFailed
	}
	return exitOK
}

func readWarmFile(name, server string, stdin io.Reader) ([]warmEntry, error) {
	if name == "-" {
		entries, err := parseWarmFile(stdin, server)
		if err != nil {
			return nil, fmt.Errorf("stdin: %w", err)
		}
		return entries, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read entries: %w", err)
	}
	defer f.Close()
	entries, err := parseWarmFile(f, server)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return entries, nil
}

// parseWarmFile reads the entries of r, resolving paths and hashes against
// server, and returns them in the order to load them: by priority, highest
// first, then by line, without duplicates. It reports up to maxWarmErrors
// bad lines at once, so that a file with several mistakes is not fixed one
// run at a time.
func parseWarmFile(r io.Reader, server string) ([]warmEntry, error) {
	var entries []warmEntry
	var errs []error
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		e, ok, err := parseWarmLine(sc.Text(), server)
		switch {
		case err != nil:
			if len(errs) < maxWarmErrors {
				errs = append(errs, fmt.Errorf("line %d: %w", n, err))
			}
		case ok:
			e.line = n
			entries = append(entries, e)
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("read entries: %w", err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortStableFunc(entries, func(x, y warmEntry) int { return cmp.Compare(y.priority, x.priority) })
	seen := make(map[string]bool, len(entries))
	return slices.DeleteFunc(entries, func(e warmEntry) bool {
		dup := seen[e.url]
		seen[e.url] = true
		return dup
	}), nil
}

// parseWarmLine parses one line; ok is false for a blank or comment line.
func parseWarmLine(line, server string) (e warmEntry, ok bool, err error) {
	// A # starts a comment at the start of a line or after a blank; inside
	// a field it may be a URL's fragment.
	fields := strings.Fields(line)
	for i, f := range fields {
		if strings.HasPrefix(f, "#") {
			fields = fields[:i]
			break
		}
	}
	switch len(fields) {
	case 0:
		return warmEntry{}, false, nil
	case 1:
	case 2:
		e.priority, err = strconv.Atoi(fields[1])
		if err != nil {
			return warmEntry{}, false, fmt.Errorf("priority %q is not an integer", fields[1])
		}
	default:
		return warmEntry{}, false, fmt.Errorf("%d fields; want an entry and an optional priority", len(fields))
	}
	e.url, err = entryURL(fields[0], server)
	if err != nil {
		return warmEntry{}, false, err
	}
	return e, true, nil
}

// entryURL turns an entry into the URL to GET.
func entryURL(entry, server string) (string, error) {
	var raw string
	switch {
	case strings.Contains(entry, "://"):
		raw = entry
	case strings.Contains(entry, "/"):
		// Joined as text rather than resolved as a reference, so that a
		// server behind a proxy at http://host/emg keeps its path.
		raw = strings.TrimRight(server, "/") + "/" + strings.TrimLeft(entry, "/")
	default:
		hash, err := emgkey.FileHash(entry)
		if err != nil {
			return "", fmt.Errorf("%q is neither a URL, a path (with a /) nor a hex file hash", entry)
		}
		raw = strings.TrimRight(server, "/") + analysisPath + hash
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("entry %q: %w", entry, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("entry %q: not an http or https URL", entry)
	}
	return u.String(), nil
}

// warmer issues the GETs of a warm run.
type warmer struct {
	a    *app
	http *http.Client
}

// warmResult is the outcome of one entry.
type warmResult struct {
	entry warmEntry
	// cached is true when the server said it answered from the cache: the
	// entry was warm already.
	cached bool
	// skipped is true when Ctrl-C came before the entry was loaded.
	skipped bool
	err     error
}

// warmSummary counts the outcomes of a run.
type warmSummary struct {
	total, loaded, cached, failed, skipped int
	failures                               []warmResult
}

// warm loads entries with at most concurrency GETs at once. The entries are
// handed out in order, so with concurrency 1 they load exactly in priority
// order. It returns when every entry is done or ctx ends.
func (w *warmer) warm(ctx context.Context, entries []warmEntry, concurrency int) warmSummary {
	jobs := make(chan warmEntry)
	results := make(chan warmResult)
	var wg sync.WaitGroup
	for range min(concurrency, len(entries)) {
		wg.Go(func() {
			for e := range jobs {
				results <- w.fetch(ctx, e)
			}
		})
	}
	go func() {
		defer close(jobs)
		for _, e := range entries {
			select {
			case jobs <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()

	sum := warmSummary{total: len(entries)}
	bar := newProgress(w.a.stderr, isTerminal(w.a.stderr), len(entries))
	done := 0
	for r := range results {
		done++
		switch {
		case r.skipped:
			sum.skipped++
		case r.err != nil:
			sum.failed++
			sum.failures = append(sum.failures, r)
			bar.println(fmt.Sprintf("failed: %s: %v", r.entry.url, r.err))
		default:
			sum.loaded++
			if r.cached {
				sum.cached++
			}
		}
		bar.draw(done, sum.loaded, sum.failed)
	}
	bar.finish(done, sum.loaded, sum.failed)
	// Listed in file order, not in the order they happened to finish.
	slices.SortFunc(sum.failures, func(x, y warmResult) int { return cmp.Compare(x.entry.line, y.entry.line) })
	// Entries never handed out because ctx ended.
	sum.skipped += len(entries) - done
	return sum
}

// fetch GETs one entry and reads the whole answer: the server may store it
// only once it has been sent in full.
func (w *warmer) fetch(ctx context.Context, e warmEntry) warmResult {
	r := warmResult{entry: e}
	if ctx.Err() != nil {
		r.skipped = true
		return r
	}
	callCtx, cancel := w.a.callContext(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, http.MethodGet, e.url, nil)
	if err != nil {
		r.err = err
		return r
	}
	req.Header.Set("User-Agent", "cachectl")
	res, err := w.http.Do(req)
	if urlErr, ok := errors.AsType[*url.Error](err); ok {
		// Its text repeats the method and the URL, which the report shows.
		err = urlErr.Err
	}
	if err == nil {
		_, err = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
	}
	switch {
	case err != nil && ctx.Err() != nil:
		r.skipped = true
	case errors.Is(err, context.DeadlineExceeded):
		r.err = fmt.Errorf("no answer within -timeout %s", w.a.timeout)
	case err != nil:
		r.err = err
	case res.StatusCode < 200 || res.StatusCode > 299:
		r.err = errors.New("HTTP " + res.Status)
	default:
		r.cached = cacheHit(res.Header.Get("Cache-Status"))
	}
	return r
}

// cacheHit reports whether a Cache-Status header (RFC 9211), such as
// "emgcache; hit; ttl=42", says the answer came from a cache.
func cacheHit(status string) bool {
	for param := range strings.SplitSeq(status, ";") {
		if strings.TrimSpace(param) == "hit" {
			return true
		}
	}
	return false
}

func (s warmSummary) write(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "warmed %d of %d entries: %d loaded", s.loaded, s.total, s.loaded)
	if s.cached > 0 {
		fmt.Fprintf(&b, " (%d already cached)", s.cached)
	}
	fmt.Fprintf(&b, ", %d failed", s.failed)
	if s.skipped > 0 {
		fmt.Fprintf(&b, ", %d not attempted (interrupted)", s.skipped)
	}
	b.WriteByte('\n')
	for i, f := range s.failures {
		if i == maxListedFailures {
			fmt.Fprintf(&b, "  ... and %d more\n", len(s.failures)-i)
			break
		}
		fmt.Fprintf(&b, "  line %d: %s: %v\n", f.entry.line, f.entry.url, f.err)
	}
	_, _ = io.WriteString(w, b.String())
}
