package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

type readLog struct {
	mu  sync.Mutex
	got []store.ReadInfo
}

func (l *readLog) hooks() store.Hooks {
	return store.Hooks{Read: func(_ context.Context, info store.ReadInfo) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.got = append(l.got, info)
	}}
}

func (l *readLog) outcomes() []store.ReadOutcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []store.ReadOutcome
	for _, r := range l.got {
		out = append(out, r.Outcome)
	}
	return out
}

func TestHooksReadOutcomes(t *testing.T) {
	srv := storetest.NewServer(t)
	for _, tc := range []struct {
		name string
		cfg  store.Config
		// first is the outcome of the first read after a Set: from memory
		// on the embedded backend, from Redis otherwise.
		first store.ReadOutcome
	}{
		{"memory", store.Config{}, store.ReadHitLocal},
		{"redis", store.Config{URL: srv.URL(), KeyPrefix: t.Name() + ":"}, store.ReadHitRemote},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log readLog
			tc.cfg.Hooks = log.hooks()
			c, err := store.Open(context.Background(), tc.cfg)
			require.NoError(t, err)
			ctx := context.Background()
			require.NoError(t, c.Set(ctx, "k", []byte("v"), time.Minute))

			_, err = c.Get(ctx, "k")
			require.NoError(t, err)
			_, err = c.GetString(ctx, "k") // the client-side cache has it now
			require.NoError(t, err)
			_, err = c.Get(ctx, "absent")
			require.ErrorIs(t, err, store.ErrNotFound)
			_, err = c.Uncounted().GetString(ctx, "k")
			require.NoError(t, err)
			_, err = c.LocalString("k")
			require.NoError(t, err)
			many := c.GetMany(ctx, []string{"k", "absent"})
			require.NoError(t, many[0].Err)
			require.NoError(t, c.Close())
			_, err = c.Lookup(ctx, "k")
			require.ErrorIs(t, err, store.ErrClosed)

			assert.Equal(t, []store.ReadOutcome{tc.first, store.ReadHitLocal, store.ReadMiss, store.ReadHitLocal, store.ReadHitLocal,
				store.ReadHitLocal, store.ReadMiss, store.ReadError}, log.outcomes())
			assert.Equal(t, "k", log.got[0].Key, "without the prefix")
			assert.False(t, log.got[0].Start.IsZero())
			assert.NoError(t, log.got[0].Err)
			assert.False(t, log.got[0].Uncounted)
			assert.True(t, log.got[3].Uncounted)
			assert.False(t, log.got[4].Uncounted, "LocalString counts as GetString does")
			assert.Equal(t, []string{"k", "absent"}, []string{log.got[5].Key, log.got[6].Key}, "GetMany reports each key")
			assert.Equal(t, log.got[5].Start, log.got[6].Start)
			assert.ErrorIs(t, log.got[7].Err, store.ErrClosed)
		})
	}
}

func TestReadOutcomeStrings(t *testing.T) {
	for o, want := range map[store.ReadOutcome]string{
		store.ReadHitLocal: "hit_local", store.ReadHitRemote: "hit_remote", store.ReadHitStale: "hit_stale",
		store.ReadMiss: "miss", store.ReadError: "error", 0: "unknown",
	} {
		assert.Equal(t, want, o.String())
	}
}

// BenchmarkReadHooks measures what Config.Hooks costs a hit served from
// process memory: nil (the default) against a hook that does nothing, in
// the same run. The hit without hooks is BenchmarkGet's.
func BenchmarkReadHooks(b *testing.B) {
	srv := storetest.NewServer(b)
	ctx := context.Background()
	noop := store.Hooks{Read: func(context.Context, store.ReadInfo) {}}
	for _, bc := range []struct {
		name string
		cfg  store.Config
	}{
		{"memory/none", store.Config{}},
		{"memory/noop", store.Config{Hooks: noop}},
		{"redis-local/none", store.Config{URL: srv.URL()}},
		{"redis-local/noop", store.Config{URL: srv.URL(), Hooks: noop}},
	} {
		c := openBenchCache(b, bc.cfg)
		if err := c.Set(ctx, "k", make([]byte, 1024), time.Hour); err != nil {
			b.Fatal(err)
		}
		if _, err := c.GetString(ctx, "k"); err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v, err := c.GetString(ctx, "k")
				if err != nil {
					b.Fatal(err)
				}
				sinkString = v
			}
		})
	}
}
