package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// A stalled Redis costs a request one budget, however many calls it makes;
// the calls refused for want of budget count against no breaker, and values
// in process memory are still served.
func TestBudgetIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	c := openCache(t, store.Config{URL: srv.URL(), OpTimeout: 200 * time.Millisecond,
		Breaker: store.BreakerConfig{ConsecutiveFailures: 2}})
	require.NoError(t, c.Set(ctx, "cached", []byte("v"), 0))
	_, err := c.Get(ctx, "cached")
	require.NoError(t, err)

	_, ok := store.BudgetLeft(ctx)
	assert.False(t, ok)
	req := store.WithBudget(ctx, 200*time.Millisecond)
	inner, _ := store.BudgetLeft(store.WithBudget(req, time.Hour))
	assert.Equal(t, time.Hour, inner, "a new budget replaces the one ctx carries")
	left, ok := store.BudgetLeft(req)
	require.True(t, ok)
	assert.Equal(t, 200*time.Millisecond, left)

	require.NoError(t, srv.Pause())
	t.Cleanup(func() { _ = srv.Resume() })
	_, err = c.Get(req, "uncached")
	require.ErrorIs(t, err, store.ErrUnavailable)
	left, _ = store.BudgetLeft(req)
	assert.Zero(t, left, "the timed-out call was not charged")

	calls := []struct {
		name string
		call func() error
	}{
		{"get", func() error { _, err := c.Get(req, "uncached"); return err }},
		{"set", func() error { return c.Set(req, "k", []byte("v"), 0) }},
		{"get-many", func() error { return c.GetMany(req, []string{"a", "b"})[0].Err }},
		{"set-many", func() error { return c.SetMany(req, []store.Item{{Key: "a", Value: []byte("1")}})[0] }},
		{"delete-many", func() error { _, err := c.DeleteMany(req, "a", "b"); return err }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			for range 3 {
				err := tc.call()
				require.ErrorIs(t, err, store.ErrUnavailable)
				require.ErrorContains(t, err, "budget is spent")
			}
		})
	}
	v, err := c.Get(req, "cached")
	require.NoError(t, err)
	assert.Equal(t, "v", string(v))

	require.NoError(t, srv.Resume())
	s := c.Stats(ctx)
	assert.Zero(t, s.BreakerTrips, "refusals for want of budget opened the breaker")
	require.NoError(t, c.Set(ctx, "k", []byte("v"), 0), "another request has its own budget")
}
