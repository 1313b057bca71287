package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// Reads of one stored version share one decoded value; a write is a new
// version, decoded on its first read.
func ExampleGetValue() {
	ctx := context.Background()
	cache, _ := store.Open(ctx, store.Config{})
	defer cache.Close()

	type report struct {
		File  string    `json:"file"`
		Peaks []float64 `json:"peaks"`
	}
	_ = store.SetValue(ctx, cache, "report:1", report{File: "a.c3d", Peaks: []float64{0.4, 0.7}}, time.Hour)
	a, _ := store.GetValue[*report](ctx, cache, "report:1")
	b, _ := store.GetValue[*report](ctx, cache, "report:1")
	fmt.Println(a == b, a.Peaks) // shared: read it, never modify it

	_ = store.SetValue(ctx, cache, "report:1", report{File: "a.c3d", Peaks: []float64{0.5}}, time.Hour)
	c, _ := store.GetValue[*report](ctx, cache, "report:1")
	fmt.Println(a == c, c.Peaks)
	// Output:
	// true [0.4 0.7]
	// false [0.5]
}

// A type with a Clone method is handed out as a copy of the shared value,
// which its caller may modify.
func ExampleCloner() {
	ctx := context.Background()
	cache, _ := store.Open(ctx, store.Config{})
	defer cache.Close()

	_ = store.SetJSON(ctx, cache, "series:1", series{Points: []float64{1, 2, 3, 4}}, time.Hour)
	s, _ := store.GetJSON[series](ctx, cache, "series:1")
	s.Points[0] = 100
	again, _ := store.GetJSON[series](ctx, cache, "series:1")
	fmt.Println(again.Points)
	// Output: [1 2 3 4]
}

type series struct {
	Points []float64 `json:"points"`
}

func (s series) Clone() series { return series{Points: slices.Clone(s.Points)} }

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

// A family of keys dropped in one write: every key of the family carries
// the namespace's version, which InvalidateNamespace replaces.
func ExampleCache_InvalidateNamespace() {
	ctx := context.Background()
	cache, _ := store.Open(ctx, store.Config{})
	defer cache.Close()

	key := func(name string) string {
		v, _ := cache.NamespaceVersion(ctx, "user:42")
		return name + "@" + v
	}
	_ = cache.Set(ctx, key("user-report:42"), []byte("report"), time.Hour)
	_ = cache.Set(ctx, key("user-avatar:42"), []byte("avatar"), time.Hour)
	_, err := cache.Get(ctx, key("user-report:42"))
	fmt.Println(err)

	fmt.Println(cache.InvalidateNamespace(ctx, "user:42")) // one write, however many keys
	_, err = cache.Get(ctx, key("user-report:42"))
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// <nil>
	// <nil>
	// true
}

// A layer that counts its own hits reads through Uncounted, so that the
// store's hit rate describes the reads its callers asked for.
func ExampleCache_Uncounted() {
	ctx := context.Background()
	cache, _ := store.Open(ctx, store.Config{})
	defer cache.Close()

	_ = cache.Set(ctx, "lock:report:42", []byte("token"), time.Second)
	_, _ = cache.Uncounted().GetString(ctx, "lock:report:42")
	_, _ = cache.GetString(ctx, "report:42")
	s := cache.Stats(ctx)
	fmt.Println(s.Hits, s.Misses)
	// Output: 0 1
}
