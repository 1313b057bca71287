package emgotel

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
)

// Attribute keys of this package's own; the others are the semantic
// conventions'.
const (
	KeyReadOutcome  = attribute.Key("emgcache.read.outcome")
	KeyReadCounted  = attribute.Key("emgcache.read.counted")
	KeyLoadKind     = attribute.Key("emgcache.load.kind")
	KeyLoadOutcome  = attribute.Key("emgcache.load.outcome")
	KeyHTTPOutcome  = attribute.Key("emgcache.http.outcome")
	KeyHTTPFwd      = attribute.Key("emgcache.http.fwd")
	KeyHTTPDetail   = attribute.Key("emgcache.http.detail")
	KeyHTTPStored   = attribute.Key("emgcache.http.stored")
	KeyHTTPFwdCode  = attribute.Key("emgcache.http.fwd_status")
	KeyRoute        = attribute.Key("emgcache.route")
	KeyCacheKey     = attribute.Key("emgcache.key")
	KeyWaitedOnLoad = attribute.Key("emgcache.load.waited")
)

// Span names.
const (
	SpanRead     = "emgcache.read"
	SpanLoad     = "emgcache.load"
	SpanLoadWait = "emgcache.load.wait"
	SpanHTTP     = "emgcache.http"
)

// Bucket boundaries, in seconds. Reads served from process memory take
// well under a microsecond and round trips a fraction of a millisecond, so
// the default boundaries (0 to 10000) would put every read in the first
// bucket.
var (
	readBuckets = []float64{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}
	slowBuckets = []float64{1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
)

// Instrumentation holds the tracer and the instruments that the hooks it
// returns record to. Create it with New; it is safe for concurrent use,
// and one Instrumentation may fill the hooks of several caches, layers and
// middlewares.
type Instrumentation struct {
	tracer    trace.Tracer
	keys      bool
	readDur   metric.Float64Histogram
	loadDur   metric.Float64Histogram
	coalesced metric.Int64Counter
	httpDur   metric.Float64Histogram
}

// New returns an Instrumentation recording to the providers of opts, by
// default the global ones. An instrument the MeterProvider fails to create
// is reported to otel.Handle and left a no-op, as the contrib
// instrumentations do: telemetry never stops the program.
func New(opts ...Option) *Instrumentation {
	c := newConfig(opts)
	meter := c.mp.Meter(ScopeName)
	in := &Instrumentation{tracer: c.tp.Tracer(ScopeName), keys: c.keys}
	in.readDur = histogram(meter, "emgcache.read.duration",
		"Duration of reads of the cache, by outcome.", readBuckets)
	in.loadDur = histogram(meter, "emgcache.load.duration",
		"Duration of the loader runs of cache-aside misses and refreshes.", slowBuckets)
	var err error
	if in.coalesced, err = meter.Int64Counter("emgcache.load.coalesced", metric.WithUnit("{call}"),
		metric.WithDescription("Cache-aside calls served by a load another call of the process ran.")); err != nil {
		otel.Handle(err)
		if in.coalesced == nil {
			in.coalesced = noop.Int64Counter{}
		}
	}
	in.httpDur = histogram(meter, "emgcache.http.duration",
		"Duration of the requests through the response cache, by outcome.", slowBuckets)
	return in
}

// histogram creates a duration histogram in seconds with the bucket
// boundaries buckets. An error goes to otel.Handle; the instrument the
// provider returned with it is kept, and a nil one is replaced by a no-op,
// so that recording never panics.
func histogram(meter metric.Meter, name, desc string, buckets []float64) metric.Float64Histogram {
	h, err := meter.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
		metric.WithExplicitBucketBoundaries(buckets...))
	if err != nil {
		otel.Handle(err)
		if h == nil {
			return noop.Float64Histogram{}
		}
	}
	return h
}

// StoreHooks returns the hooks for a store.Cache opened with cfg: set them
// as cfg.Hooks before store.Open. A Redis URL in cfg makes its spans and
// metrics carry db.system.name=redis; the embedded backend has no
// semantic-convention name and carries none.
func (in *Instrumentation) StoreHooks(cfg store.Config) store.Hooks {
	var system []attribute.KeyValue
	if cfg.URL != "" {
		system = []attribute.KeyValue{semconv.DBSystemNameRedis}
	}
	// The attribute sets of the metric, built once: a read from process
	// memory costs tens of nanoseconds, and building a set per read would
	// cost more than the read.
	// Each is a slice of its own, passed on with ..., so that recording
	// allocates nothing either.
	var sets [store.ReadError + 1][2][]metric.RecordOption
	for o := store.ReadHitLocal; o <= store.ReadError; o++ {
		for counted := range 2 {
			kvs := append([]attribute.KeyValue{KeyReadOutcome.String(o.String()), KeyReadCounted.Bool(counted == 1)}, system...)
			sets[o][counted] = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(kvs...))}
		}
	}
	return store.Hooks{Read: func(ctx context.Context, info store.ReadInfo) {
		if info.Outcome < store.ReadHitLocal || info.Outcome > store.ReadError {
			return
		}
		counted := 1
		if info.Uncounted {
			counted = 0
		}
		in.readDur.Record(ctx, info.Duration.Seconds(), sets[info.Outcome][counted]...)
		// A read is a leaf of the operation it serves: outside a recorded
		// span it starts no trace of its own, which would be a root span
		// per hit of a background job.
		if !trace.SpanFromContext(ctx).IsRecording() {
			return
		}
		// The read is over: its span is made after the fact, with the
		// read's own start and end.
		_, span := in.tracer.Start(ctx, SpanRead, trace.WithSpanKind(trace.SpanKindInternal), trace.WithTimestamp(info.Start))
		if span.IsRecording() {
			span.SetAttributes(KeyReadOutcome.String(info.Outcome.String()))
			span.SetAttributes(system...)
			if info.Uncounted {
				span.SetAttributes(KeyReadCounted.Bool(false))
			}
			if in.keys {
				span.SetAttributes(KeyCacheKey.String(info.Key))
			}
			if info.Err != nil {
				span.SetAttributes(semconv.ErrorTypeKey.String(storeErrorType(info.Err)))
				span.SetStatus(codes.Error, info.Err.Error())
			}
		}
		span.End(trace.WithTimestamp(info.Start.Add(info.Duration)))
	}}
}

