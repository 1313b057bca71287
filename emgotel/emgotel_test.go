package emgotel_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/emgcache/emgcache/emgotel"
	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
	"github.com/emgcache/emgcache/store/storetest"
)

// telemetry is an SDK recording in memory: finished spans and a reader
// collected on demand.
type telemetry struct {
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newTelemetry(t *testing.T) *telemetry {
	t.Helper()
	tel := &telemetry{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tel.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tel.spans))
	tel.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	t.Cleanup(func() {
		_ = tel.tp.Shutdown(context.Background())
		_ = tel.mp.Shutdown(context.Background())
	})
	return tel
}

func (tel *telemetry) inst(opts ...emgotel.Option) *emgotel.Instrumentation {
	return emgotel.New(append([]emgotel.Option{emgotel.WithTracerProvider(tel.tp), emgotel.WithMeterProvider(tel.mp)}, opts...)...)
}

// ended returns the finished spans called name.
func (tel *telemetry) ended(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range tel.spans.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// histogram returns the data points of the histogram called name.
func (tel *telemetry) histogram(t *testing.T, name string) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				assert.Equal(t, emgotel.ScopeName, sm.Scope.Name)
				assert.Equal(t, "s", m.Unit)
				return m.Data.(metricdata.Histogram[float64]).DataPoints
			}
		}
	}
	return nil
}

