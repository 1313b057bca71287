package store

import (
	"context"
	"log/slog"
	"time"

	"github.com/emgcache/emgcache/internal/ratelog"
)

// FailureLogInterval is the least time between two records of failures of
// one operation in Config.Logger: a Redis that is down fails every call,
// and one record a minute with the count it stands for says as much as a
// record each.
const FailureLogInterval = time.Minute

// failureLog writes the rate-limited records of Config.Logger; nil without
// one.
type failureLog struct{ rl *ratelog.Logger }

func newFailureLog(log *slog.Logger) *failureLog {
	rl := ratelog.New(log, FailureLogInterval)
	if rl == nil {
		return nil
	}
	return &failureLog{rl: rl}
}

// failed records that op failed with err, unless op was recorded less than
// FailureLogInterval ago; the next record says how many were left out.
func (l *failureLog) failed(op string, err error) {
	if l == nil {
		return
	}
	l.rl.Failed(context.Background(), slog.LevelWarn, op, "cache call failed", err)
}
