package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/emgcache/emgcache/health/client"
)

// Exit statuses. Scripts branch on them, so they are part of the interface.
const (
	exitOK = 0
	// exitFailed is a definite negative answer: the backend is unhealthy,
	// or warm could not load every entry.
	exitFailed = 1
	// exitError means no answer was had: bad usage, an unreachable server,
	// or a request the server refused.
	exitError = 2
)

const (
	envServer      = "CACHECTL_SERVER"
	envToken       = "CACHE_ADMIN_TOKEN"
	defaultServer  = "http://localhost:8080"
	defaultTimeout = 30 * time.Second
)

const usageText = `cachectl talks to the cache monitoring API of an emgcache server.

Usage:
  cachectl [flags] <command> [command flags] [arguments]

Commands:
  health                  check the cache backend: backend, ping latency, breaker
  stats [-json]           hits, misses, hit rate, errors, memory, latency, breaker
  invalidate PATTERN      remove the keys matching a glob pattern (admin token)
  watch [-interval D] [-count N]
                          the stats, refreshed every D (2s) until Ctrl-C
  warm -file F [-concurrency N]
                          load the URLs, paths or file hashes listed in F
  help [command]          this text, or a command's flags

Flags (also accepted after the command):
  -server URL   the server (default $CACHECTL_SERVER, else http://localhost:8080)
  -token T      admin token for invalidate (default $CACHE_ADMIN_TOKEN)
  -timeout D    bound of one call to the server, retries included; for warm, of
                each GET (default 30s; 0 means none)

Exit status:
  0  success; for health, the backend is healthy
  1  health: the backend is unhealthy; warm: some entries were not loaded
  2  error: bad usage, the server could not be reached, or it refused the request

Examples:
  cachectl health
  cachectl -server http://emg.internal:8080 stats
  cachectl stats -json | jq .hit_rate
  CACHE_ADMIN_TOKEN=... cachectl invalidate 'emg_analysis:*'
  cachectl watch -interval 5s
  cachectl watch -count 1 > stats.log
  cachectl warm -file hot.txt -concurrency 8
`

// command is one subcommand.
type command struct {
	synopsis string
	help     string
	// bind registers the command's flags on fs, which already holds the
	// global ones, and returns the function that runs the command with
	// their values once fs is parsed.
	bind func(fs *flag.FlagSet) func(ctx context.Context, a *app, args []string) int
}

// commands is filled in init because the help command refers to it.
var commands map[string]command

func init() {
	commands = map[string]command{
		"health":     healthCommand,
		"stats":      statsCommand,
		"invalidate": invalidateCommand,
		"watch":      watchCommand,
		"warm":       warmCommand,
		"help": {
			synopsis: "help [command]",
			help:     "Prints the usage of cachectl or of one command.\n",
			bind: func(*flag.FlagSet) func(context.Context, *app, []string) int {
				return runHelp
			},
		},
	}
}

// app is what every command shares: the global settings and the output
// streams.
type app struct {
	server  string
	token   secret
	timeout time.Duration
	// stdin is what warm -file - reads.
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// secret is a flag value that never shows itself, so that usage texts do
// not print a token given earlier on the command line.
type secret string

func (s *secret) String() string     { return "" }
func (s *secret) Set(v string) error { *s = secret(v); return nil }

// run is the whole program but for the process: it parses args, runs the
// command until done or ctx ends, and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{timeout: defaultTimeout, stdin: os.Stdin, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("cachectl", flag.ContinueOnError)
	a.globalFlags(fs)
	args, code, ok := a.parse(fs, args, func(w io.Writer) { fmt.Fprint(w, usageText) })
	if !ok {
		return code
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitError
	}
	cmd, found := commands[args[0]]
	if !found {
		fmt.Fprintf(stderr, "cachectl: unknown command %q; run 'cachectl -h' for usage\n", args[0])
		return exitError
	}
	name := args[0]
	fs = flag.NewFlagSet("cachectl "+name, flag.ContinueOnError)
	a.globalFlags(fs)
	runCmd := cmd.bind(fs)
	args, code, ok = a.parse(fs, args[1:], func(w io.Writer) { commandUsage(w, fs, cmd) })
	if !ok {
		return code
	}
	if err := a.resolve(); err != nil {
		fmt.Fprintf(stderr, "cachectl %s: %v\n", name, err)
		return exitError
	}
	return runCmd(ctx, a, args)
}

func (a *app) globalFlags(fs *flag.FlagSet) {
	fs.StringVar(&a.server, "server", a.server, "server `URL` (default $"+envServer+", else "+defaultServer+")")
	fs.Var(&a.token, "token", "admin `token` for invalidate (default $"+envToken+")")
	fs.DurationVar(&a.timeout, "timeout", a.timeout, "bound of one call to the server, retries included; 0 means none")
}

