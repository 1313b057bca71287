package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/emgcache/emgcache/internal/list"
)

// The client-side cache. rueidis keeps one cache store per connection and
// empties entries when Redis sends an invalidation. That alone does not give
// read-your-writes: Redis 7.0 may deliver the invalidation of a key this
// process just wrote after later replies on the same connection, so a read
// right after the write's reply could still see the old value. Owning the
// stores lets the write path drop the key itself as soon as the write's reply
// is in: any reply read before that was already stored (and is dropped), and
// any read sent after it sees the new value.

// clientCaches tracks the live client-side cache stores of one backend.
// rueidis opens a store per connection, and a standalone client alone has
// several connections (PipelineMultiplex); the stores share one budget, so
// that ClientCacheBytes bounds the process, not each connection.
type clientCaches struct {
	mu     sync.Mutex
	stores map[*localCache]struct{}
	// list is a copy of stores for the write path to read without locking.
	list atomic.Pointer[[]*localCache]
	// used is what the stores hold together, max their shared budget.
	used, max atomic.Int64
}

func newClientCaches() *clientCaches {
	cc := &clientCaches{stores: make(map[*localCache]struct{})}
	cc.list.Store(&[]*localCache{})
	return cc
}

// newStore is the rueidis.NewCacheStoreFn of a backend.
func (cc *clientCaches) newStore(opt rueidis.CacheStoreOption) rueidis.CacheStore {
	// CacheSizeEachConn is ClientCacheBytes, the same for every store.
	cc.max.Store(int64(opt.CacheSizeEachConn))
	l := newLocalCache(int64(opt.CacheSizeEachConn), cc)
	cc.mu.Lock()
	cc.stores[l] = struct{}{}
	cc.publish()
	cc.mu.Unlock()
	return l
}

func (cc *clientCaches) publish() {
	list := make([]*localCache, 0, len(cc.stores))
	for l := range cc.stores {
		list = append(list, l)
	}
	cc.list.Store(&list)
}

func (cc *clientCaches) remove(l *localCache) {
	cc.mu.Lock()
	delete(cc.stores, l)
	cc.publish()
	cc.mu.Unlock()
}

// forget drops key from every store; called once a write of key has been
// acknowledged (or has failed, leaving the value unknown).
func (cc *clientCaches) forget(key string) {
	for _, l := range *cc.list.Load() {
		l.forget(key)
	}
}

// forgetWhere drops every entry whose key drop selects, from every store.
func (cc *clientCaches) forgetWhere(drop func(key string) bool) {
	for _, l := range *cc.list.Load() {
		l.mu.Lock()
		for k, n := range l.items {
			// k is n's key, the Redis key: insert keeps them the same.
			if drop(k) {
				l.unlink(n)
			}
		}
		l.mu.Unlock()
	}
}

// lookup serves key from whichever connection's store holds it, without
// going through rueidis: an entry is present only while its connection is
// alive and Redis tracks the key for it, so it is as current as a DoCache
// hit, and answering here needs no context and no round trip. found is
// false when no store holds a live entry; a cached nil reply is found, with
// err ErrNotFound. now is the wall clock in Unix nanoseconds.
func (cc *clientCaches) lookup(key string, now int64) (value string, found bool, err error) {
	ms := now / int64(time.Millisecond)
	for _, l := range *cc.list.Load() {
		l.mu.RLock()
		n := l.items[key]
		if n == nil || n.Value.xat <= ms {
			l.mu.RUnlock()
			continue
		}
		if !n.Value.used.Load() {
			n.Value.used.Store(true)
		}
		msg := n.Value.val
		l.mu.RUnlock()
		if msg.IsNil() {
			return "", true, ErrNotFound
		}
		s, err := msg.ToString()
		if err != nil {
			// Not a string reply: let rueidis report it.
			return "", false, nil
		}
		return s, true, nil
	}
	return "", false, nil
}

// localCache is one connection's client-side cache: a byte-bounded map with
// CLOCK (second chance) eviction, so that a hit only sets a flag under a read
// lock and concurrent hits do not contend on reordering a list. It
// implements rueidis.CacheStore, including the single-flight contract: one
// request per missing key, the others wait for its reply.
type localCache struct {
	mu      sync.RWMutex
	items   map[string]*cacheNode
	flights map[string]*cacheFlight
	dirty   map[string]*dirtyKey
	// order is the CLOCK's ring, cut open: insert adds at the front, and
	// eviction looks at the back.
	order list.List[cacheEntry]
	// size is what this store holds; max bounds it when the store has no
	// owner, else the owner's budget bounds all its stores together.
	size, max int64
	owner     *clientCaches
}

// cacheNode is an entry in its place in the eviction order: one
// allocation.
type cacheNode = list.Element[cacheEntry]

type cacheEntry struct {
	key  string
	val  rueidis.RedisMessage
	xat  int64 // client-side expiry, Unix ms
	size int64
	// used is set by a read and cleared by eviction's second chance.
	used atomic.Bool
}

