package store

import (
	"context"
	"errors"
	"time"
)

// Hooks are functions the Cache calls at points of interest, for tracing
// and metrics (github.com/emgcache/emgcache/emgotel), in the manner of
// net/http/httptrace.ClientTrace: a nil field is not called, and the zero
// value costs one nil check per read. They are called from many goroutines
// at once and should return quickly: a hit served from process memory
// takes tens of nanoseconds.
type Hooks struct {
	// Read is called once each single-key read (Get, GetString, Lookup,
	// GetValue, GetJSON, and those of Uncounted) has its answer, with where
	// it came from. The Local reads, which take no context, are reported with
	// context.Background() when they answer, and not when they return
	// ErrNotLocal (the read that follows is). GetMany reports each of its
	// keys, with the batch's start and duration.
	Read func(ctx context.Context, info ReadInfo)
}

// ReadOutcome says how a read was answered.
type ReadOutcome uint8

// Outcomes of a read.
const (
	// ReadHitLocal: from process memory (the client-side cache, or the
	// embedded backend).
	ReadHitLocal ReadOutcome = iota + 1
	// ReadHitRemote: from Redis, a round trip.
	ReadHitRemote
	// ReadHitStale: from the stale copy of Config.StaleBytes, because
	// Redis was unavailable.
	ReadHitStale
	// ReadMiss: the key holds nothing (ErrNotFound).
	ReadMiss
	// ReadError: the read failed (ReadInfo.Err says why): the backend was
	// unavailable, the key invalid, the cache closed, or the caller's
	// context ended.
	ReadError
)

// String returns the outcome as metrics label it: "hit_local",
// "hit_remote", "hit_stale", "miss" or "error".
func (o ReadOutcome) String() string {
	switch o {
	case ReadHitLocal:
		return "hit_local"
	case ReadHitRemote:
		return "hit_remote"
	case ReadHitStale:
		return "hit_stale"
	case ReadMiss:
		return "miss"
	case ReadError:
		return "error"
	}
	return "unknown"
}

// ReadInfo describes one read.
type ReadInfo struct {
	// Key is the key read, without Config.KeyPrefix.
	Key     string
	Outcome ReadOutcome
	// Uncounted is set for a read of Uncounted, which Stats' hits and
	// misses leave out: a layer's further read of one request (the
	// variant a vary record points to), or a bookkeeping key (a lock, a
	// placeholder, a namespace's version).
	Uncounted bool
	// Err is the error the read returned for ReadError, nil otherwise.
	Err error
	// Start is when the read began, and Duration how long it took.
	Start    time.Time
	Duration time.Duration
}

// readObserved is read with Hooks.Read told of its outcome.
func (c *Cache) readObserved(ctx context.Context, key string, counted bool) (string, Source, error) {
	start := time.Now()
	v, src, err := c.read(ctx, key, counted)
	c.observeRead(ctx, key, counted, start, src, err)
	return v, src, err
}

// lookupLocal is readLocal, told to Hooks.Read when it answers, as lookup
// is read.
func (c *Cache) lookupLocal(key, full string, counted bool) (string, error) {
	if c.cfg.Hooks.Read == nil {
		return c.readLocal(full, counted)
	}
	start := time.Now()
	v, err := c.readLocal(full, counted)
	if !errors.Is(err, ErrNotLocal) {
		c.observeRead(context.Background(), key, counted, start, SourceLocal, err)
	}
	return v, err
}

func (c *Cache) observeRead(ctx context.Context, key string, counted bool, start time.Time, src Source, err error) {
	info := ReadInfo{Key: key, Uncounted: !counted, Start: start, Duration: time.Since(start)}
	switch {
	case err == nil && src == SourceLocal:
		info.Outcome = ReadHitLocal
	case err == nil && src == SourceStale:
		info.Outcome = ReadHitStale
	case err == nil:
		info.Outcome = ReadHitRemote
	case errors.Is(err, ErrNotFound):
		info.Outcome = ReadMiss
	default:
		info.Outcome, info.Err = ReadError, err
	}
	c.cfg.Hooks.Read(ctx, info)
}

// getManyObserved is GetMany with Hooks.Read told of each key's outcome.
func (c *Cache) getManyObserved(ctx context.Context, keys []string) []GetResult {
	start := time.Now()
	out := c.readMany(ctx, keys)
	d := time.Since(start)
	for i, r := range out {
		info := ReadInfo{Key: keys[i], Start: start, Duration: d}
		switch {
		case r.Err == nil && r.Local:
			info.Outcome = ReadHitLocal
		case r.Err == nil:
			info.Outcome = ReadHitRemote
		case errors.Is(r.Err, ErrNotFound):
			info.Outcome = ReadMiss
		default:
			info.Outcome, info.Err = ReadError, r.Err
		}
		c.cfg.Hooks.Read(ctx, info)
	}
	return out
}
