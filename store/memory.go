package store

import (
	"cmp"
	"context"
	"hash/maphash"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emgcache/emgcache/internal/clock"
)

const (
	memoryShards = 16
	// entryStructBytes is what the runtime allocates for one memoryEntry
	// (48 bytes, a size class of its own), and mapSlotBytes what the shard's
	// map spends per entry: a slot is a 16-byte string header and an 8-byte
	// pointer, 25 bytes with its control byte, at a load between 7/16 and
	// 7/8 once the table has grown, so up to 57 bytes, rounded up for the
	// directory. Counted with the allocator's rounding of key and value (see
	// allocBytes), they make the budget the heap the entries really hold.
	entryStructBytes = 48
	mapSlotBytes     = 64
	entryOverhead    = entryStructBytes + mapSlotBytes

	// evictionShards and evictionSamples size the sample an eviction looks
	// at: evictionSamples entries of each of evictionShards shards, taken in
	// turn. It removes the least recently used of these 20 and the 16 oldest
	// of earlier samples (evictionPool), as Redis' allkeys-lru removes the
	// best of its maxmemory-samples (5) candidates and its pool of 16.
	// Sampling spares hits the list reordering that exact LRU needs under an
	// exclusive lock; a wider sample would cost a cache miss per candidate
	// on every write that evicts.
	evictionShards   = 4
	evictionSamples  = 5
	evictionPoolSize = 16
	// touchGranularity is the precision of recency: a hit stores the time
	// only when the entry's stamp is at least this old, so hot keys read by
	// many cores at once do not all write the same cache line.
	touchGranularity = time.Millisecond

	// expireInterval, expireSamples and expireRounds make the active expiry
	// of Redis: ten times a second each shard looks at expireSamples entries
	// and removes the expired ones, and looks again, up to expireRounds
	// times, while more than a quarter of a sample had expired. The shard
	// lock is taken per sample, never for a walk of the whole shard; reads
	// reclaim expired entries they meet in between.
	expireInterval = 100 * time.Millisecond
	expireSamples  = 20
	expireRounds   = 16
	scanBatch      = 1000
)

// memoryBackend is the embedded backend: sharded maps under read-write
// locks and one memory budget across shards. Hits take the read lock and
// stamp the entry's recency with an atomic store; writes that go over the
// budget evict the least recently used of a sample of every shard.
type memoryBackend struct {
	shards   [memoryShards]memoryShard
	seed     maphash.Seed
	maxBytes int64
	used     atomic.Int64
	// evictFrom is the first shard of the next eviction's sample.
	evictFrom atomic.Uint32
	pool      evictionPool
	now       func() int64 // the wall clock, Unix nanoseconds
	stop      chan struct{}
	done      chan struct{}
	stopOnce  sync.Once
}

type memoryShard struct {
	mu    sync.RWMutex
	items map[string]*memoryEntry
}

type memoryEntry struct {
	key     string
	value   string
	expires int64        // UnixNano; 0: no expiry
	touched atomic.Int64 // UnixNano of the last read or write
}

func (e *memoryEntry) expired(now int64) bool { return e.expires != 0 && now >= e.expires }

// entryBytes is what an entry of key and value costs the heap.
func entryBytes(key, value string) int64 {
	return allocBytes(len(key)) + allocBytes(len(value)) + entryOverhead
}

func (e *memoryEntry) size() int64 { return entryBytes(e.key, e.value) }

// sizeClasses are the Go allocator's size classes up to 32 KiB (from the
// runtime's sizeclasses.go); an object takes the smallest class that holds
// it, larger ones whole 8 KiB pages.
var sizeClasses = [...]int{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
	288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048,
	2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880,
	12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768}

// allocBytes is what the allocator hands out for an object of n bytes.
func allocBytes(n int) int64 {
	const page = 8 << 10
	if n == 0 {
		return 0
	}
	if n > sizeClasses[len(sizeClasses)-1] {
		return int64((n + page - 1) / page * page)
	}
	i, _ := slices.BinarySearch(sizeClasses[:], n)
	return int64(sizeClasses[i])
}

func newMemoryBackend(maxBytes int64, janitor bool) *memoryBackend {
	m := &memoryBackend{seed: maphash.MakeSeed(), maxBytes: maxBytes, now: clock.Nanos}
	for i := range m.shards {
		m.shards[i].items = make(map[string]*memoryEntry)
	}
	if janitor {
		m.stop, m.done = make(chan struct{}), make(chan struct{})
		go m.expireLoop()
	}
	return m
}

func (m *memoryBackend) name() string { return "memory" }

func (m *memoryBackend) shard(key string) *memoryShard {
	return &m.shards[maphash.String(m.seed, key)%memoryShards]
}

// lookup returns the live entry for key, removing it if it has expired.
// The shard's write lock must be held.
func (m *memoryBackend) lookup(s *memoryShard, key string, now int64) *memoryEntry {
	e := s.items[key]
	if e == nil {
		return nil
	}
	if e.expired(now) {
		m.unlink(s, e)
		return nil
	}
	return e
}

