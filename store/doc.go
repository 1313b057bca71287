// Package store is a byte cache in front of slow work, backed by Redis or by
// an embedded in-memory backend with the same semantics.
//
//	cache, err := store.Open(ctx, store.ConfigFromEnv()) // REDIS_URL; "" is the embedded backend
//	...
//	defer cache.Close()
//	err = cache.Set(ctx, "report:42", body, time.Hour)
//	v, err := cache.GetString(ctx, "report:42") // ErrNotFound on a miss; any other error: load from the origin
//
// Start with [Open]; [Config]'s zero value works. For cache-aside with
// stampede protection, batches and warming, go on to the patterns module;
// for HTTP responses, to the middleware module; storetest starts real
// redis-server processes for tests.
//
// # Backends
//
// [Open] with an empty [Config.URL] selects the embedded backend: a
// byte-bounded, approximately LRU map with TTLs, behaving like a Redis
// configured with maxmemory 256mb and allkeys-lru. Any other URL is read the way
// rueidis.ParseURL reads it: redis:// and rediss:// (TLS) for one server,
// unix:// for a socket, several addr= parameters for a Redis Cluster and
// master_set= for Sentinel.
//
// # Reads at memory speed
//
// On Redis, reads go through server-assisted client-side caching (RESP3
// CLIENT TRACKING): a key read once is kept in process memory and Redis tells
// the client when it changes, so a repeated read costs no round trip. Two
// guarantees hold and are tested: a Get after this process's own Set or
// Delete of the key never returns the old value (read-your-writes), and a
// change made by another client stops being served within a second
// (coherence), including after the connection was killed.
//
// # The cache is never the reason a request fails
//
// Open succeeds while Redis is down and connects when it comes up. Every Redis
// call is bounded by [Config.OpTimeout]; connections have their own, longer
// [Config.ConnWriteTimeout], so a slow call gives up alone. Each primary
// (the owner of a key's slot in a cluster, the current master under
// Sentinel, the server otherwise) has its own circuit breaker: a node that
// fails or stalls costs only its own keys. An open breaker refuses its keys
// with [ErrUnavailable] in microseconds, PINGs its node and closes on the
// first answer; a promoted replica starts with a fresh one. Values in the
// client-side cache are served whatever the breakers say, while their node
// has answered within the last 750 ms. A caller's own
// cancellation or deadline is returned as the context's error and never
// counts against a breaker. Callers treat any error from Get as a miss and
// load from the origin.
//
// When [Config.StaleBytes] is set, values read recently are also kept in a
// bounded local copy, and [Cache.Lookup] serves them, marked [SourceStale],
// while Redis is unavailable. It is off by default because a stale value is
// only acceptable where the caller says so.
//
// Failures are counted in [Cache.Stats]; with [Config.Logger] set they are
// also logged, one record per operation every [FailureLogInterval].
//
// # Past the wrapper
//
// [Config.AdjustClientOption] sets what the store has no field for on the
// rueidis.ClientOption it builds (ClientName, replica reads,
// AuthCredentialsFn), [Config.WrapClient] wraps the client it makes (for
// rueidishook or tracing), and [Cache.RedisClient] returns that client for
// commands the store has no method for.
//
// # Keys
//
// Every key is stored under [Config.KeyPrefix] (default [DefaultKeyPrefix]),
// which confines pattern deletes and scans to what this cache wrote. Keys are
// binary-safe and the store gives them no meaning: a layout of keys belongs
// to the application.
// [Cache.NamespaceVersion] and [Cache.InvalidateNamespace] let a family of
// keys, of any number, be dropped with one write.
//
// # Reading
//
// One read per need, each counted in [Stats]' hits and misses:
//
//   - [Cache.GetString] for values that are only read (JSON to decode,
//     bytes to write to a response): the string is the cached value itself,
//     and a hit from process memory allocates nothing;
//   - [Cache.Get] for a []byte of the caller's own, to modify or keep;
//   - [Cache.Lookup] when the caller treats a stale value, or one that cost
//     a round trip, differently: it also says where the value came from;
//   - [Cache.GetMany] for several keys;
//   - [GetValue] (with the cache's [Codec]) and [GetJSON] for typed values.
//
// [Cache.Uncounted] reads the same way without being counted, for a
// layer's further reads of one request (the middleware counts a request's
// first read, and not the variant a vary record points it to) and for
// bookkeeping keys (a lock being polled), so that the hit rate describes
// the reads of cached data that callers asked for. [Cache.LocalString] and
// [Cache.LocalNamespaceVersion] answer from process memory alone, without a
// context, or say [ErrNotLocal]: for a layer that sets up per-request state
// (a budget) only when a read would have to wait.
//
// # Typed values
//
// [GetValue] and [GetJSON] decode a stored value once per stored version
// and share the result: every read that finds the same entry (in the
// client-side cache or the embedded backend) gets the same decoded value,
// as fast as [Cache.GetString] and without allocating, and a new version
// (a write from any process, a delete, an expiry, an invalidation) is
// decoded anew, so a decoded value is returned exactly as long as its entry
// is. Callers must not modify shared values; types implementing [Cloner]
// are cloned instead, and a negative [Config.DecodedSlots] turns sharing
// off. [Config.Codec] chooses the encoding of [GetValue], [SetValue] and
// the patterns module: JSON by default, MessagePack with the
// codec/msgpack module, or any [Codec]. Values of a codec other than JSON
// carry its name, so that another codec refuses them with [ErrDecode].
//
// All methods of [Cache] are safe for concurrent use.
package store