// cacheFlight is a GET in flight that reads of the same key wait for
// (rueidis.CacheEntry). It is not a call of the singleflight that patterns
// and middleware share (internal/flight): a flight here changes together
// with the entries and the dirty-key records, under the store's one lock (a
// write drops the key's entry and poisons its flight in one step, and a
// reply either completes a flight and stores its entry or does neither),
// which a group under a lock of its own could give only with a second lock
// taken on every miss. Each flight is completed exactly once, by whoever
// removes it from flights or dirty under the lock.
type cacheFlight struct {
	ch  chan struct{}
	val rueidis.RedisMessage
	err error
	xat int64
}

// dirtyKey tracks the replies this connection still expects for a key
// that was written, or whose read was cancelled. rueidis matches a reply
// to the store by key alone, so without it the reply to a GET sent before
// a write could be stored after the write, or complete a flight that a
// read started after the write, and the writer would read its own write
// back as the old value. Replies on one connection arrive in the order
// the GETs were sent, so once `old` replies have come in, every reply
// still to come is for a GET sent after the write.
type dirtyKey struct {
	// outstanding counts GETs of the key sent and not yet answered, as far
	// as this store knows: the flight a write poisoned, reads sent while
	// the key was dirty, cancelled reads whose reply may still come.
	outstanding int
	// old is how many of the next replies may predate the last write.
	// While it is above zero, replies are neither stored nor shared and
	// readers go to Redis on their own.
	old int
	// poisoned are flights pending when the key was written: their
	// waiters, who all joined before the write, get the next old replies;
	// nobody joins them any more.
	poisoned []*cacheFlight
	// since bounds how long a reply that never comes (a request Redis
	// aborted) keeps the key dirty.
	since int64
}

// dirtyHold is how long a key stays dirty at most: far longer than a
// reply takes on a live connection, whose pings time out within
// Config.OpTimeout and close it, which drops the whole store.
const dirtyHold = time.Minute

// dirtyEntry returns k's record, creating it. The lock must be held.
func (l *localCache) dirtyEntry(k string, now int64) *dirtyKey {
	d := l.dirty[k]
	if d == nil {
		if l.dirty == nil {
			l.dirty = make(map[string]*dirtyKey)
		}
		d = &dirtyKey{}
		l.dirty[k] = d
	}
	d.since = now
	return d
}

// settle drops k's record once no old reply is expected and none is
// outstanding. The lock must be held.
func (l *localCache) settle(k string, d *dirtyKey) {
	if d.old > 0 {
		return
	}
	l.releasePoisoned(d)
	if d.outstanding <= 0 {
		delete(l.dirty, k)
	}
}

func (f *cacheFlight) Wait(ctx context.Context) (rueidis.RedisMessage, error) {
	select {
	case <-ctx.Done():
		return rueidis.RedisMessage{}, ctx.Err()
	case <-f.ch:
		return f.val, f.err
	}
}

var _ rueidis.CacheStore = (*localCache)(nil)

func newLocalCache(max int64, owner *clientCaches) *localCache {
	return &localCache{max: max, owner: owner, items: make(map[string]*cacheNode), flights: make(map[string]*cacheFlight)}
}

// cachedCmd reports whether the store keeps the replies of cmd: GET's
// only, the one command this package caches, so that entries, flights and
// dirty records are all keyed by the Redis key alone. A write or an
// invalidation names the key, not the commands that read it, and the
// write path's bookkeeping (dirtyKey) covers the key's GETs; the reply of
// another command (a DoCache through Cache.RedisClient) kept under
// key+cmd would be reached by neither and could be served stale. Such
// commands go to Redis every time: Flight answers a miss with no flight,
// and Update and Cancel leave the store alone.
func cachedCmd(cmd string) bool { return cmd == "GET" }