// storeErrorType is the error.type of a failed read: what a dashboard
// groups failures by.
func storeErrorType(err error) string {
	switch {
	case errors.Is(err, store.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, store.ErrClosed):
		return "closed"
	case errors.Is(err, store.ErrInvalidKey):
		return "invalid_key"
	}
	return contextErrorType(err)
}

func contextErrorType(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return semconv.ErrorTypeOther.Value.AsString()
}

// PatternsHooks returns the hooks for a patterns.Layer: set them as
// patterns.Options.Hooks.
func (in *Instrumentation) PatternsHooks() patterns.Hooks {
	return patterns.Hooks{
		Load: func(ctx context.Context, info patterns.LoadInfo) (context.Context, func(error)) {
			kind := KeyLoadKind.String(info.Kind.String())
			start := time.Now()
			ctx, span := in.tracer.Start(ctx, SpanLoad, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(kind))
			if in.keys && span.IsRecording() {
				span.SetAttributes(KeyCacheKey.String(info.Key))
			}
			return ctx, func(err error) {
				attrs := []attribute.KeyValue{kind, KeyLoadOutcome.String("ok")}
				switch {
				case errors.Is(err, patterns.ErrNotFound):
					attrs[1] = KeyLoadOutcome.String("not_found")
				case err != nil:
					attrs[1] = KeyLoadOutcome.String("error")
					attrs = append(attrs, semconv.ErrorTypeKey.String(contextErrorType(err)))
					span.RecordError(err)
					span.SetStatus(codes.Error, err.Error())
				}
				in.loadDur.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attrs...))
				span.SetAttributes(attrs[1:]...)
				span.End()
			}
		},
		Joined: func(ctx context.Context, key string, waited time.Duration, err error) {
			in.coalesced.Add(ctx, 1)
			end := time.Now()
			_, span := in.tracer.Start(ctx, SpanLoadWait, trace.WithSpanKind(trace.SpanKindInternal), trace.WithTimestamp(end.Add(-waited)))
			if span.IsRecording() {
				if in.keys {
					span.SetAttributes(KeyCacheKey.String(key))
				}
				if err != nil && !errors.Is(err, patterns.ErrNotFound) {
					span.SetStatus(codes.Error, err.Error())
				}
			}
			span.End(trace.WithTimestamp(end))
		},
	}
}

// MiddlewareHooks returns the hooks for a middleware.ResponseCache: set them
// as middleware.Options.Hooks. Each request gets a span, under the
// request's own (otelhttp's server span, when the handler is wrapped in
// otelhttp.NewHandler), that the handler's work nests in.
func (in *Instrumentation) MiddlewareHooks() middleware.Hooks {
	return middleware.Hooks{Request: func(r *http.Request) (context.Context, func(middleware.Outcome)) {
		start := time.Now()
		ctx, span := in.tracer.Start(r.Context(), SpanHTTP, trace.WithSpanKind(trace.SpanKindInternal),
			trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method)))
		return ctx, func(o middleware.Outcome) {
			attrs := make([]attribute.KeyValue, 0, 8)
			attrs = append(attrs, KeyHTTPOutcome.String(string(o.Kind)))
			if o.Fwd != "" {
				attrs = append(attrs, KeyHTTPFwd.String(o.Fwd))
			}
			if o.Route != "" {
				attrs = append(attrs, KeyRoute.String(o.Route))
			}
			in.httpDur.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attrs...))
			if span.IsRecording() {
				span.SetAttributes(attrs...)
				if o.Detail != "" {
					span.SetAttributes(KeyHTTPDetail.String(o.Detail))
				}
				if o.FwdStatus != 0 {
					span.SetAttributes(KeyHTTPFwdCode.Int(o.FwdStatus))
				}
				if o.Stored {
					span.SetAttributes(KeyHTTPStored.Bool(true))
				}
				if o.CacheStatus != "" {
					span.SetAttributes(semconv.HTTPResponseHeader("cache-status", o.CacheStatus))
				}
			}
			span.End()
		}
	}}
}
