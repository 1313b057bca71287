package flight_test

import (
	"context"
	"fmt"

	"github.com/emgcache/emgcache/internal/flight"
)

func ExampleGroup_Do() {
	var g flight.Group[string]
	v, err := g.Do(context.Background(), "greeting", nil, func(context.Context) string {
		return "hello" // callers of "greeting" arriving meanwhile share this run
	})
	fmt.Println(v, err)
	// Output: hello <nil>
}

// A leader publishes as soon as it has the result, and leaves once it has
// stored it: callers arriving in between are served what it published.
func ExampleGroup_Join() {
	var g flight.Group[string]
	c, leader := g.Join("page")
	fmt.Println("leader:", leader)
	c.Publish("rendered")

	w, leader := g.Join("page")
	v, _ := w.Wait(context.Background())
	fmt.Println("leader:", leader, "got:", v)

	g.Leave(c) // after the write to the store
	_, leader = g.Join("page")
	fmt.Println("leader:", leader)
	// Output:
	// leader: true
	// leader: false got: rendered
	// leader: true
}
