// Package ratelog writes records of repeated failures to a *slog.Logger at
// a bounded rate: a Redis that is down fails every call, and one record a
// minute per operation, with the count of the failures it stands for, says
// as much as a record each without flooding the log.
package ratelog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Logger writes rate-limited records. A nil *Logger writes nothing, so that
// a caller configured without a *slog.Logger pays one nil check. It is safe
// for concurrent use; only the failure path takes its lock.
type Logger struct {
	log      *slog.Logger
	interval time.Duration

	// Now is the clock; tests of the packages that log set it.
	Now func() time.Time

	mu  sync.Mutex
	ops map[string]*count
}

type count struct {
	last       time.Time // of the last record written
	suppressed int       // failures since, not written
}

// New returns a Logger writing to log at most one record per operation
// every interval, or nil when log is nil.
func New(log *slog.Logger, interval time.Duration) *Logger {
	if log == nil {
		return nil
	}
	return &Logger{log: log, interval: interval, Now: time.Now, ops: make(map[string]*count)}
}

// Failed records that op failed with err, at level, with msg and attrs,
// unless op was recorded less than the interval ago; the next record of op
// carries "suppressed", the count of those left out. op names a kind of
// call, from a fixed set: it is the key of the rate limit, and it is
// written as the "op" attribute.
func (l *Logger) Failed(ctx context.Context, level slog.Level, op, msg string, err error, attrs ...slog.Attr) {
	if l == nil || !l.log.Enabled(ctx, level) {
		return
	}
	now := l.Now()
	l.mu.Lock()
	c := l.ops[op]
	if c == nil {
		c = &count{}
		l.ops[op] = c
	} else if now.Sub(c.last) < l.interval {
		c.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := c.suppressed
	c.last, c.suppressed = now, 0
	l.mu.Unlock()
	all := make([]slog.Attr, 0, 3+len(attrs))
	all = append(all, slog.String("op", op), slog.String("error", err.Error()))
	all = append(all, attrs...)
	all = append(all, slog.Int("suppressed", suppressed))
	l.log.LogAttrs(ctx, level, msg, all...)
}
