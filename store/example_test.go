package store_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emgcache/emgcache/store"
)

// The seed service's basic usage: set with a TTL, get, and treat every
// error as "load from the origin".
func ExampleOpen() {
	ctx := context.Background()
	cache, err := store.Open(ctx, store.Config{}) // no URL: the embedded backend
	if err != nil {
		panic(err)
	}
	defer cache.Close()

	_ = cache.Set(ctx, "analysis_123", []byte(`{"rms":0.42}`), time.Hour)
	data, err := cache.Get(ctx, "analysis_123")
	fmt.Println(string(data), err)

	_, err = cache.Get(ctx, "analysis_456")
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// {"rms":0.42} <nil>
	// true
}

func ExampleGetJSON() {
	ctx := context.Background()
	cache, _ := store.Open(ctx, store.Config{})
	defer cache.Close()

	type prefs struct {
		Theme      string `json:"theme"`
		WindowSecs int    `json:"window_secs"`
	}
	const key = "prefs:alice"
	_ = store.SetJSON(ctx, cache, key, prefs{Theme: "dark", WindowSecs: 2}, 24*time.Hour)
	p, err := store.GetJSON[prefs](ctx, cache, key)
	fmt.Println(p.Theme, p.WindowSecs, err)
	// Output: dark 2 <nil>
}

func ExampleCache_DeletePattern() {
	ctx := context.Background()
	cache, _ := store.Open(ctx, store.Config{})
	defer cache.Close()
	for _, k := range []string{"emg_analysis:aa", "emg_analysis:bb", "emg_metadata:aa"} {
		_ = cache.Set(ctx, k, []byte("x"), 0)
	}
	n, err := cache.DeletePattern(ctx, "emg_analysis:*")
	fmt.Println(n, err)
	// Output: 2 <nil>
}