// get serves a hit under the shard's read lock, so that hits on one shard
// run in parallel; an expired entry it meets is removed under the write
// lock afterwards.
func (m *memoryBackend) get(_ context.Context, key string) (string, bool, error) {
	s := m.shard(key)
	now := m.now()
	s.mu.RLock()
	e := s.items[key]
	if e == nil {
		s.mu.RUnlock()
		return "", true, ErrNotFound
	}
	if e.expired(now) {
		s.mu.RUnlock()
		m.removeIfExpired(s, key, now)
		return "", true, ErrNotFound
	}
	v := e.value
	s.mu.RUnlock()
	if now-e.touched.Load() >= int64(touchGranularity) {
		e.touched.Store(now)
	}
	return v, true, nil
}

func (m *memoryBackend) removeIfExpired(s *memoryShard, key string, now int64) {
	s.mu.Lock()
	m.lookup(s, key, now)
	s.mu.Unlock()
}

func (m *memoryBackend) set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	m.store(key, string(value), ttl, false)
	return nil
}

func (m *memoryBackend) setNX(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return m.store(key, string(value), ttl, true), nil
}

// store writes key unless onlyIfAbsent finds a live entry, then evicts down
// to the memory budget. Values are kept as strings: immutable, so reads can
// hand them out without copying. Keys arrive with the cache's prefix, so
// each is a string built for this call and holds nothing else alive.
func (m *memoryBackend) store(key, value string, ttl time.Duration, onlyIfAbsent bool) bool {
	now := m.now()
	s := m.shard(key)
	s.mu.Lock()
	if old := m.lookup(s, key, now); old != nil {
		if onlyIfAbsent {
			s.mu.Unlock()
			return false
		}
		m.unlink(s, old)
	}
	m.insert(s, key, value, ttl, now)
	s.mu.Unlock()
	m.evict()
	return true
}

// insert adds an entry to s, which holds none for key, and counts it; the
// caller evicts afterwards, once the shard's write lock is released.
func (m *memoryBackend) insert(s *memoryShard, key, value string, ttl time.Duration, now int64) {
	e := &memoryEntry{key: key, value: value}
	e.touched.Store(now)
	if ttl > 0 {
		e.expires = now + int64(ttl)
	}
	s.items[key] = e
	m.used.Add(e.size())
}

// evict removes entries until the budget holds: each time the least
// recently used of a sample, an expired one first.
func (m *memoryBackend) evict() {
	for m.used.Load() > m.maxBytes {
		if !m.evictOne() {
			return
		}
	}
}

func (m *memoryBackend) evictOne() bool {
	now := m.now()
	var sample [evictionShards * evictionSamples]candidate
	k := 0
	first := m.evictFrom.Add(evictionShards)
	// Up to all the shards while the sample is empty: a small cache may hold
	// entries in a few shards only.
	for i := range uint32(memoryShards) {
		if k > 0 && i >= evictionShards {
			break
		}
		s := &m.shards[(first+i)%memoryShards]
		s.mu.RLock()
		n := 0
		// Map iteration starts at a random place, which makes these the
		// random sample.
		for _, e := range s.items {
			at := e.touched.Load()
			if e.expired(now) {
				at = math.MinInt64
			}
			sample[k] = candidate{key: e.key, at: at, shard: s}
			k++
			if n++; n == evictionSamples {
				break
			}
		}
		s.mu.RUnlock()
	}
	if k == 0 {
		return false
	}
	m.pool.mu.Lock()
	defer m.pool.mu.Unlock()
	m.pool.add(sample[:k])
	for len(m.pool.c) > 0 {
		c := m.pool.c[0]
		n := copy(m.pool.c, m.pool.c[1:])
		m.pool.c[n] = candidate{} // let go of its key
		m.pool.c = m.pool.c[:n]
		c.shard.mu.Lock()
		// A candidate read, rewritten or removed since it was sampled is
		// no longer what it was chosen for.
		e := c.shard.items[c.key]
		ok := e != nil && (e.touched.Load() == c.at || e.expired(now))
		if ok {
			m.unlink(c.shard, e)
		}
		c.shard.mu.Unlock()
		if ok {
			return true
		}
	}
	// Every candidate went stale under concurrent writes: evict samples
	// again.
	return true
}

// candidate is an entry an eviction sampled: its key, shard, and recency
// when sampled (math.MinInt64 if expired).
type candidate struct {
	key   string
	at    int64
	shard *memoryShard
}

// evictionPool keeps the least recently used candidates of past samples,
// oldest first, as Redis' eviction pool does: an eviction whose sample
// holds only recently used entries still removes an older one sampled
// before, so shards taking their turn with few, recent entries are not
// drained of them. It holds keys, not entries, so that it keeps no removed
// value alive.
type evictionPool struct {
	mu sync.Mutex
	c  []candidate
}

