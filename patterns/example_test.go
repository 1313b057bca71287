package patterns_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emgcache/emgcache/patterns"
	"github.com/emgcache/emgcache/store"
)

const exampleHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// The seed service's process_emg_file: try the cache, run the analysis on a
// miss. The embedded backend keeps the example self-contained; with
// store.Config{URL: "redis://..."} the code is the same.
func ExampleAside() {
	ctx := context.Background()
	cache, err := store.Open(ctx, store.Config{})
	if err != nil {
		panic(err)
	}
	defer cache.Close()
	p := patterns.New(cache, patterns.Options{})
	defer p.Close()

	type analysis struct {
		RMS float64 `json:"rms"`
	}
	key := "emg_analysis:" + exampleHash
	analyse := func(ctx context.Context) (analysis, error) {
		fmt.Println("running the analysis")
		return analysis{RMS: 0.42}, nil
	}
	for range 2 {
		a, err := patterns.Aside(ctx, p, key, time.Hour, analyse)
		fmt.Println(a.RMS, err)
	}
	// Output:
	// running the analysis
	// 0.42 <nil>
	// 0.42 <nil>
}

// A file hash nobody uploaded: the database is asked once, then the answer
// is remembered for a short while.
func ExampleWithNegativeCache() {
	ctx := context.Background()
	cache, _ := store.Open(ctx, store.Config{})
	defer cache.Close()
	p := patterns.New(cache, patterns.Options{})
	defer p.Close()

	key := "emg_metadata:" + exampleHash
	lookup := func(ctx context.Context) (string, error) {
		fmt.Println("asking the database")
		return "", fmt.Errorf("no C3D file %s: %w", exampleHash[:8], patterns.ErrNotFound)
	}
	for range 3 {
		_, err := patterns.Aside(ctx, p, key, time.Hour, lookup, patterns.WithNegativeCache(30*time.Second))
		fmt.Println(errors.Is(err, patterns.ErrNotFound))
	}
	// Output:
	// asking the database
	// true
	// true
	// true
}

// A hot key near the end of its life is returned at once and reloaded in
// the background.
func ExampleWithRefreshAhead() {
	ctx := context.Background()
	cache, _ := store.Open(ctx, store.Config{})
	defer cache.Close()
	p := patterns.New(cache, patterns.Options{})
	defer p.Close() // stops a reload still running

	_ = store.SetJSON(ctx, cache, "dashboard", "cached", 5*time.Second)
	v, err := patterns.Aside(ctx, p, "dashboard", time.Hour, func(ctx context.Context) (string, error) {
		return "reloaded", nil
	}, patterns.WithRefreshAhead(time.Minute))
	fmt.Println(v, err)
	// Output: cached <nil>
}

func ExampleLayer_BatchGet() {
	ctx := context.Background()
	cache, _ := store.Open(ctx, store.Config{})
	defer cache.Close()
	p := patterns.New(cache, patterns.Options{})
	defer p.Close()

	err := p.BatchSet(ctx, map[string][]byte{"key1": []byte("data1"), "key2": []byte("data2")}, time.Hour)
	fmt.Println(err)
	for _, r := range p.BatchGet(ctx, []string{"key1", "key2", "key3"}) {
		switch {
		case r.Err == nil:
			fmt.Println(r.Key, string(r.Value))
		case errors.Is(r.Err, patterns.ErrNotFound):
			fmt.Println(r.Key, "miss")
		default:
			fmt.Println(r.Key, "failed:", r.Err)
		}
	}
	// Output:
	// <nil>
	// key1 data1
	// key2 data2
	// key3 miss
}

func ExampleLayer_BatchSet() {
	ctx := context.Background()
	cache, _ := store.Open(ctx, store.Config{MaxEntryBytes: 16})
	defer cache.Close()
	p := patterns.New(cache, patterns.Options{})
	defer p.Close()

	err := p.BatchSet(ctx, map[string][]byte{
		"small": []byte("fits"),
		"large": []byte("far more than sixteen bytes"),
	}, time.Hour)
	var be *patterns.BatchError
	if errors.As(err, &be) {
		for key, err := range be.Failed {
			fmt.Println(key, errors.Is(err, store.ErrTooLarge))
		}
	}
	v, _ := cache.Get(ctx, "small")
	fmt.Println(string(v))
	// Output:
	// large true
	// fits
}

