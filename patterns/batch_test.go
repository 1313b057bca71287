package patterns_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

func TestBatch(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(t *testing.T, p *patterns.Layer)
	}{
		{"set then get, in order, with misses and bad keys per key", func(t *testing.T, p *patterns.Layer) {
			items := make(map[string][]byte)
			for i := range 100 {
				items[fmt.Sprintf("k%03d", i)] = []byte(fmt.Sprintf("v%d", i))
			}
			require.NoError(t, p.BatchSet(ctx, items, time.Hour))

			keys := []string{"k000", "missing", "k042", "", "k099"}
			res := p.BatchGet(ctx, keys)
			require.Len(t, res, len(keys))
			for i, r := range res {
				assert.Equal(t, keys[i], r.Key)
			}
			assert.Equal(t, "v0", string(res[0].Value))
			assert.NoError(t, res[0].Err)
			assert.ErrorIs(t, res[1].Err, patterns.ErrNotFound)
			assert.Equal(t, "v42", string(res[2].Value))
			assert.ErrorIs(t, res[3].Err, store.ErrInvalidKey)
			assert.Equal(t, "v99", string(res[4].Value))
		}},
		{"an empty batch is nothing", func(t *testing.T, p *patterns.Layer) {
			assert.Empty(t, p.BatchGet(ctx, nil))
			assert.NoError(t, p.BatchSet(ctx, nil, time.Hour))
		}},
		{"JSON both ways, a bad value fails its own key", func(t *testing.T, p *patterns.Layer) {
			require.NoError(t, patterns.BatchSetValues(ctx, p, map[string]analysis{
				"a": {RMS: 1, Channels: []string{"x"}},
				"b": {RMS: 2},
			}, time.Hour))
			require.NoError(t, p.Cache().Set(ctx, "bad", []byte("{"), time.Hour))
			res := patterns.BatchGetValues[analysis](ctx, p, []string{"a", "bad", "b", "none"})
			assert.Equal(t, analysis{RMS: 1, Channels: []string{"x"}}, res[0].Value)
			assert.NoError(t, res[0].Err)
			assert.ErrorIs(t, res[1].Err, store.ErrDecode)
			assert.Equal(t, analysis{}, res[1].Value)
			assert.Equal(t, 2.0, res[2].Value.RMS)
			assert.ErrorIs(t, res[3].Err, patterns.ErrNotFound)
		}},
		{"values that cannot be stored are reported per key, the rest is stored", func(t *testing.T, p *patterns.Layer) {
			err := p.BatchSet(ctx, map[string][]byte{
				"ok":  []byte("small"),
				"big": make([]byte, 4096),
				"":    []byte("no key"),
			}, time.Hour)
			var be *patterns.BatchError
			require.ErrorAs(t, err, &be)
			assert.Equal(t, 3, be.Total)
			require.Len(t, be.Failed, 2)
			assert.ErrorIs(t, be.Failed["big"], store.ErrTooLarge)
			assert.ErrorIs(t, be.Failed[""], store.ErrInvalidKey)
			assert.ErrorIs(t, err, store.ErrTooLarge, "errors.Is looks into every key")
			assert.Contains(t, err.Error(), "batch set: 2 of 3 keys not stored")
			v, err := p.Cache().Get(ctx, "ok")
			require.NoError(t, err)
			assert.Equal(t, "small", string(v))

			err = patterns.BatchSetValues(ctx, p, map[string]float64{"inf": math.Inf(1), "one": 1}, time.Hour)
			require.ErrorAs(t, err, &be)
			assert.Len(t, be.Failed, 1)
			assert.Contains(t, be.Failed["inf"].Error(), `encode "inf"`)
		}},
		{"TTLs are spread by the jitter", func(t *testing.T, p *patterns.Layer) {
			require.NoError(t, p.BatchSet(ctx, map[string][]byte{"a": {'1'}, "b": {'2'}, "c": {'3'}, "d": {'4'}}, time.Hour))
			seen := map[time.Duration]bool{}
			for _, k := range []string{"a", "b", "c", "d"} {
				ttl, err := p.Cache().TTL(ctx, k)
				require.NoError(t, err)
				assert.InDelta(t, float64(time.Hour), float64(ttl), float64(6*time.Minute+time.Second))
				seen[ttl.Round(time.Second)] = true
			}
			assert.Greater(t, len(seen), 1, "not all equal")
		}},
	}
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			c := be.open(t, store.Config{KeyPrefix: "batch:", MaxEntryBytes: 1024})
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					_, err := c.DeletePattern(ctx, "*")
					require.NoError(t, err)
					// Deterministic draws that still differ: the jitter test
					// wants distinct TTLs.
					draws := []float64{0, 0.25, 0.5, 0.99}
					n := 0
					p := newPatterns(t, c, patterns.Options{})
					patterns.SetRand(p, func() float64 {
						n++
						return draws[n%len(draws)]
					})
					tc.run(t, p)
				})
			}
		})
	}
}

func TestBatchGetLocalHitsIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	p := newPatterns(t, openCache(t, store.Config{URL: srv.URL()}), patterns.Options{})
	keys := []string{"a", "b", "c"}
	require.NoError(t, p.BatchSet(ctx, map[string][]byte{"a": {'1'}, "b": {'2'}, "c": {'3'}}, time.Hour))
	for _, r := range p.BatchGet(ctx, keys) {
		require.NoError(t, r.Err)
	}
	for _, r := range p.BatchGet(ctx, keys) {
		require.NoError(t, r.Err)
		assert.True(t, r.Local, "%s was read before: it comes from process memory", r.Key)
	}
}

func TestBatchRedisUnavailableIntegration(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	p := newPatterns(t, openCache(t, store.Config{URL: srv.URL(), OpTimeout: 100 * time.Millisecond}), patterns.Options{})
	require.NoError(t, srv.Kill())

	for _, r := range p.BatchGet(ctx, []string{"a", "b"}) {
		assert.ErrorIs(t, r.Err, store.ErrUnavailable)
	}
	err := p.BatchSet(ctx, map[string][]byte{"a": {'1'}, "b": {'2'}}, time.Hour)
	var be *patterns.BatchError
	require.ErrorAs(t, err, &be)
	assert.Len(t, be.Failed, 2)
	assert.True(t, errors.Is(err, store.ErrUnavailable))
}
