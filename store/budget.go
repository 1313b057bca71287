package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// A per-request cache budget bounds the total time one request spends
// waiting on the cache, over all its calls, so that a stalled Redis costs a
// request one timeout rather than one per call.

type budgetKey struct{}

// budget is the waiting time a request has left, in nanoseconds.
type budget struct{ left atomic.Int64 }

// errBudgetSpent is returned, without a round trip, by calls made under a
// context whose cache budget is spent, and by a call cut short by it. It
// says nothing about Redis' health, so no breaker counts it.
var errBudgetSpent = fmt.Errorf("%w: the request's cache budget is spent", ErrUnavailable)

// WithBudget returns a context under which the cache calls of this package
// together wait at most d: each call is bounded by the smaller of
// OpTimeout and what is left, and once nothing is left calls fail at once
// with an error matching ErrUnavailable (and counted by no breaker). Values
// served from process memory cost nothing. The new budget replaces any that
// ctx carries (work that outlives its request, such as a background
// refresh, gets its own this way); layers that only want a budget where
// there is none check BudgetLeft first. d <= 0 returns ctx unchanged. The
// budget is safe for the concurrent calls of one request.
//
// Walks of the keyspace (Scan, DeletePattern) are not bounded by it.
func WithBudget(ctx context.Context, d time.Duration) context.Context {
	if d <= 0 {
		return ctx
	}
	b := &budget{}
	b.left.Store(int64(d))
	return context.WithValue(ctx, budgetKey{}, b)
}

// BudgetLeft returns the cache budget left under ctx, and false when ctx
// carries none.
func BudgetLeft(ctx context.Context) (time.Duration, bool) {
	b, _ := ctx.Value(budgetKey{}).(*budget)
	if b == nil {
		return 0, false
	}
	return max(time.Duration(b.left.Load()), 0), true
}

// bound bounds one call by d (OpTimeout or a batch's) and by ctx's budget.
// finish must be called with the call's error (for a batch, with each
// result's): the first call ends the bounded context and charges the time
// waited to the budget; every call returns the error as the caller should
// see it. err is errBudgetSpent, and nothing may be sent,
// when the budget is already spent.
func bound(ctx context.Context, d time.Duration) (bctx context.Context, finish func(error) error, err error) {
	b, _ := ctx.Value(budgetKey{}).(*budget)
	limited := false
	if b != nil {
		left := time.Duration(b.left.Load())
		if left <= 0 {
			return ctx, nil, errBudgetSpent
		}
		if left < d {
			d, limited = left, true
		}
	}
	bctx, cancel := boundCtx(ctx, d)
	start := time.Now()
	var once sync.Once
	return bctx, func(err error) error {
		// A batch finishes once per result; the wait is charged once.
		once.Do(func() {
			cancel()
			if b != nil {
				b.left.Add(-int64(time.Since(start)))
			}
		})
		if limited && err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return errBudgetSpent
		}
		return err
	}, nil
}
