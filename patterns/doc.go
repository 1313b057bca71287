// Package patterns builds the caching patterns a high-traffic service needs on
// top of a [store.Cache]: cache-aside with stampede protection, pipelined
// batch reads and writes, cache warming by priority, and invalidation by key
// pattern or by namespace. Every pattern works on both store backends (Redis,
// including Redis Cluster, and the embedded in-memory backend).
//
//	p := patterns.New(cache, patterns.Options{}) // one Layer per cache, shared
//	defer p.Close()
//	r, err := patterns.Aside(ctx, p, "report:"+id, time.Hour, func(ctx context.Context) (Report, error) {
//		return buildReport(ctx, id) // once per key at a time, across every process sharing the cache
//	})
//
// Start with [New] and [Aside]; [Options]' zero value is the documented
// defaults. Keys are the caller's: the layer gives them no meaning.
//
// # Cache-aside
//
// [Aside] is the recommended path: return the cached value of a key, or load
// it on a miss, store it and return it. Values are encoded with the cache's
// codec (JSON unless store.Config.Codec says otherwise), so
// [store.GetValue] reads what Aside wrote; a hit shares the value decoded
// once per stored version, which callers must not modify.
//
// A popular key that expires is where caches hurt the origin most: every
// request misses at once. Aside runs one load per key at a time in a
// process, and writes a placeholder into the key in Redis before it loads
// (SET NX, a random token), so that one process loads while the others
// wait for the value. The wait is bounded ([Options.LockWait]): a peer that
// is slow or dead costs a second load, never a hung request.
//
// No invalidation is lost to a load in flight. The load writes its value
// only while the key still holds its placeholder, in one compare-and-set
// ([store.Cache.CompareAndSet]); a Delete or [Layer.InvalidatePattern]
// that returns during the load removed the placeholder, so the load runs
// again and its callers get the value loaded after the invalidation.
// Refresh-ahead and [Layer.Warm] write under the same rule: a reload
// replaces only the value it read before it started.
//
// The cache is never the reason a call fails. When Redis is unavailable,
// Aside returns what the loader returns, and the failure goes to
// [Options.OnError]. A loader's error is returned and not cached, except
// that [WithNegativeCache] remembers "not found" ([ErrNotFound]) for a short
// while, so that requests for an id that does not exist cannot hammer
// the database.
//
// Keys written together should not expire together: every TTL this package
// writes is spread by [Options.Jitter] (±10 % by default). With
// [WithRefreshAhead], a read that finds a key near the end of its life
// returns it at once and reloads it in the background, so a hot key never
// misses. Background work is tracked: [Layer.Close] stops it and waits.
//
// # Batches
//
// [Layer.BatchGet] and [Layer.BatchSet] (and their typed twins
// [BatchGetValues] and [BatchSetValues]) cost one round trip per Redis node
// however many keys they carry; keys held in the client-side cache cost
// none. Failures are per key: a [BatchResult] each for reads, a [BatchError]
// naming the keys not stored for writes.
//
// # Warming
//
// [Layer.Warm] preloads keys before traffic arrives, highest priority
// first, a bounded number at a time, skipping keys already cached unless
// forced, with a [WarmResult] per item and a progress callback.
//
// # Invalidation
//
// [Layer.InvalidatePattern] removes the keys matching a glob with SCAN and
// UNLINK on every primary, never KEYS, confined to the cache's key prefix.
// [Layer.InvalidateNamespace] invalidates a whole family of keys in one
// write, whatever the cache holds: the keys [Layer.VersionedKey] returns
// for a namespace, and the HTTP responses the middleware stores under it,
// carry the namespace's version, which it replaces. Old entries are never
// read again and age out by their TTL.
package patterns
