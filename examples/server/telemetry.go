package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/emgcache/emgcache/emgotel"
)

// envOtel turns OpenTelemetry on: "stdout" writes every span to the
// server's standard output as JSON and serves the metrics for Prometheus
// at GET /metrics; unset or "off" records nothing.
const envOtel = "EMGCACHE_OTEL"

// metricsPath is where the OpenTelemetry metrics are served, in the
// Prometheus text format, when they are on. The cache's own counters are
// at /api/cache/metrics either way.
const metricsPath = "/metrics"

// telemetry is the server's OpenTelemetry: the SDK's providers, the
// instrumentation of the cache and the exposition of the metrics. The
// zero value is off and wraps nothing.
type telemetry struct {
	inst    *emgotel.Instrumentation // nil when off
	tp      *sdktrace.TracerProvider
	mp      *sdkmetric.MeterProvider
	metrics http.Handler
}

// newTelemetry sets up OpenTelemetry for mode, the value of EMGCACHE_OTEL,
// with spans written to out.
func newTelemetry(mode string, out io.Writer) (*telemetry, error) {
	switch strings.TrimSpace(mode) {
	case "", "off":
		return &telemetry{}, nil
	case "stdout":
	default:
		return nil, fmt.Errorf("%s=%q: want stdout or off", envOtel, mode)
	}
	res := resource.NewSchemaless(semconv.ServiceName("emgcache-server"))
	spans, err := stdouttrace.New(stdouttrace.WithWriter(out))
	if err != nil {
		return nil, fmt.Errorf("%s: trace exporter: %w", envOtel, err)
	}
	// Batched, so that writing spans never holds a request up; a second
	// is short enough to see the spans of a request as it is answered.
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res),
		sdktrace.WithBatcher(spans, sdktrace.WithBatchTimeout(time.Second)))
	// A registry of its own, like the health API's: a second exporter in
	// the process cannot collide with this one's metrics.
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		_ = tp.Shutdown(context.Background())
		return nil, fmt.Errorf("%s: metric exporter: %w", envOtel, err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(exp))
	return &telemetry{
		// The keys here are file hashes and salted user digests, which
		// name no one; a service whose keys do name people leaves
		// WithKeys out.
		inst:    emgotel.New(emgotel.WithTracerProvider(tp), emgotel.WithMeterProvider(mp), emgotel.WithKeys()),
		tp:      tp,
		mp:      mp,
		metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
	}, nil
}

// on reports whether OpenTelemetry records anything; a nil telemetry is
// off.
func (t *telemetry) on() bool { return t != nil && t.inst != nil }

// handler wraps h in otelhttp's server span, named route ("GET
// /api/emg/analysis/{file_hash}"), or by the method alone when route is
// "" (the routes gorilla/mux picks). Off, it returns h.
func (t *telemetry) handler(h http.Handler, route string) http.Handler {
	if !t.on() {
		return h
	}
	return otelhttp.NewHandler(h, route,
		otelhttp.WithTracerProvider(t.tp), otelhttp.WithMeterProvider(t.mp),
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithSpanNameFormatter(func(op string, r *http.Request) string {
			if op == "" {
				return r.Method
			}
			return op
		}))
}

// shutdown writes the spans still buffered and stops the providers.
func (t *telemetry) shutdown(ctx context.Context) error {
	if !t.on() {
		return nil
	}
	return errors.Join(t.tp.Shutdown(ctx), t.mp.Shutdown(ctx))
}