// counts sums the data points' counts by the value of key.
func counts(points []metricdata.HistogramDataPoint[float64], key attribute.Key) map[string]uint64 {
	out := map[string]uint64{}
	for _, p := range points {
		v, _ := p.Attributes.Value(key)
		out[v.Emit()] += p.Count
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func attrString(s sdktrace.ReadOnlySpan, key attribute.Key) string {
	v, _ := attr(s, key)
	return v.Emit()
}

func openCache(t *testing.T, cfg store.Config) *store.Cache {
	t.Helper()
	c, err := store.Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestStoreReads(t *testing.T) {
	srv := storetest.NewServer(t)
	for _, tc := range []struct {
		name   string
		url    string
		first  string // the outcome of the first read after a write
		system string // db.system.name, "" for none
	}{
		{"memory", "", "hit_local", ""},
		{"redis", srv.URL(), "hit_remote", "redis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tel := newTelemetry(t)
			cfg := store.Config{URL: tc.url, KeyPrefix: "otel-" + tc.name + ":"}
			cfg.Hooks = tel.inst(emgotel.WithKeys()).StoreHooks(cfg)
			c := openCache(t, cfg)
			ctx, parent := tel.tp.Tracer("test").Start(context.Background(), "request")
			require.NoError(t, c.Set(ctx, "k", []byte("v"), time.Minute))
			_, err := c.Get(ctx, "k")
			require.NoError(t, err)
			_, err = c.GetString(ctx, "k")
			require.NoError(t, err)
			_, err = c.Get(ctx, "absent")
			require.ErrorIs(t, err, store.ErrNotFound)
			require.NoError(t, c.Close())
			_, err = c.Get(ctx, "k")
			require.ErrorIs(t, err, store.ErrClosed)
			parent.End()

			spans := tel.ended(emgotel.SpanRead)
			require.Len(t, spans, 4)
			var outcomes []string
			for _, s := range spans {
				outcomes = append(outcomes, attrString(s, emgotel.KeyReadOutcome))
				assert.Equal(t, parent.SpanContext().SpanID(), s.Parent().SpanID(), "a read nests in its caller's span")
				assert.Equal(t, tc.system, attrString(s, "db.system.name"))
				assert.False(t, s.EndTime().Before(s.StartTime()))
			}
			assert.Equal(t, []string{tc.first, "hit_local", "miss", "error"}, outcomes)
			assert.Equal(t, "k", attrString(spans[0], emgotel.KeyCacheKey))
			assert.Equal(t, codes.Unset, spans[2].Status().Code, "a miss is an answer, not an error")
			assert.Equal(t, codes.Error, spans[3].Status().Code)
			assert.Equal(t, "closed", attrString(spans[3], "error.type"))

			byOutcome := counts(tel.histogram(t, "emgcache.read.duration"), emgotel.KeyReadOutcome)
			want := map[string]uint64{"hit_local": 1, "miss": 1, "error": 1}
			want[tc.first]++
			assert.Equal(t, want, byOutcome)
		})
	}
}

func TestKeysAreLeftOutByDefault(t *testing.T) {
	tel := newTelemetry(t)
	cfg := store.Config{}
	cfg.Hooks = tel.inst().StoreHooks(cfg)
	c := openCache(t, cfg)
	ctx, parent := tel.tp.Tracer("test").Start(context.Background(), "request")
	_, _ = c.Get(ctx, "user:42")
	parent.End()
	spans := tel.ended(emgotel.SpanRead)
	require.Len(t, spans, 1)
	_, ok := attr(spans[0], emgotel.KeyCacheKey)
	assert.False(t, ok)
}

func TestReadOutsideATraceStartsNone(t *testing.T) {
	tel := newTelemetry(t)
	cfg := store.Config{}
	cfg.Hooks = tel.inst().StoreHooks(cfg)
	_, _ = openCache(t, cfg).Get(context.Background(), "k")
	assert.Empty(t, tel.ended(emgotel.SpanRead), "no root span per read")
	assert.Equal(t, map[string]uint64{"miss": 1}, counts(tel.histogram(t, "emgcache.read.duration"), emgotel.KeyReadOutcome),
		"the read is measured all the same")
}

func TestPatternsLoads(t *testing.T) {
	tel := newTelemetry(t)
	inst := tel.inst()
	cfg := store.Config{}
	cfg.Hooks = inst.StoreHooks(cfg)
	layer := patterns.New(openCache(t, cfg), patterns.Options{Hooks: inst.PatternsHooks()})
	t.Cleanup(func() { _ = layer.Close() })
	tracer := tel.tp.Tracer("test")
	ctx, parent := tracer.Start(context.Background(), "request")

	v, err := patterns.Aside(ctx, layer, "a", time.Minute, func(ctx context.Context) (int, error) {
		_, query := tracer.Start(ctx, "database query")
		query.End()
		return 1, nil
	})
	require.NoError(t, err)
	require.Equal(t, 1, v)
	_, err = patterns.Aside(ctx, layer, "a", time.Minute, func(context.Context) (int, error) { return 2, nil })
	require.NoError(t, err)
	origin := errors.New("database is down")
	_, err = patterns.Aside(ctx, layer, "b", time.Minute, func(context.Context) (int, error) { return 0, origin })
	require.ErrorIs(t, err, origin)
	_, err = patterns.Aside(ctx, layer, "c", time.Minute, func(context.Context) (int, error) { return 0, patterns.ErrNotFound })
	require.ErrorIs(t, err, patterns.ErrNotFound)
	parent.End()

	loads := tel.ended(emgotel.SpanLoad)
	require.Len(t, loads, 3, "one per miss, none for the hit")
	for _, s := range loads {
		assert.Equal(t, parent.SpanContext().TraceID(), s.SpanContext().TraceID(), "the load belongs to the request's trace")
		assert.Equal(t, "miss", attrString(s, emgotel.KeyLoadKind))
	}
	query := tel.ended("database query")
	require.Len(t, query, 1)
	assert.Equal(t, loads[0].SpanContext().SpanID(), query[0].Parent().SpanID(), "what the loader does nests in the load")
	assert.Equal(t, "ok", attrString(loads[0], emgotel.KeyLoadOutcome))
	assert.Equal(t, "error", attrString(loads[1], emgotel.KeyLoadOutcome))
	assert.Equal(t, codes.Error, loads[1].Status().Code)
	assert.Equal(t, "not_found", attrString(loads[2], emgotel.KeyLoadOutcome))
	assert.Equal(t, codes.Unset, loads[2].Status().Code)

	assert.Equal(t, map[string]uint64{"ok": 1, "error": 1, "not_found": 1},
		counts(tel.histogram(t, "emgcache.load.duration"), emgotel.KeyLoadOutcome))
	// The three misses' reads and the hit's.
	reads := counts(tel.histogram(t, "emgcache.read.duration"), emgotel.KeyReadOutcome)
	assert.Equal(t, uint64(1), reads["hit_local"])
	assert.Equal(t, uint64(3), reads["miss"])
}

func TestPatternsJoined(t *testing.T) {
	// The coalescing itself is tested in package patterns; here, what the
	// hook records of it.
	tel := newTelemetry(t)
	hooks := tel.inst(emgotel.WithKeys()).PatternsHooks()
	ctx, parent := tel.tp.Tracer("test").Start(context.Background(), "request")
	hooks.Joined(ctx, "k", 30*time.Millisecond, nil)
	hooks.Joined(ctx, "k", time.Millisecond, errors.New("database is down"))
	parent.End()

	waits := tel.ended(emgotel.SpanLoadWait)
	require.Len(t, waits, 2)
	assert.Equal(t, 30*time.Millisecond, waits[0].EndTime().Sub(waits[0].StartTime()))
	assert.Equal(t, parent.SpanContext().SpanID(), waits[0].Parent().SpanID())
	assert.Equal(t, "k", attrString(waits[0], emgotel.KeyCacheKey))
	assert.Equal(t, codes.Error, waits[1].Status().Code)

	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	var got int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "emgcache.load.coalesced" {
				for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
					got += p.Value
				}
			}
		}
	}
	assert.Equal(t, int64(2), got)
}

