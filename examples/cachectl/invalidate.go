package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/emgcache/emgcache/health/client"
)

var invalidateCommand = command{
	synopsis: "invalidate PATTERN",
	help: `Removes every cache key matching the glob PATTERN (Redis rules: *, ?,
[abc], \ escapes; without the key prefix), for example 'emg_analysis:*' or
'emg_metadata:3a7b*'. Quote it, or the shell expands it. Needs the admin
token, from -token or $CACHE_ADMIN_TOKEN. The server allows a few calls at
once and then one every few seconds, because each one walks the whole
keyspace.
`,
	bind: func(*flag.FlagSet) func(context.Context, *app, []string) int {
		return runInvalidate
	},
}

func runInvalidate(ctx context.Context, a *app, args []string) int {
	if len(args) != 1 {
		return a.usageError("invalidate", "needs exactly one PATTERN")
	}
	pattern := args[0]
	c, err := a.client()
	if err != nil {
		return a.fail("invalidate", err)
	}
	defer c.CloseIdleConnections()
	ctx, cancel := a.callContext(ctx)
	defer cancel()
	inv, err := c.Invalidate(ctx, pattern)
	if apiErr, ok := errors.AsType[*client.APIError](err); ok && errors.Is(err, client.ErrBadRequest) {
		fmt.Fprintf(a.stderr, "cachectl invalidate: bad pattern %q: %s\n", pattern, apiErr.Message)
		return exitError
	}
	if err != nil {
		return a.fail("invalidate", err)
	}
	noun := "keys"
	if inv.Removed == 1 {
		noun = "key"
	}
	fmt.Fprintf(a.stdout, "removed %d %s matching %s\n", inv.Removed, noun, inv.Pattern)
	if inv.Note != "" {
		fmt.Fprintf(a.stderr, "cachectl invalidate: note: %s\n", inv.Note)
	}
	return exitOK
}