func ExampleBatchGetValues() {
	ctx := context.Background()
	cache, _ := store.Open(ctx, store.Config{})
	defer cache.Close()
	p := patterns.New(cache, patterns.Options{})
	defer p.Close()

	type prefs struct {
		Theme string `json:"theme"`
	}
	_ = patterns.BatchSetValues(ctx, p, map[string]prefs{"alice": {"dark"}, "bob": {"light"}}, 24*time.Hour)
	for _, r := range patterns.BatchGetValues[prefs](ctx, p, []string{"alice", "bob"}) {
		fmt.Println(r.Key, r.Value.Theme, r.Err)
	}
	// Output:
	// alice dark <nil>
	// bob light <nil>
}

// Preloading the popular files at startup, most popular first, with the
// progress a command-line tool would draw as a bar.
func ExampleLayer_Warm() {
	ctx := context.Background()
	cache, _ := store.Open(ctx, store.Config{})
	defer cache.Close()
	p := patterns.New(cache, patterns.Options{})
	defer p.Close()

	_ = cache.Set(ctx, "emg_analysis:cached", []byte(`{}`), time.Hour)
	load := func(v any) func(context.Context) (any, error) {
		return func(context.Context) (any, error) { return v, nil }
	}
	report := p.Warm(ctx, []patterns.WarmItem{
		{Key: "emg_analysis:rare", Load: load(map[string]float64{"rms": 0.1}), Priority: 1},
		{Key: "emg_analysis:popular", Load: load(map[string]float64{"rms": 0.9}), Priority: 9},
		{Key: "emg_analysis:cached", Load: load(nil), Priority: 5},
		{Key: "emg_analysis:broken", Load: func(context.Context) (any, error) {
			return nil, errors.New("c3d file is truncated")
		}, Priority: 3},
	}, patterns.WarmOptions{
		Concurrency: 1, // strictly by priority, for a stable output
		Progress: func(done, total int, item patterns.WarmResult) {
			fmt.Printf("[%d/%d] %s %s\n", done, total, item.Key, item.Status)
		},
	})
	fmt.Println(report.Loaded, report.Skipped, report.Failed)
	fmt.Println(report.Err())
	// Output:
	// [1/4] emg_analysis:popular loaded
	// [2/4] emg_analysis:cached skipped
	// [3/4] emg_analysis:broken failed
	// [4/4] emg_analysis:rare loaded
	// 2 1 1
	// warm "emg_analysis:broken": c3d file is truncated
}

func ExampleLayer_InvalidatePattern() {
	ctx := context.Background()
	cache, _ := store.Open(ctx, store.Config{})
	defer cache.Close()
	p := patterns.New(cache, patterns.Options{})
	defer p.Close()

	for _, k := range []string{"analysis:1", "analysis:2", "metadata:1"} {
		_ = cache.Set(ctx, k, []byte("x"), time.Hour)
	}
	n, err := p.InvalidatePattern(ctx, "analysis:*")
	fmt.Println(n, err)
	_, err = p.InvalidatePattern(ctx, "analysis:[")
	fmt.Println(errors.Is(err, store.ErrInvalidPattern))
	// Output:
	// 2 <nil>
	// true
}

// A file was re-uploaded: drop its metadata and every cached response
// derived from it, which share the file's namespace.
func ExampleLayer_InvalidateNamespace() {
	ctx := context.Background()
	cache, _ := store.Open(ctx, store.Config{})
	defer cache.Close()
	p := patterns.New(cache, patterns.Options{})
	defer p.Close()

	const ns = "emg_file:" + exampleHash
	load := func(context.Context) (string, error) { return "metadata", nil }
	key, _ := p.VersionedKey(ctx, ns, "emg_metadata:"+exampleHash)
	_, _ = patterns.Aside(ctx, p, key, time.Hour, load)

	// One write, however many keys the namespace has in the cache.
	fmt.Println(p.InvalidateNamespace(ctx, ns))
	newKey, _ := p.VersionedKey(ctx, ns, "emg_metadata:"+exampleHash)
	_, err := cache.Get(ctx, newKey)
	fmt.Println(newKey != key, errors.Is(err, store.ErrNotFound))
	fmt.Println(errors.Is(p.InvalidateNamespace(ctx, ""), store.ErrInvalidKey))
	// Output:
	// <nil>
	// true true
	// true
}
