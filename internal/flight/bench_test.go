package flight_test

import (
	"context"
	"testing"

	"github.com/emgcache/emgcache/internal/flight"
)

// BenchmarkDo is one uncontended call of Do, its work in a goroutine of
// its own: what a miss of patterns.Aside pays for sharing its load.
func BenchmarkDo(b *testing.B) {
	var g flight.Group[int]
	ctx := context.Background()
	fn := func(context.Context) int { return 1 }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Do(ctx, "k", nil, fn); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJoinPublishLeave is one uncontended call as the middleware's
// fills make it.
func BenchmarkJoinPublishLeave(b *testing.B) {
	var g flight.Group[*int]
	v := new(int)
	b.ReportAllocs()
	for b.Loop() {
		c, _ := g.Join("k")
		c.Publish(v)
		g.Leave(c)
	}
}
