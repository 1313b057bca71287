package bench

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	gocache "github.com/go-redis/cache/v9"

	"github.com/emgcache/emgcache/codec/msgpack"
	"github.com/emgcache/emgcache/store"
)

// typedStores are the store configurations of the typed hits: JSON and
// MessagePack, each with decoded values shared (the default) and decoded
// on every read (DecodedSlots -1: what every typed read cost before the
// values were shared).
type typedStores struct {
	json, jsonEach, msgpack, msgpackEach *store.Cache
}

func newTypedStores(tb testing.TB, c *clients) typedStores {
	cfg := func(codec store.Codec, slots int) store.Config {
		return store.Config{URL: c.srv.URL(), KeyPrefix: keyPrefix, OpTimeout: opTimeout, Codec: codec, DecodedSlots: slots}
	}
	mp := msgpack.Codec{JSONTags: true}
	return typedStores{
		json:        c.store,
		jsonEach:    openStore(tb, cfg(nil, -1)),
		msgpack:     openStore(tb, cfg(mp, 0)),
		msgpackEach: openStore(tb, cfg(mp, -1)),
	}
}

// typedReaders returns the hits on the analysis under key (JSON), and
// under mpKey (the store's MessagePack) and gcKey (go-redis/cache's
// MessagePack). The first is the baseline: raw rueidis DoCache returning
// the JSON bytes from its client-side cache, the floor of any read of them.
func (c *clients) typedReaders(ts typedStores, key, mpKey, gcKey string) []jsonReader {
	full := keyPrefix + key
	getValue := func(s *store.Cache, key string) func(context.Context) (Analysis, error) {
		return func(ctx context.Context) (Analysis, error) { return store.GetValue[Analysis](ctx, s, key) }
	}
	return []jsonReader{
		{"rueidis-DoCache", func(ctx context.Context) (a Analysis, err error) {
			_, err = c.rueidis.DoCache(ctx, c.rueidis.B().Get().Key(full).Cache(), localTTL).AsBytes()
			return a, err
		}},
		{"store-GetString", func(ctx context.Context) (a Analysis, err error) {
			_, err = c.store.GetString(ctx, key)
			return a, err
		}},
		{"store-GetJSON", func(ctx context.Context) (Analysis, error) {
			return store.GetJSON[Analysis](ctx, ts.json, key)
		}},
		{"store-GetJSON-decode-each-read", func(ctx context.Context) (Analysis, error) {
			return store.GetJSON[Analysis](ctx, ts.jsonEach, key)
		}},
		{"store-GetValue-msgpack", getValue(ts.msgpack, mpKey)},
		{"store-GetValue-msgpack-decode-each-read", getValue(ts.msgpackEach, mpKey)},
		c.rueidisJSON(key),
		c.goredisJSON(key),
		c.gocacheMsgpack(gcKey),
	}
}

// setTyped writes a under the keys typedReaders reads.
func (c *clients) setTyped(tb testing.TB, ts typedStores, a Analysis, key, mpKey, gcKey string) {
	ctx := context.Background()
	if err := store.SetJSON(ctx, c.store, key, a, time.Hour); err != nil {
		tb.Fatal(err)
	}
	if err := store.SetValue(ctx, ts.msgpack, mpKey, a, time.Hour); err != nil {
		tb.Fatal(err)
	}
	if err := c.gocache.Set(&gocache.Item{Ctx: ctx, Key: keyPrefix + gcKey, Value: a, TTL: time.Hour}); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkTypedHit compares hits on a cached analysis (the example's
// sample, 11 KiB of JSON) decoded into a struct: the store's typed reads,
// sharing the value decoded once per stored version or decoding every
// read, with JSON and MessagePack, against the bytes alone (raw rueidis
// DoCache, the baseline, and store GetString) and the peers' typed reads.
func BenchmarkTypedHit(b *testing.B) {
	c := newClients(b)
	ts := newTypedStores(b, c)
	a := synthAnalysis(b, 4, 2)
	encoded, err := json.Marshal(a)
	if err != nil {
		b.Fatal(err)
	}
	c.setTyped(b, ts, a, "typed:json", "typed:msgpack", "typed:gocache")
	for _, r := range c.typedReaders(ts, "typed:json", "typed:msgpack", "typed:gocache") {
		runRead(b, "value=sample-4ch-2s", r.timed(), int64(len(encoded)))
	}
}

// TestTypedReaders checks that every typed reader returns the analysis
// written, and that the store's are local hits that share their value
// exactly when their names say so.
func TestTypedReaders(t *testing.T) {
	c := newClients(t)
	ts := newTypedStores(t, c)
	ctx := t.Context()
	a := synthAnalysis(t, 2, 1)
	c.setTyped(t, ts, a, "tr:json", "tr:msgpack", "tr:gocache")
	for _, r := range c.typedReaders(ts, "tr:json", "tr:msgpack", "tr:gocache") {
		for range 2 {
			got, err := r.get(ctx)
			if err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
			if r.name == "rueidis-DoCache" || r.name == "store-GetString" {
				continue // bytes only
			}
			if len(got.Channels) != 2 || got.Channels[1].Windows[2] != a.Channels[1].Windows[2] {
				t.Fatalf("%s: decoded %+v, not the analysis written", r.name, got)
			}
		}
	}
	shares := func(s *store.Cache, key string) bool {
		x, err := store.GetValue[*Analysis](ctx, s, key)
		if err != nil {
			t.Fatal(err)
		}
		y, err := store.GetValue[*Analysis](ctx, s, key)
		if err != nil {
			t.Fatal(err)
		}
		if e, err := s.Lookup(ctx, key); err != nil || e.Source != store.SourceLocal {
			t.Errorf("%s: source %v, err %v; want a local hit", key, e.Source, err)
		}
		return x == y
	}
	for _, tt := range []struct {
		name  string
		s     *store.Cache
		key   string
		share bool
	}{
		{"json", ts.json, "tr:json", true},
		{"json-decode-each-read", ts.jsonEach, "tr:json", false},
		{"msgpack", ts.msgpack, "tr:msgpack", true},
		{"msgpack-decode-each-read", ts.msgpackEach, "tr:msgpack", false},
	} {
		if got := shares(tt.s, tt.key); got != tt.share {
			t.Errorf("%s: shares its decoded value: %v, want %v", tt.name, got, tt.share)
		}
	}
}
