package msgpack_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emgcache/emgcache/codec/msgpack"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

type reading struct {
	Channel string    `json:"channel"`
	Values  []float64 `json:"values"`
	Unit    string    `json:"unit,omitempty"`
	Skipped string    `json:"-"`
}

func TestRoundTrip(t *testing.T) {
	want := reading{Channel: "biceps", Values: []float64{0.5, -1.25, 3}}
	for _, tt := range []struct {
		name  string
		codec msgpack.Codec
	}{
		{"msgpack tags", msgpack.Codec{}},
		{"json tags", msgpack.Codec{JSONTags: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.codec.Marshal(want)
			require.NoError(t, err)
			var got reading
			require.NoError(t, tt.codec.Unmarshal(b, &got))
			assert.Equal(t, want, got)
		})
	}
}

func TestJSONTagsNameFields(t *testing.T) {
	v := reading{Channel: "c", Skipped: "gone"}
	plain, err := msgpack.Codec{}.Marshal(v)
	require.NoError(t, err)
	tagged, err := msgpack.Codec{JSONTags: true}.Marshal(v)
	require.NoError(t, err)
	assert.Contains(t, string(plain), "Channel")
	assert.Contains(t, string(tagged), "channel")
	assert.NotContains(t, string(tagged), "gone", `json:"-" leaves the field out`)
	assert.NotEqual(t, msgpack.Codec{}.Name(), msgpack.Codec{JSONTags: true}.Name())
}

// TestWithStore: values round-trip through a store on either backend, and
// a Cache with another codec refuses them.
func TestWithStore(t *testing.T) {
	ctx := context.Background()
	srv := storetest.NewServer(t)
	for name, url := range map[string]string{"memory": "", "redis": srv.URL()} {
		t.Run(name, func(t *testing.T) {
			c := open(t, store.Config{URL: url, KeyPrefix: "mp:", Codec: msgpack.Codec{JSONTags: true}})
			want := reading{Channel: "biceps", Values: []float64{1, 2, 3, 4}}
			require.NoError(t, store.SetValue(ctx, c, "r", want, 0))
			for range 2 {
				got, err := store.GetValue[reading](ctx, c, "r")
				require.NoError(t, err)
				assert.Equal(t, want, got)
			}
			_, err := store.GetJSON[reading](ctx, c, "r")
			assert.ErrorIs(t, err, store.ErrDecode)
			if url != "" {
				other := open(t, store.Config{URL: url, KeyPrefix: "mp:", Codec: msgpack.Codec{}})
				_, err := store.GetValue[reading](ctx, other, "r")
				assert.ErrorIs(t, err, store.ErrDecode, "msgpack with other field names refuses the value")
			}
		})
	}
}

func open(t *testing.T, cfg store.Config) *store.Cache {
	t.Helper()
	c, err := store.Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}
