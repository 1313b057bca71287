package patterns_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
)

// gatedOrigin is an origin whose value can change under a load: its first
// load reads the value, signals started and waits for release before it
// returns what it read.
type gatedOrigin struct {
	value   atomic.Value
	calls   atomic.Int32
	started chan struct{}
	release chan struct{}
}

func newGatedOrigin(v string) *gatedOrigin {
	o := &gatedOrigin{started: make(chan struct{}), release: make(chan struct{})}
	o.value.Store(v)
	return o
}

func (o *gatedOrigin) load(context.Context) (string, error) {
	v := o.value.Load().(string)
	if o.calls.Add(1) == 1 {
		close(o.started)
		<-o.release
	}
	return v, nil
}

func (o *gatedOrigin) loadAny(ctx context.Context) (any, error) { return o.load(ctx) }

// An invalidation that returns while a load is running wins over it: the
// value the load read before the invalidation is never stored, and the
// callers get the value loaded after it.
func TestInvalidationDuringAsideLoadWins(t *testing.T) {
	ctx := context.Background()
	invalidations := []struct {
		name string
		do   func(t *testing.T, p *patterns.Layer)
	}{
		{"Delete", func(t *testing.T, p *patterns.Layer) {
			_, err := p.Cache().Delete(ctx, "emg_analysis:k")
			require.NoError(t, err)
		}},
		{"InvalidatePattern", func(t *testing.T, p *patterns.Layer) {
			_, err := p.InvalidatePattern(ctx, "emg_analysis:*")
			require.NoError(t, err)
		}},
	}
	for _, be := range backends() {
		for _, inv := range invalidations {
			t.Run(be.name+"/"+inv.name, func(t *testing.T) {
				p := newPatterns(t, be.open(t, store.Config{}), patterns.Options{})
				o := newGatedOrigin("v1")
				got := make(chan string, 1)
				go func() {
					v, err := patterns.Aside(ctx, p, "emg_analysis:k", time.Hour, o.load)
					assert.NoError(t, err)
					got <- v
				}()
				<-o.started // the load has read v1
				o.value.Store("v2")
				inv.do(t, p) // and returns before the load ends
				close(o.release)

				assert.Equal(t, "v2", <-got, "the callers get what was loaded after the invalidation")
				stored, err := store.GetJSON[string](ctx, p.Cache(), "emg_analysis:k")
				require.NoError(t, err)
				assert.Equal(t, "v2", stored, "the pre-invalidation value was not stored over it")
				assert.EqualValues(t, 2, o.calls.Load())
			})
		}
	}
}

// A refresh-ahead reload that an invalidation overtakes is dropped.
func TestInvalidationDuringRefreshWins(t *testing.T) {
	ctx := context.Background()
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			c := be.open(t, store.Config{})
			p := patterns.New(c, patterns.Options{Jitter: -1})
			// Near the end of its life: the next hit reloads it.
			require.NoError(t, store.SetJSON(ctx, c, "k", "v0", time.Minute))
			o := newGatedOrigin("v1")
			v, err := patterns.Aside(ctx, p, "k", time.Hour, o.load, patterns.WithRefreshAhead(time.Hour))
			require.NoError(t, err)
			assert.Equal(t, "v0", v, "the hit is served at once")
			<-o.started // the background reload has read v1
			_, err = c.Delete(ctx, "k")
			require.NoError(t, err)
			close(o.release)
			require.NoError(t, p.Close()) // waits for the reload

			_, err = c.Get(ctx, "k")
			assert.ErrorIs(t, err, store.ErrNotFound, "the reload did not bring back what the Delete removed")
		})
	}
}

// Warm writes under the same rule, and the same lock, as Aside.
func TestWarmLosesToInvalidationAndTakesAsideLock(t *testing.T) {
	ctx := context.Background()
	for _, be := range backends() {
		t.Run(be.name+"/invalidated during the load", func(t *testing.T) {
			c := be.open(t, store.Config{})
			p := newPatterns(t, c, patterns.Options{})
			o := newGatedOrigin("v1")
			report := make(chan patterns.WarmReport, 1)
			go func() {
				report <- p.Warm(ctx, []patterns.WarmItem{{Key: "w", Load: o.loadAny}}, patterns.WarmOptions{})
			}()
			<-o.started
			o.value.Store("v2")
			_, err := c.Delete(ctx, "w")
			require.NoError(t, err)
			close(o.release)
			r := <-report
			require.NoError(t, r.Err())
			assert.Equal(t, 1, r.Loaded)
			stored, err := store.GetJSON[string](ctx, c, "w")
			require.NoError(t, err)
			assert.Equal(t, "v2", stored)
		})
		t.Run(be.name+"/while Aside loads", func(t *testing.T) {
			c := be.open(t, store.Config{})
			p := newPatterns(t, c, patterns.Options{})
			o := newGatedOrigin("aside")
			got := make(chan string, 1)
			go func() {
				v, err := patterns.Aside(ctx, p, "w", time.Hour, o.load)
				assert.NoError(t, err)
				got <- v
			}()
			<-o.started
			var warmed atomic.Int32
			r := p.Warm(ctx, []patterns.WarmItem{{Key: "w", Load: func(context.Context) (any, error) {
				warmed.Add(1)
				return "warm", nil
			}}}, patterns.WarmOptions{Force: true})
			assert.Equal(t, 1, r.Skipped, "the key is being loaded: Warm leaves it to the load")
			assert.Zero(t, warmed.Load())
			close(o.release)
			assert.Equal(t, "aside", <-got)
			stored, err := store.GetJSON[string](ctx, c, "w")
			require.NoError(t, err)
			assert.Equal(t, "aside", stored)
		})
	}
}

// InvalidateNamespace during a load of a key of the namespace: a caller
// that arrives after it returns neither joins that load nor reads what it
// stores.
func TestInvalidateNamespaceDuringLoad(t *testing.T) {
	ctx := context.Background()
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			p := newPatterns(t, be.open(t, store.Config{}), patterns.Options{})
			o := newGatedOrigin("before")
			before, err := p.VersionedKey(ctx, "file:"+hashA, "meta:"+hashA)
			require.NoError(t, err)
			first := make(chan string, 1)
			go func() {
				v, err := patterns.Aside(ctx, p, before, time.Hour, o.load)
				assert.NoError(t, err)
				first <- v
			}()
			<-o.started
			o.value.Store("after")
			require.NoError(t, p.InvalidateNamespace(ctx, "file:"+hashA))

			after, err := p.VersionedKey(ctx, "file:"+hashA, "meta:"+hashA)
			require.NoError(t, err)
			v, err := patterns.Aside(ctx, p, after, time.Hour, o.load)
			require.NoError(t, err)
			assert.Equal(t, "after", v, "not joined to the load begun before the invalidation")
			close(o.release)
			assert.Equal(t, "before", <-first, "that load answers the caller it began for")

			again, err := p.VersionedKey(ctx, "file:"+hashA, "meta:"+hashA)
			require.NoError(t, err)
			v, err = patterns.Aside(ctx, p, again, time.Hour, o.load)
			require.NoError(t, err)
			assert.Equal(t, "after", v)
			assert.EqualValues(t, 2, o.calls.Load())
		})
	}
}
