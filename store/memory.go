package store

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

const (
	memoryShards = 16
	// entryOverhead approximates what an entry costs beyond its key and
	// value (map slot, list links, header), so that many tiny entries cannot
	// exceed the memory bound.
	entryOverhead = 96
	// sweepInterval is how often expired entries are reclaimed when nobody
	// touches them.
	sweepInterval = time.Second
	scanBatch     = 1000
)

// memoryBackend is the embedded backend: sharded maps with an LRU list per
// shard and one memory budget across shards. Each shard's tail is its least
// recently used entry, so evicting the oldest of the shard tails is LRU over
// the whole cache, like Redis' allkeys-lru but exact.
type memoryBackend struct {
	shards   [memoryShards]memoryShard
	seed     maphash.Seed
	maxBytes int64
	used     atomic.Int64
	now      func() time.Time
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

type memoryShard struct {
	mu    sync.Mutex
	items map[string]*memoryEntry
	// head is the most recently used entry, tail the least.
	head, tail *memoryEntry
}

type memoryEntry struct {
	key        string
	value      string
	expires    time.Time // zero: no expiry
	touched    int64     // UnixNano of the last read or write
	prev, next *memoryEntry
}

func (e *memoryEntry) size() int64 { return int64(len(e.key)+len(e.value)) + entryOverhead }

func newMemoryBackend(maxBytes int64, janitor bool) *memoryBackend {
	m := &memoryBackend{seed: maphash.MakeSeed(), maxBytes: maxBytes, now: time.Now}
	for i := range m.shards {
		m.shards[i].items = make(map[string]*memoryEntry)
	}
	if janitor {
		m.stop, m.done = make(chan struct{}), make(chan struct{})
		go m.sweepLoop()
	}
	return m
}

func (m *memoryBackend) name() string { return "memory" }

func (m *memoryBackend) shard(key string) *memoryShard {
	return &m.shards[maphash.String(m.seed, key)%memoryShards]
}

// lookup returns the live entry for key, removing it if it has expired.
// The shard lock must be held.
func (m *memoryBackend) lookup(s *memoryShard, key string, now time.Time) *memoryEntry {
	e := s.items[key]
	if e == nil {
		return nil
	}
	if !e.expires.IsZero() && !now.Before(e.expires) {
		m.unlink(s, e)
		return nil
	}
	return e
}

func (m *memoryBackend) get(_ context.Context, key string) (string, bool, error) {
	s := m.shard(key)
	now := m.now()
	s.mu.Lock()
	e := m.lookup(s, key, now)
	if e == nil {
		s.mu.Unlock()
		return "", true, ErrNotFound
	}
	s.moveToFront(e)
	e.touched = now.UnixNano()
	v := e.value
	s.mu.Unlock()
	return v, true, nil
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
// hand them out without copying.
func (m *memoryBackend) store(key, value string, ttl time.Duration, onlyIfAbsent bool) bool {
	now := m.now()
	e := &memoryEntry{key: key, value: value, touched: now.UnixNano()}
	if ttl > 0 {
		e.expires = now.Add(ttl)
	}
	s := m.shard(key)
	s.mu.Lock()
	if old := m.lookup(s, key, now); old != nil {
		if onlyIfAbsent {
			s.mu.Unlock()
			return false
		}
		m.unlink(s, old)
	}
	s.items[key] = e
	s.pushFront(e)
	m.used.Add(e.size())
	s.mu.Unlock()
	m.evict()
	return true
}

// evict removes the least recently used entries until the budget holds.
func (m *memoryBackend) evict() {
	for m.used.Load() > m.maxBytes {
		var oldest *memoryShard
		var oldestAt int64
		for i := range m.shards {
			s := &m.shards[i]
			s.mu.Lock()
			if s.tail != nil && (oldest == nil || s.tail.touched < oldestAt) {
				oldest, oldestAt = s, s.tail.touched
			}
			s.mu.Unlock()
		}
		if oldest == nil {
			return
		}
		oldest.mu.Lock()
		if t := oldest.tail; t != nil {
			m.unlink(oldest, t)
		}
		oldest.mu.Unlock()
	}
}

// unlink removes e from its shard. The shard lock must be held.
func (m *memoryBackend) unlink(s *memoryShard, e *memoryEntry) {
	delete(s.items, e.key)
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		s.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = nil, nil
	m.used.Add(-e.size())
}

func (s *memoryShard) pushFront(e *memoryEntry) {
	e.prev, e.next = nil, s.head
	if s.head != nil {
		s.head.prev = e
	}
	s.head = e
	if s.tail == nil {
		s.tail = e
	}
}

func (s *memoryShard) moveToFront(e *memoryEntry) {
	if s.head == e {
		return
	}
	e.prev.next = e.next
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = nil, s.head
	s.head.prev = e
	s.head = e
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
	s.mu.Lock()
	defer s.mu.Unlock()
	return m.lookup(s, key, m.now()) != nil, nil
}

func (m *memoryBackend) ttl(_ context.Context, key string) (time.Duration, error) {
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.now()
	e := m.lookup(s, key, now)
	if e == nil {
		return 0, ErrNotFound
	}
	if e.expires.IsZero() {
		return NoExpiry, nil
	}
	return e.expires.Sub(now), nil
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
		s.mu.Lock()
		for k, e := range s.items {
			if !e.expires.IsZero() && !now.Before(e.expires) {
				continue
			}
			if globMatch(match, k) {
				batch = append(batch, k)
			}
		}
		s.mu.Unlock()
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
		s.mu.Lock()
		n += len(s.items)
		s.mu.Unlock()
	}
	return n
}

func (m *memoryBackend) sweepLoop() {
	defer close(m.done)
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.sweep()
		}
	}
}

// sweep reclaims expired entries that no read has touched.
func (m *memoryBackend) sweep() {
	now := m.now()
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		for _, e := range s.items {
			if !e.expires.IsZero() && !now.Before(e.expires) {
				m.unlink(s, e)
			}
		}
		s.mu.Unlock()
	}
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
