package patterns

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emgcache/emgcache/store"
)

// BatchResult is the outcome for one key of a batch read.
type BatchResult[T any] struct {
	Key   string
	Value T
	// Local reports that the value came from process memory (the
	// client-side cache, or the embedded backend) without a round trip.
	Local bool
	// Err is nil when Value holds the key's value. It matches ErrNotFound
	// for a key without one (a miss, or a key cached as absent), which is
	// a normal outcome; anything else is why this key alone failed:
	// store.ErrUnavailable, store.ErrInvalidKey, store.ErrDecode.
	Err error
}

// BatchGet reads keys in one round trip per Redis node, however many there
// are (pipelined; on a cluster grouped by node), and returns one BatchResult per
// key, in order. Keys held in the client-side cache cost no round trip.
// One key failing does not fail the others.
func (p *Layer) BatchGet(ctx context.Context, keys []string) []BatchResult[[]byte] {
	res := p.cache.GetMany(ctx, keys)
	out := make([]BatchResult[[]byte], len(keys))
	for i, r := range res {
		out[i] = BatchResult[[]byte]{Key: keys[i], Value: r.Value, Local: r.Local, Err: r.Err}
		switch {
		case r.Err == nil && isNegative(r.Value):
			out[i].Value, out[i].Err = nil, cachedNotFound(keys[i])
		case r.Err == nil && isPlaceholder(string(r.Value)):
			// Being loaded: no value yet.
			out[i].Value, out[i].Err = nil, fmt.Errorf("%q is being loaded: %w", keys[i], ErrNotFound)
		}
	}
	return out
}

// BatchGetValues is BatchGet that decodes each value into a T with the
// cache's codec (store.Config.Codec, JSON by default), the codec Aside and
// BatchSetValues write with. A value that does not decode, or that another
// codec wrote, fails its own key with store.ErrDecode. Unlike Aside's
// hits, each value is decoded for this call: the caller owns it.
func BatchGetValues[T any](ctx context.Context, p *Layer, keys []string) []BatchResult[T] {
	codec := p.cache.Codec()
	raw := p.BatchGet(ctx, keys)
	out := make([]BatchResult[T], len(raw))
	for i, r := range raw {
		out[i] = BatchResult[T]{Key: r.Key, Local: r.Local, Err: r.Err}
		if r.Err != nil {
			continue
		}
		if err := codec.Unmarshal(r.Value, &out[i].Value); err != nil {
			var zero T
			out[i].Value = zero
			out[i].Err = fmt.Errorf("%w: key %q: %w", store.ErrDecode, r.Key, err)
		}
	}
	return out
}

// BatchSet writes items (key → value) in one round trip per Redis node, each
// for ttl (0: the cache's default TTL) spread by Options.Jitter, so that a
// batch written together does not expire together. It returns nil when
// every item was stored, and otherwise a *BatchError naming the keys that
// were not; the others were stored all the same.
func (p *Layer) BatchSet(ctx context.Context, items map[string][]byte, ttl time.Duration) error {
	batch := make([]store.Item, 0, len(items))
	for k, v := range items {
		batch = append(batch, store.Item{Key: k, Value: v, TTL: p.jitter(ttl)})
	}
	return p.setBatch(ctx, batch, len(items), nil)
}

// BatchSetValues is BatchSet for values encoded with the cache's codec
// (store.Config.Codec, JSON by default), so that BatchGetValues, Aside and
// store.GetValue read them. A value that cannot be encoded fails its own
// key.
func BatchSetValues[T any](ctx context.Context, p *Layer, items map[string]T, ttl time.Duration) error {
	codec := p.cache.Codec()
	batch := make([]store.Item, 0, len(items))
	var failed map[string]error
	for k, v := range items {
		b, err := codec.Marshal(v)
		if err != nil {
			if failed == nil {
				failed = make(map[string]error)
			}
			failed[k] = fmt.Errorf("encode %q: %w", k, err)
			continue
		}
		batch = append(batch, store.Item{Key: k, Value: b, TTL: p.jitter(ttl)})
	}
	return p.setBatch(ctx, batch, len(items), failed)
}

func (p *Layer) setBatch(ctx context.Context, batch []store.Item, total int, failed map[string]error) error {
	for i, err := range p.cache.SetMany(ctx, batch) {
		if err == nil {
			continue
		}
		if failed == nil {
			failed = make(map[string]error)
		}
		failed[batch[i].Key] = err
	}
	if len(failed) == 0 {
		return nil
	}
	return &BatchError{Failed: failed, Total: total}
}

// BatchError reports the keys of a batch write that were not stored. It
// unwraps to their errors, so errors.Is(err, store.ErrUnavailable) asks
// whether any key failed for that reason.
type BatchError struct {
	// Failed maps each key that was not stored to why.
	Failed map[string]error
	// Total is how many keys the batch had.
	Total int
}

// batchErrorListed is how many failures the message spells out.
const batchErrorListed = 3

func (e *BatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "batch set: %d of %d keys not stored", len(e.Failed), e.Total)
	for i, err := range e.Unwrap() {
		if i == batchErrorListed {
			fmt.Fprintf(&b, "; and %d more", len(e.Failed)-i)
			break
		}
		b.WriteString("; ")
		b.WriteString(err.Error())
	}
	return b.String()
}

// Unwrap returns the errors of the failed keys, in key order.
func (e *BatchError) Unwrap() []error {
	keys := make([]string, 0, len(e.Failed))
	for k := range e.Failed {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	errs := make([]error, len(keys))
	for i, k := range keys {
		errs[i] = e.Failed[k]
	}
	return errs
}
