package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/redis/rueidis"
	"github.com/sony/gobreaker/v2"
)

// BreakerState is the circuit breaker's state as reported by Stats and
// Health: "closed" (calls go to Redis), "open" (calls fail fast with
// ErrUnavailable) or "half-open" (a probe is allowed through).
type BreakerState string

// Breaker states.
const (
	BreakerClosed   BreakerState = "closed"
	BreakerOpen     BreakerState = "open"
	BreakerHalfOpen BreakerState = "half-open"
)

// breaker wraps gobreaker's two-step breaker with an atomic copy of its
// state, so that reads served from process memory while Redis is healthy
// never take gobreaker's mutex.
type breaker struct {
	cb     *gobreaker.TwoStepCircuitBreaker[struct{}]
	state  atomic.Int32 // gobreaker.State
	trips  atomic.Uint64
	onOpen func()
}

func newBreaker(cfg BreakerConfig, onOpen func()) *breaker {
	b := &breaker{onOpen: onOpen}
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "emgcache-redis",
		MaxRequests: 1,
		Timeout:     cfg.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= cfg.ConsecutiveFailures
		},
		OnStateChange: func(_ string, _, to gobreaker.State) {
			b.state.Store(int32(to))
			if to == gobreaker.StateOpen {
				b.trips.Add(1)
				if b.onOpen != nil {
					b.onOpen()
				}
			}
		},
		IsExcluded: isNotBackendFailure,
	})
	return b
}

// closed reports, without locking, whether calls may skip the breaker's
// bookkeeping until their outcome is known.
func (b *breaker) closed() bool { return gobreaker.State(b.state.Load()) == gobreaker.StateClosed }

// errBreakerOpen is returned, unwrapped and preallocated, by every call the
// open breaker refuses, so that failing fast costs no allocation.
var errBreakerOpen = fmt.Errorf("%w: circuit breaker open", ErrUnavailable)

// allow asks the breaker for permission to make one call. It returns
// errBreakerOpen while the breaker is open (or half-open with its probe
// already out).
func (b *breaker) allow() (func(error), error) {
	done, err := b.cb.Allow()
	if err != nil {
		return nil, errBreakerOpen
	}
	return done, nil
}

// record reports the outcome of a call made without allow (the fast path
// taken while closed). A breaker that opened meanwhile ignores it.
func (b *breaker) record(err error) {
	if done, aerr := b.cb.Allow(); aerr == nil {
		done(err)
	}
}

// current reads the state through gobreaker so that an elapsed open timeout
// shows as half-open.
func (b *breaker) current() BreakerState {
	switch b.cb.State() {
	case gobreaker.StateOpen:
		return BreakerOpen
	case gobreaker.StateHalfOpen:
		return BreakerHalfOpen
	default:
		return BreakerClosed
	}
}

// isNotBackendFailure tells the breaker which errors say nothing about
// Redis' health: a miss, a caller's own cancellation or deadline, bad input, and Redis
// replies that prove the server is up and answering.
func isNotBackendFailure(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrInvalidKey) ||
		errors.Is(err, ErrInvalidPattern) || errors.Is(err, context.Canceled) || isCallerDone(err) ||
		errors.Is(err, errBudgetSpent) {
		return true
	}
	if rueidis.IsRedisNil(err) {
		return true
	}
	var re *rueidis.RedisError
	if errors.As(err, &re) {
		// These replies mean the server cannot serve data right now.
		msg := re.Error()
		for _, p := range []string{"LOADING", "BUSY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY"} {
			if strings.HasPrefix(msg, p) {
				return false
			}
		}
		return true
	}
	return false
}