// parse parses args with fs. -h prints the usage to stdout and is a
// success; any other mistake is explained on stderr. ok is false when the
// program must stop with code.
func (a *app) parse(fs *flag.FlagSet, args []string, usage func(io.Writer)) (rest []string, code int, ok bool) {
	// The flag package would print its errors and the usage to one stream;
	// help belongs on stdout and mistakes on stderr.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage(a.stdout)
		return nil, exitOK, false
	case err != nil:
		fmt.Fprintf(a.stderr, "%s: %v\nrun '%s -h' for usage\n", fs.Name(), err, fs.Name())
		return nil, exitError, false
	}
	return fs.Args(), 0, true
}

func commandUsage(w io.Writer, fs *flag.FlagSet, cmd command) {
	fmt.Fprintf(w, "Usage: cachectl %s\n\n%s\nFlags:\n", cmd.synopsis, cmd.help)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// resolve fills what the flags left unset from the environment. It runs
// after parsing, so that usage texts never show the token.
func (a *app) resolve() error {
	if a.server == "" {
		a.server = os.Getenv(envServer)
	}
	if a.server == "" {
		a.server = defaultServer
	}
	if a.token == "" {
		a.token = secret(os.Getenv(envToken))
	}
	if a.timeout < 0 {
		return fmt.Errorf("negative -timeout %s", a.timeout)
	}
	return nil
}

func runHelp(_ context.Context, a *app, args []string) int {
	switch len(args) {
	case 0:
		fmt.Fprint(a.stdout, usageText)
		return exitOK
	case 1:
		cmd, ok := commands[args[0]]
		if !ok {
			fmt.Fprintf(a.stderr, "cachectl help: unknown command %q\n", args[0])
			return exitError
		}
		fs := flag.NewFlagSet("cachectl "+args[0], flag.ContinueOnError)
		// The flags of a fresh app: a's are resolved by now, and would show
		// the server's default a second time as the flag's value.
		(&app{timeout: defaultTimeout}).globalFlags(fs)
		cmd.bind(fs)
		commandUsage(a.stdout, fs, cmd)
		return exitOK
	}
	fmt.Fprintln(a.stderr, "cachectl help: at most one command")
	return exitError
}

// client returns a client of the monitoring API. The caller must close its
// idle connections.
func (a *app) client() (*client.Client, error) {
	return client.New(a.server, client.Options{Token: string(a.token)})
}

// callContext bounds one call to the server by -timeout.
func (a *app) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if a.timeout == 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, a.timeout)
}

// fail explains err on stderr and returns exitError.
func (a *app) fail(name string, err error) int {
	fmt.Fprintf(a.stderr, "cachectl %s: %s\n", name, a.explain(err))
	return exitError
}

// explain turns the errors a user can act on into what to do about them;
// the client's own messages say what happened, not what to change.
func (a *app) explain(err error) string {
	if apiErr, ok := errors.AsType[*client.APIError](err); ok {
		switch {
		case errors.Is(err, client.ErrUnauthorized):
			return "admin token missing or wrong (set " + envToken + " or -token)"
		case errors.Is(err, client.ErrForbidden):
			return "invalidation is disabled on the server: it has no admin token configured"
		case errors.Is(err, client.ErrRateLimited):
			if apiErr.RetryAfter > 0 {
				return fmt.Sprintf("rate limited by the server: retry in %s", apiErr.RetryAfter)
			}
			return "rate limited by the server: retry later"
		case errors.Is(err, client.ErrNotFound):
			return fmt.Sprintf("no cache API at %s: check -server or $%s", a.server, envServer)
		case errors.Is(err, client.ErrUnavailable):
			return "the server or its cache is unavailable: " + apiErr.Message
		}
		return fmt.Sprintf("the server answered %d: %s", apiErr.Status, apiErr.Message)
	}
	// A *url.Error's text repeats the method and the endpoint's full URL;
	// its cause is the news.
	urlErr, isURLErr := errors.AsType[*url.Error](err)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		msg := fmt.Sprintf("no answer from %s within -timeout %s", a.server, a.timeout)
		// The client retries refused connections until the deadline; say so
		// rather than suggest a server that hangs.
		if isURLErr && !errors.Is(urlErr.Err, context.DeadlineExceeded) {
			msg += ": " + urlErr.Err.Error()
		}
		return msg
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case isURLErr:
		return fmt.Sprintf("cannot reach %s: %v", a.server, urlErr.Err)
	}
	return strings.TrimPrefix(err.Error(), "client: ")
}

// usageError reports a mistake in a command's arguments.
func (a *app) usageError(name, msg string) int {
	fmt.Fprintf(a.stderr, "cachectl %s: %s\nrun 'cachectl %s -h' for usage\n", name, msg, name)
	return exitError
}