func TestMiddlewareOutcomes(t *testing.T) {
	tel := newTelemetry(t)
	inst := tel.inst()
	cfg := store.Config{}
	cfg.Hooks = inst.StoreHooks(cfg)
	rc := middleware.NewResponseCache(openCache(t, cfg), middleware.Options{Route: "analysis", Hooks: inst.MiddlewareHooks()})
	tracer := tel.tp.Tracer("test")
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, s := tracer.Start(r.Context(), "analyze")
		s.End()
		_, _ = w.Write([]byte(`{"rms":1}`))
	})
	mux := http.NewServeMux()
	mux.Handle("/api/emg/analysis/{file_hash}", rc.Handler(handler))
	send := func(method string, headers ...string) *httptest.ResponseRecorder {
		ctx, server := tracer.Start(context.Background(), "GET /api/emg/analysis/{file_hash}")
		defer server.End()
		r := httptest.NewRequestWithContext(ctx, method, "/api/emg/analysis/0123456789abcdef0123456789abcdef", nil)
		for i := 0; i+1 < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}
	send(http.MethodGet)
	send(http.MethodGet)
	send(http.MethodGet, "Cache-Control", "no-store")

	spans := tel.ended(emgotel.SpanHTTP)
	require.Len(t, spans, 3)
	for i, want := range []struct{ outcome, fwd, status string }{
		{"miss", "uri-miss", "emgcache; fwd=uri-miss; fwd-status=200; stored"},
		{"hit", "", "emgcache; hit; ttl="},
		{"bypass", "bypass", "emgcache; fwd=bypass; detail=no-store"},
	} {
		s := spans[i]
		assert.Equal(t, want.outcome, attrString(s, emgotel.KeyHTTPOutcome), "request %d", i)
		assert.Equal(t, want.fwd, attrString(s, emgotel.KeyHTTPFwd), "request %d", i)
		assert.Equal(t, "analysis", attrString(s, emgotel.KeyRoute))
		assert.Equal(t, "GET", attrString(s, "http.request.method"))
		v, _ := attr(s, "http.response.header.cache-status")
		if got := v.AsStringSlice(); assert.Len(t, got, 1) {
			assert.True(t, strings.HasPrefix(got[0], want.status), "request %d: Cache-Status %q, want %s", i, got[0], want.status)
		}
	}
	analyze := tel.ended("analyze")
	require.Len(t, analyze, 2, "the miss and the bypass ran the handler")
	assert.Equal(t, spans[0].SpanContext().SpanID(), analyze[0].Parent().SpanID(), "the handler nests in the middleware's span")
	for _, r := range tel.ended(emgotel.SpanRead) {
		assert.Contains(t, []any{spans[0].SpanContext().SpanID(), spans[1].SpanContext().SpanID()}, r.Parent().SpanID(),
			"the middleware's reads nest in its span")
	}

	assert.Equal(t, map[string]uint64{"miss": 1, "hit": 1, "bypass": 1},
		counts(tel.histogram(t, "emgcache.http.duration"), emgotel.KeyHTTPOutcome))
}

func TestDefaultsAreTheGlobalProviders(t *testing.T) {
	tel := newTelemetry(t)
	prevTP, prevMP := otel.GetTracerProvider(), otel.GetMeterProvider()
	otel.SetTracerProvider(tel.tp)
	otel.SetMeterProvider(tel.mp)
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetMeterProvider(prevMP)
	})
	cfg := store.Config{}
	cfg.Hooks = emgotel.New().StoreHooks(cfg)
	ctx, parent := otel.Tracer("test").Start(context.Background(), "request")
	_, _ = openCache(t, cfg).Get(ctx, "k")
	parent.End()
	require.Len(t, tel.ended(emgotel.SpanRead), 1)
	assert.Equal(t, map[string]uint64{"miss": 1}, counts(tel.histogram(t, "emgcache.read.duration"), emgotel.KeyReadOutcome))
	span := tel.ended(emgotel.SpanRead)[0]
	assert.Equal(t, emgotel.ScopeName, span.InstrumentationScope().Name)
}
