package store_test

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/store"
)

// TestReadYourWritesWithConcurrentReaders: eight goroutines read a key
// while one writes it and reads it back, thousands of times. Every read
// back must see the value just written, although the readers keep
// flights of the key pending on the connections the write does not use.
func TestReadYourWritesWithConcurrentReaders(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			// Generous: the test is about what a read returns, not how fast, and
			// nine goroutines under -race load a shared machine.
			c := open(t, store.Config{OpTimeout: 10 * time.Second})
			require.NoError(t, c.Set(ctx, "ryw", []byte("-1"), 0))
			var stop atomic.Bool
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for !stop.Load() {
						if _, err := c.Get(ctx, "ryw"); err != nil {
							t.Error(err)
							return
						}
						// Local hits cost nanoseconds; yielding keeps eight
						// readers from starving the writer on two cores.
						runtime.Gosched()
					}
				})
			}
			defer func() {
				stop.Store(true)
				wg.Wait()
			}()
			for i := range 2000 {
				want := strconv.Itoa(i)
				require.NoError(t, c.Set(ctx, "ryw", []byte(want), 0))
				got, err := c.Get(ctx, "ryw")
				require.NoError(t, err)
				require.Equal(t, want, string(got), "write %d read back", i)
			}
		})
	}
}