// add merges sample into the pool, keeping the evictionPoolSize oldest.
// A key sampled twice may sit in it twice; the older copy then fails the
// check of evictOne and is dropped. The lock must be held.
func (p *evictionPool) add(sample []candidate) {
	for _, c := range sample {
		if len(p.c) == evictionPoolSize && c.at >= p.c[len(p.c)-1].at {
			continue
		}
		i, _ := slices.BinarySearchFunc(p.c, c.at, func(o candidate, at int64) int { return cmp.Compare(o.at, at) })
		if len(p.c) == evictionPoolSize {
			p.c[len(p.c)-1] = candidate{} // let go of its key
			p.c = p.c[:len(p.c)-1]
		}
		p.c = slices.Insert(p.c, i, c)
	}
}

// unlink removes e from its shard. The shard's write lock must be held.
func (m *memoryBackend) unlink(s *memoryShard, e *memoryEntry) {
	delete(s.items, e.key)
	m.used.Add(-e.size())
}

func (m *memoryBackend) del(_ context.Context, keys []string) (int64, error) {
	now := m.now()
	var n int64
	for _, k := range keys {
		s := m.shard(k)
		s.mu.Lock()
		if e := m.lookup(s, k, now); e != nil {
			m.unlink(s, e)
			n++
		}
		s.mu.Unlock()
	}
	return n, nil
}

func (m *memoryBackend) delIfValue(_ context.Context, key string, value []byte) (bool, error) {
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := m.lookup(s, key, m.now())
	if e == nil || e.value != string(value) {
		return false, nil
	}
	m.unlink(s, e)
	return true, nil
}

func (m *memoryBackend) exists(_ context.Context, key string) (bool, error) {
	s := m.shard(key)
	now := m.now()
	s.mu.RLock()
	e := s.items[key]
	s.mu.RUnlock()
	return e != nil && !e.expired(now), nil
}

func (m *memoryBackend) ttl(_ context.Context, key string) (time.Duration, error) {
	s := m.shard(key)
	now := m.now()
	s.mu.RLock()
	e := s.items[key]
	s.mu.RUnlock()
	if e == nil || e.expired(now) {
		return 0, ErrNotFound
	}
	if e.expires == 0 {
		return NoExpiry, nil
	}
	return time.Duration(e.expires - now), nil
}

func (m *memoryBackend) getMany(ctx context.Context, keys []string) []rawResult {
	out := make([]rawResult, len(keys))
	for i, k := range keys {
		v, local, err := m.get(ctx, k)
		out[i] = rawResult{value: v, local: local, err: err}
	}
	return out
}

func (m *memoryBackend) setMany(_ context.Context, items []Item) []error {
	for _, it := range items {
		m.store(it.Key, string(it.Value), it.TTL, false)
	}
	return make([]error, len(items))
}

func (m *memoryBackend) scan(ctx context.Context, match string, fn func(keys []string) error) error {
	now := m.now()
	for i := range m.shards {
		s := &m.shards[i]
		var batch []string
		s.mu.RLock()
		for k, e := range s.items {
			if e.expired(now) {
				continue
			}
			if globMatch(match, k) {
				batch = append(batch, k)
			}
		}
		s.mu.RUnlock()
		// fn runs without the lock so it may delete what it is given.
		for len(batch) > 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := min(len(batch), scanBatch)
			if err := fn(batch[:n]); err != nil {
				return err
			}
			batch = batch[n:]
		}
	}
	return nil
}

func (m *memoryBackend) deleteMatching(ctx context.Context, match string) (int64, error) {
	var total int64
	err := m.scan(ctx, match, func(keys []string) error {
		n, err := m.del(ctx, keys)
		total += n
		return err
	})
	return total, err
}

func (m *memoryBackend) ping(context.Context) error { return nil }

func (m *memoryBackend) memory(context.Context) (int64, int64, error) {
	return m.used.Load(), m.maxBytes, nil
}

// len counts live and not yet reclaimed entries.
func (m *memoryBackend) len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		n += len(s.items)
		s.mu.RUnlock()
	}
	return n
}

func (m *memoryBackend) expireLoop() {
	defer close(m.done)
	t := time.NewTicker(expireInterval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.expireCycle()
		}
	}
}

// expireCycle is one tick of active expiry over every shard. It returns how
// many entries it removed.
func (m *memoryBackend) expireCycle() int {
	now := m.now()
	removed := 0
	for i := range m.shards {
		for range expireRounds {
			n, sampled := m.expireSample(&m.shards[i], now)
			removed += n
			if n*4 <= sampled {
				break
			}
		}
	}
	return removed
}

// expireSample looks at up to expireSamples entries of s and removes the
// expired ones, under the write lock held for this sample only.
func (m *memoryBackend) expireSample(s *memoryShard, now int64) (removed, sampled int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.items {
		if e.expired(now) {
			m.unlink(s, e) // deleting during range is allowed
			removed++
		}
		if sampled++; sampled == expireSamples {
			break
		}
	}
	return removed, sampled
}

func (m *memoryBackend) close() error {
	m.stopOnce.Do(func() {
		if m.stop != nil {
			close(m.stop)
			<-m.done
		}
	})
	return nil
}
