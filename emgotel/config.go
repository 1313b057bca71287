package emgotel

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the tracer and the meter: the
// module path, as the OpenTelemetry contrib instrumentations name theirs.
const ScopeName = "github.com/emgcache/emgcache/emgotel"

// Option configures New.
type Option interface {
	apply(*config)
}

type config struct {
	tp   trace.TracerProvider
	mp   metric.MeterProvider
	keys bool
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithTracerProvider sets the TracerProvider. The default is the global
// one, otel.GetTracerProvider(), read when New is called.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) { c.tp = tp })
}

// WithMeterProvider sets the MeterProvider. The default is the global one,
// otel.GetMeterProvider(), read when New is called.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.mp = mp })
}

// WithKeys records the cache key of reads and loads as the span attribute
// emgcache.key. Keys are left out by default: a key may name a user, and
// traces often travel further than the data. They never become metric
// attributes, whose cardinality they would make unbounded.
func WithKeys() Option {
	return optionFunc(func(c *config) { c.keys = true })
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		o.apply(&c)
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	return c
}
