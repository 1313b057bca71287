package emgotel_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/emgcache/emgcache/emgotel"
	"github.com/emgcache/emgcache/store"
)

var sink string

// BenchmarkHit measures a hit of the embedded backend (served from process
// memory, the cheapest read there is) without hooks, and with emgotel's on
// no-op providers, on the SDK outside a trace (metrics only), and on the
// SDK inside a sampled span (a span per read), in the same run.
func BenchmarkHit(b *testing.B) {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	never := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	always := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	b.Cleanup(func() {
		_ = mp.Shutdown(ctx)
		_ = never.Shutdown(ctx)
		_ = always.Shutdown(ctx)
	})
	traced, request := always.Tracer("bench").Start(ctx, "request")
	defer request.End()
	for _, bc := range []struct {
		name string
		inst *emgotel.Instrumentation
		ctx  context.Context
	}{
		{"none", nil, ctx},
		{"emgotel-noop", emgotel.New(emgotel.WithTracerProvider(tracenoop.NewTracerProvider()), emgotel.WithMeterProvider(noop.NewMeterProvider())), ctx},
		{"emgotel-sdk-untraced", emgotel.New(emgotel.WithTracerProvider(never), emgotel.WithMeterProvider(mp)), ctx},
		{"emgotel-sdk-traced", emgotel.New(emgotel.WithTracerProvider(always), emgotel.WithMeterProvider(mp)), traced},
	} {
		cfg := store.Config{}
		if bc.inst != nil {
			cfg.Hooks = bc.inst.StoreHooks(cfg)
		}
		c, err := store.Open(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
		if err := c.Set(ctx, "k", make([]byte, 1024), time.Hour); err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v, err := c.GetString(bc.ctx, "k")
				if err != nil {
					b.Fatal(err)
				}
				sink = v
			}
		})
	}
}
