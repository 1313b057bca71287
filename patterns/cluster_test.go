package patterns_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// dbSize returns how many keys each node of the cluster holds.
func dbSize(t *testing.T, cl *storetest.Cluster) []int {
	t.Helper()
	sizes := make([]int, len(cl.Nodes()))
	for i, n := range cl.Nodes() {
		v, err := n.Do(context.Background(), "DBSIZE")
		require.NoError(t, err)
		sizes[i], err = strconv.Atoi(v)
		require.NoError(t, err)
	}
	return sizes
}

// TestClusterIntegration runs the patterns on a real three-master cluster,
// where keys, their locks and their batches land on different nodes.
func TestClusterIntegration(t *testing.T) {
	cl := storetest.NewCluster(t, 3)
	ctx := context.Background()
	// A batch of thousands of keys is one pipeline bounded by one
	// OpTimeout; three nodes and the race detector on two cores need more
	// than the default.
	cfg := store.Config{URL: cl.URL(), KeyPrefix: "cl:", OpTimeout: 10 * time.Second}
	c := openCache(t, cfg)
	p := newPatterns(t, c, patterns.Options{})
	const analyses, metadata = 3000, 300

	batch := make(map[string][]byte, analyses+metadata)
	var analysisKeys, metadataKeys []string
	for i := range analyses {
		k := fmt.Sprintf("emg_analysis:%d", i)
		analysisKeys = append(analysisKeys, k)
		batch[k] = []byte(strconv.Itoa(i))
	}
	for i := range metadata {
		k := fmt.Sprintf("emg_metadata:%d", i)
		metadataKeys = append(metadataKeys, k)
		batch[k] = []byte(strconv.Itoa(i))
	}

	t.Run("BatchSet and BatchGet across nodes", func(t *testing.T) {
		require.NoError(t, p.BatchSet(ctx, batch, time.Hour))
		for i, size := range dbSize(t, cl) {
			// Three thousand keys hash to every third of the slots.
			assert.Greater(t, size, analyses/6, "node %d holds its share", i)
		}
		res := p.BatchGet(ctx, append(append([]string{}, analysisKeys...), metadataKeys...))
		for i, r := range res {
			require.NoError(t, r.Err, r.Key)
			assert.Equal(t, string(batch[r.Key]), string(r.Value), "result %d", i)
		}
	})

	t.Run("InvalidatePattern removes matches on every node, and nothing else", func(t *testing.T) {
		n, err := p.InvalidatePattern(ctx, "emg_analysis:*")
		require.NoError(t, err)
		assert.Equal(t, int64(analyses), n)
		for _, r := range p.BatchGet(ctx, analysisKeys) {
			require.ErrorIs(t, r.Err, patterns.ErrNotFound, r.Key)
		}
		for _, r := range p.BatchGet(ctx, metadataKeys) {
			require.NoError(t, r.Err, r.Key)
		}
		total := 0
		for _, size := range dbSize(t, cl) {
			total += size
		}
		assert.Equal(t, metadata, total)
	})

	t.Run("InvalidateNamespace", func(t *testing.T) {
		var keys []string
		for _, family := range []string{"analysis:", "meta:"} {
			k, err := p.VersionedKey(ctx, "file:"+hashA, family+hashA)
			require.NoError(t, err)
			require.NoError(t, c.Set(ctx, k, []byte("x"), time.Hour))
			keys = append(keys, k)
		}
		require.NoError(t, p.InvalidateNamespace(ctx, "file:"+hashA))
		for i, family := range []string{"analysis:", "meta:"} {
			k, err := p.VersionedKey(ctx, "file:"+hashA, family+hashA)
			require.NoError(t, err)
			assert.NotEqual(t, keys[i], k, "a new version, whichever node holds it")
			_, err = c.Get(ctx, k)
			assert.ErrorIs(t, err, store.ErrNotFound)
		}
	})

	t.Run("Aside stampede with keys and locks on different nodes", func(t *testing.T) {
		ps := []*patterns.Layer{p, newPatterns(t, openCache(t, cfg), patterns.Options{})}
		var calls atomic.Int32
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				<-start
				v, err := patterns.Aside(ctx, ps[i%2], "emg_analysis:"+hashB, time.Hour, func(context.Context) (int, error) {
					calls.Add(1)
					time.Sleep(20 * time.Millisecond)
					return 7, nil
				})
				assert.NoError(t, err)
				assert.Equal(t, 7, v)
			})
		}
		close(start)
		wg.Wait()
		assert.Equal(t, int32(1), calls.Load())
	})
}
