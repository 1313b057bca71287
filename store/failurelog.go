package store

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// FailureLogInterval is the least time between two records of failures of
// one operation in Config.Logger: a Redis that is down fails every call,
// and one record a minute with the count it stands for says as much as a
// record each.
const FailureLogInterval = time.Minute

// failureLog writes the rate-limited records of Config.Logger. Only the
// failure path takes its lock.
type failureLog struct {
	log *slog.Logger
	now func() time.Time

	mu  sync.Mutex
	ops map[string]*failureCount
}

type failureCount struct {
	last       time.Time // of the last record written
	suppressed int       // failures since, not written
}

func newFailureLog(log *slog.Logger) *failureLog {
	if log == nil {
		return nil
	}
	return &failureLog{log: log, now: time.Now, ops: make(map[string]*failureCount)}
}

// failed records that op failed with err, unless op was recorded less than
// FailureLogInterval ago; the next record says how many were left out.
func (l *failureLog) failed(op string, err error) {
	if l == nil {
		return
	}
	now := l.now()
	l.mu.Lock()
	fc := l.ops[op]
	if fc == nil {
		fc = &failureCount{}
		l.ops[op] = fc
	} else if now.Sub(fc.last) < FailureLogInterval {
		fc.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := fc.suppressed
	fc.last, fc.suppressed = now, 0
	l.mu.Unlock()
	l.log.LogAttrs(context.Background(), slog.LevelWarn, "cache call failed",
		slog.String("op", op), slog.String("error", err.Error()), slog.Int("suppressed", suppressed))
}
