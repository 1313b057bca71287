package emgotel_test

import (
	"context"
	"fmt"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/emgcache/emgcache/emgotel"
	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
)

// Instrument a store and a patterns layer; here the spans go to an
// in-memory recorder, in a service to an exporter.
func Example() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	inst := emgotel.New(emgotel.WithTracerProvider(tp))

	ctx := context.Background()
	cfg := store.Config{} // the embedded backend
	cfg.Hooks = inst.StoreHooks(cfg)
	cache, err := store.Open(ctx, cfg)
	if err != nil {
		panic(err)
	}
	defer cache.Close()
	layer := patterns.New(cache, patterns.Options{Hooks: inst.PatternsHooks()})
	defer layer.Close()

	// Reads nest in the span of what they serve, a request's say.
	ctx, request := tp.Tracer("example").Start(ctx, "request")
	load := func(context.Context) (string, error) { return "analysis", nil }
	for range 2 {
		if _, err := patterns.Aside(ctx, layer, "file:ab12", time.Minute, load); err != nil {
			panic(err)
		}
	}
	request.End()
	for _, s := range spans.Ended() {
		for _, kv := range s.Attributes() {
			if kv.Key == emgotel.KeyReadOutcome || kv.Key == emgotel.KeyLoadOutcome {
				fmt.Println(s.Name(), kv.Value.Emit())
			}
		}
	}
	// Output:
	// emgcache.read miss
	// emgcache.load ok
	// emgcache.read hit_local
}