func (l *localCache) Flight(k, cmd string, ttl time.Duration, now time.Time) (rueidis.RedisMessage, rueidis.CacheEntry) {
	if !cachedCmd(cmd) {
		return rueidis.RedisMessage{}, nil
	}
	ms := now.UnixMilli()
	l.mu.RLock()
	if n := l.items[k]; n != nil && n.Value.xat > ms {
		if !n.Value.used.Load() {
			n.Value.used.Store(true)
		}
		v := n.Value.val
		l.mu.RUnlock()
		return v, nil
	}
	f := l.flights[k]
	l.mu.RUnlock()
	if f != nil {
		return rueidis.RedisMessage{}, f
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.flights == nil { // closed
		return rueidis.RedisMessage{}, nil
	}
	if f = l.flights[k]; f != nil {
		return rueidis.RedisMessage{}, f
	}
	if d := l.dirty[k]; d != nil {
		switch {
		case ms-d.since >= dirtyHold.Milliseconds():
			l.releasePoisoned(d)
			delete(l.dirty, k)
		case d.old > 0:
			// Sent on its own: a flight now could be completed by an old reply.
			d.outstanding++
			return rueidis.RedisMessage{}, nil
		}
	}
	l.flights[k] = &cacheFlight{ch: make(chan struct{}), xat: now.Add(ttl).UnixMilli()}
	return rueidis.RedisMessage{}, nil
}

func (l *localCache) Update(k, cmd string, val rueidis.RedisMessage) (pxat int64) {
	if !cachedCmd(cmd) {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.flights[k]
	if d := l.dirty[k]; d != nil && (f == nil || d.old > 0) {
		d.outstanding--
		if d.old > 0 {
			d.old--
			if len(d.poisoned) > 0 {
				p := d.poisoned[0]
				d.poisoned = d.poisoned[1:]
				p.val = val
				close(p.ch)
			}
		}
		l.settle(k, d)
		return 0
	}
	if f == nil {
		return 0
	}
	delete(l.flights, k)
	pxat = val.CachePXAT()
	if pxat <= 0 || f.xat < pxat {
		pxat = f.xat
	}
	f.val = val
	close(f.ch)
	l.insert(&cacheNode{Value: cacheEntry{key: k, val: val, xat: pxat, size: int64(len(k)+val.CacheSize()) + 96}})
	return pxat
}

func (l *localCache) Cancel(k, cmd string, err error) {
	if !cachedCmd(cmd) {
		return
	}
	l.mu.Lock()
	if f := l.flights[k]; f != nil {
		delete(l.flights, k)
		f.err = err
		close(f.ch)
		// The request was given up, but its reply may still come, and a
		// write landing before it would make it old.
		l.dirtyEntry(k, time.Now().UnixMilli()).outstanding++
	}
	l.mu.Unlock()
}

func (l *localCache) Delete(keys []rueidis.RedisMessage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if keys == nil {
		l.clear()
		return
	}
	for _, m := range keys {
		if k, err := m.ToString(); err == nil {
			l.removeKey(k)
		}
	}
}

// removeKey drops the entry of one Redis key. The lock must be held.
func (l *localCache) removeKey(key string) {
	if n := l.items[key]; n != nil {
		l.unlink(n)
	}
}

// forget drops key after a write of it: its entry, and its pending flight,
// whose reply may predate the write (see dirtyKey).
func (l *localCache) forget(key string) {
	l.mu.Lock()
	l.removeKey(key)
	f := l.flights[key]
	if d := l.dirty[key]; f != nil || d != nil {
		d = l.dirtyEntry(key, time.Now().UnixMilli())
		if f != nil {
			delete(l.flights, key)
			d.poisoned = append(d.poisoned, f)
			d.outstanding++
		}
		// Every reply still expected was asked for before this write.
		d.old = d.outstanding
		l.settle(key, d)
	}
	l.mu.Unlock()
}

// releasePoisoned ends the wait of poisoned flights whose reply will not
// come, or not in time: their readers fall back to the origin.
func (l *localCache) releasePoisoned(d *dirtyKey) {
	for _, f := range d.poisoned {
		f.err = ErrUnavailable
		close(f.ch)
	}
	d.poisoned = nil
}

func (l *localCache) Close(err error) {
	l.mu.Lock()
	waiting := make([]*cacheFlight, 0, len(l.flights))
	for _, f := range l.flights {
		waiting = append(waiting, f)
	}
	for _, d := range l.dirty {
		waiting = append(waiting, d.poisoned...)
	}
	l.flights, l.dirty = nil, nil
	l.clear()
	l.mu.Unlock()
	for _, f := range waiting {
		f.err = err
		close(f.ch)
	}
	if l.owner != nil {
		l.owner.remove(l)
	}
}

// insert adds n at the front and evicts down to the budget. The lock must
// be held.
func (l *localCache) insert(n *cacheNode) {
	if old := l.items[n.Value.key]; old != nil {
		l.unlink(old)
	}
	l.items[n.Value.key] = n
	l.order.PushFront(n)
	l.charge(n.Value.size)
	// Over a shared budget, a store evicts its own entries only (their
	// locks are not its own to take): the one that grows pays, and the
	// budget holds once it has.
	for l.over() && l.order.Back() != nil {
		t := l.order.Back()
		if t != n && t.Value.used.Load() {
			// Second chance: a recently read entry goes back to the front.
			t.Value.used.Store(false)
			l.order.MoveToFront(t)
			continue
		}
		l.unlink(t)
	}
}

func (l *localCache) unlink(n *cacheNode) {
	delete(l.items, n.Value.key)
	l.order.Remove(n)
	l.charge(-n.Value.size)
}

// clear drops every entry. The lock must be held.
func (l *localCache) clear() {
	l.items = make(map[string]*cacheNode)
	l.order.Clear()
	l.charge(-l.size)
}

// charge adds d bytes to this store and to its owner's total. The lock must
// be held.
func (l *localCache) charge(d int64) {
	l.size += d
	if l.owner != nil {
		l.owner.used.Add(d)
	}
}

// over reports whether the budget is exceeded: the owner's, shared by its
// stores, or this store's own.
func (l *localCache) over() bool {
	if l.owner != nil {
		return l.owner.used.Load() > l.owner.max.Load()
	}
	return l.size > l.max
}

func (l *localCache) len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.items)
}
