package store

import (
	"context"
	"log/slog"
	"time"
)

// FailureLogInterval is the least time between two records of failures of
// one operation in Config.Logger: a Redis that is down fails every call,
// and one record a minute with the count it stands for says as much as a
// record each.
const FailureLogInterval = time.Minute

// logFailure records in Config.Logger that op failed with err, unless op
// was recorded less than FailureLogInterval ago; the next record says how
// many were left out. Without a Logger it does nothing.
func (c *Cache) logFailure(op string, err error) {
	c.flog.Failed(context.Background(), slog.LevelWarn, op, "cache call failed", err)
}
