// Package emgotel instruments emgcache with OpenTelemetry: spans and
// metrics for the reads of a store.Cache (hit_local, hit_remote,
// hit_stale, miss, error), for the loads of a patterns.Layer (their
// duration, errors and the callers that waited for another's load), and
// for what the response cache of package middleware did with each request
// (hit, stale, collapsed, miss, bypass, as its Cache-Status header says).
//
// It is a module of its own so that importing store, patterns or
// middleware pulls in no OpenTelemetry: they expose dependency-free Hooks,
// and this package fills them.
//
//	inst := emgotel.New() // the global TracerProvider and MeterProvider
//	cfg := store.ConfigFromEnv()
//	cfg.Hooks = inst.StoreHooks(cfg)
//	cache, err := store.Open(ctx, cfg)
//	...
//	layer := patterns.New(cache, patterns.Options{Hooks: inst.PatternsHooks()})
//	rc := middleware.NewResponseCache(cache, middleware.Options{Route: "analysis", Hooks: inst.MiddlewareHooks()})
//
// # What is recorded
//
// Spans, all of kind internal, nest under the span of the context they are
// given (an otelhttp server span, say):
//
//	emgcache.http      a request through the middleware; the handler and the
//	                   store's reads nest in it
//	emgcache.read      one read of the store, inside a recorded span only: a
//	                   read outside any trace (a background job's) starts none
//	emgcache.load      a loader's run, for a miss, a refresh-ahead or a Warm; what
//	                   the loader does nests in it
//	emgcache.load.wait a caller that waited for another caller's load
//
// Metrics, durations in seconds:
//
//	emgcache.read.duration  histogram: emgcache.read.outcome, emgcache.read.counted,
//	                        db.system.name
//	emgcache.load.duration  histogram: emgcache.load.kind (miss, refresh, warm),
//	                        emgcache.load.outcome (ok, not_found, error), error.type
//	emgcache.load.coalesced counter of the callers served by another's load
//	emgcache.http.duration  histogram: emgcache.http.outcome, emgcache.http.fwd,
//	                        emgcache.route
//
// Attribute names follow the semantic conventions where they have one
// (db.system.name=redis for a Redis backend, error.type,
// http.response.header.cache-status); the rest are under emgcache.*. Keys
// are not recorded unless WithKeys is given: they may name users.
//
// # Per-command spans of Redis
//
// Hits served from the client-side cache never reach the Redis client, so
// a wrapper of the client sees only round trips. For a span per Redis
// command as well, wrap the client with rueidisotel.WithClient through
// store.Config.WrapClient (rueidisotel.NewClient, which upstream prefers,
// builds a client of its own, where WrapClient is handed the store's):
//
//	cfg.WrapClient = func(c rueidis.Client) rueidis.Client {
//		return rueidisotel.WithClient(c)
//	}
package emgotel
