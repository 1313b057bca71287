package patterns_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
)

// gobCodec is a store.Codec that is not JSON.
type gobCodec struct{}

func (gobCodec) Name() string { return "gob" }
func (gobCodec) Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(v)
	return b.Bytes(), err
}
func (gobCodec) Unmarshal(data []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(data)).Decode(v)
}

// TestAsideWithCodec: Aside, its negative cache and Warm write with the
// cache's codec, and store.GetValue reads what they wrote.
func TestAsideWithCodec(t *testing.T) {
	ctx := context.Background()
	want := analysis{RMS: 0.5, Channels: []string{"biceps"}}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			c := b.open(t, store.Config{Codec: gobCodec{}})
			log := &errorLog{}
			p := newPatterns(t, c, patterns.Options{OnError: log.onError})
			var calls atomic.Int32
			for range 3 {
				got, err := patterns.Aside(ctx, p, "a", time.Hour, countingLoader(&calls, want, nil))
				require.NoError(t, err)
				assert.Equal(t, want, got)
			}
			assert.Equal(t, int32(1), calls.Load())
			stored, err := store.GetValue[analysis](ctx, c, "a")
			require.NoError(t, err)
			assert.Equal(t, want, stored)
			_, err = store.GetJSON[analysis](ctx, c, "a")
			assert.ErrorIs(t, err, store.ErrDecode, "the value is gob, not JSON")

			for range 2 {
				_, err := patterns.Aside(ctx, p, "absent", time.Hour, countingLoader(&calls, analysis{}, patterns.ErrNotFound), patterns.WithNegativeCache(0))
				require.ErrorIs(t, err, patterns.ErrNotFound)
			}
			assert.Equal(t, int32(2), calls.Load(), "the absence is cached")

			report := p.Warm(ctx, []patterns.WarmItem{{Key: "w", Load: func(context.Context) (any, error) { return want, nil }}}, patterns.WarmOptions{})
			require.Len(t, report.Items, 1)
			require.NoError(t, report.Items[0].Err)
			warmed, err := store.GetValue[analysis](ctx, c, "w")
			require.NoError(t, err)
			assert.Equal(t, want, warmed)
			assert.Empty(t, log.all())
		})
	}
}

// TestBatchValuesWithCodec: the batch reads and writes use the cache's
// codec, so they read what Aside wrote and Aside reads what they wrote.
func TestBatchValuesWithCodec(t *testing.T) {
	ctx := context.Background()
	want := analysis{RMS: 0.5, Channels: []string{"biceps"}}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			c := b.open(t, store.Config{Codec: gobCodec{}})
			p := newPatterns(t, c, patterns.Options{})
			var calls atomic.Int32
			_, err := patterns.Aside(ctx, p, "aside", time.Hour, countingLoader(&calls, want, nil))
			require.NoError(t, err)
			require.NoError(t, patterns.BatchSetValues(ctx, p, map[string]analysis{"batch": want}, time.Hour))
			require.NoError(t, store.SetJSON(ctx, c, "json", want, time.Hour))

			res := patterns.BatchGetValues[analysis](ctx, p, []string{"aside", "batch", "json"})
			require.Len(t, res, 3)
			for _, r := range res[:2] {
				require.NoError(t, r.Err, r.Key)
				assert.Equal(t, want, r.Value, r.Key)
			}
			assert.ErrorIs(t, res[2].Err, store.ErrDecode, "JSON is not the cache's codec")

			got, err := patterns.Aside(ctx, p, "batch", time.Hour, countingLoader(&calls, analysis{}, nil))
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Equal(t, int32(1), calls.Load(), "Aside read the batch's value instead of loading")
		})
	}
}

// TestAsideHitsShare: hits on one stored version share the decoded value;
// a write makes the next hit decode the new one.
func TestAsideHitsShare(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			c := b.open(t, store.Config{})
			p := newPatterns(t, c, patterns.Options{})
			var calls atomic.Int32
			load := countingLoader(&calls, &analysis{RMS: 1, Channels: []string{"biceps"}}, nil)
			_, err := patterns.Aside(ctx, p, "k", time.Hour, load)
			require.NoError(t, err)
			first, err := patterns.Aside(ctx, p, "k", time.Hour, load)
			require.NoError(t, err)
			second, err := patterns.Aside(ctx, p, "k", time.Hour, load)
			require.NoError(t, err)
			assert.Same(t, first, second)

			require.NoError(t, store.SetJSON(ctx, c, "k", analysis{RMS: 2, Channels: []string{"biceps"}}, time.Hour))
			third, err := patterns.Aside(ctx, p, "k", time.Hour, load)
			require.NoError(t, err)
			assert.Equal(t, 2.0, third.RMS)
			assert.Equal(t, int32(1), calls.Load())
		})
	}
}
