package main

import (
	"context"
	"flag"
	"fmt"
)

var healthCommand = command{
	synopsis: "health",
	help: `Pings the cache backend through the server and prints the backend, the
ping's latency and the circuit breaker's state. Exits 0 when the backend is
healthy, 1 when it is not, 2 when the server gave no report.
`,
	bind: func(*flag.FlagSet) func(context.Context, *app, []string) int {
		return runHealth
	},
}

func runHealth(ctx context.Context, a *app, args []string) int {
	if len(args) > 0 {
		return a.usageError("health", "takes no arguments")
	}
	c, err := a.client()
	if err != nil {
		return a.fail("health", err)
	}
	defer c.CloseIdleConnections()
	ctx, cancel := a.callContext(ctx)
	defer cancel()
	h, err := c.Health(ctx)
	if err != nil {
		return a.fail("health", err)
	}
	status := "healthy"
	if !h.Healthy {
		status = "unhealthy"
	}
	value, unit := latency(h.Latency)
	rows := []row{
		{"status", status, ""},
		{"backend", h.Backend, ""},
		{"latency", value, unit},
		{"breaker", string(h.Breaker), ""},
	}
	if err := writeTable(a.stdout, rows); err != nil {
		return a.fail("health", err)
	}
	// Outside the table: a long message would push every value right.
	if h.Error != "" {
		fmt.Fprintf(a.stdout, "error: %s\n", h.Error)
	}
	if !h.Healthy {
		return exitFailed
	}
	return exitOK
}
