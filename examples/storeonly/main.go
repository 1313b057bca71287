// Command storeonly uses the store module alone, the way a service that only
// needs a cache would: its go.mod requires nothing else of this repository.
//
// It runs the seed service's basic usage: set with a TTL, get, cache-aside by
// hand, JSON values, and the stats a dashboard would show. With REDIS_URL set
// it talks to Redis; without, it uses the embedded backend.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/emgcache/emgcache/emgkey"
	"github.com/emgcache/emgcache/store"
)

type analysis struct {
	FileHash string  `json:"file_hash"`
	RMS      float64 `json:"rms"`
}

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out *os.File) error {
	cache, err := store.Open(ctx, store.ConfigFromEnv())
	if err != nil {
		return fmt.Errorf("open cache: %w", err)
	}
	defer cache.Close()
	fmt.Fprintf(out, "backend: %s\n", cache.Backend())

	// Simple cache operations.
	if err := cache.Set(ctx, "analysis_123", []byte(`{"rms":0.42}`), time.Hour); err != nil {
		// The cache is never the reason a request fails: log and go on.
		fmt.Fprintf(out, "set failed, continuing without cache: %v\n", err)
	}
	if data, err := cache.Get(ctx, "analysis_123"); err == nil {
		fmt.Fprintf(out, "get: %s\n", data)
	}

	// Cache-aside by hand, with the EMG key layout.
	key, err := emgkey.Analysis("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
	if err != nil {
		return err
	}
	for i := 0; i < 2; i++ {
		a, err := store.GetJSON[analysis](ctx, cache, key)
		switch {
		case err == nil:
			fmt.Fprintf(out, "hit: rms=%.2f\n", a.RMS)
		case errors.Is(err, store.ErrNotFound):
			a = analysis{FileHash: key, RMS: 0.37} // the slow work would run here
			_ = store.SetJSON(ctx, cache, key, a, time.Hour)
			fmt.Fprintf(out, "miss: computed rms=%.2f\n", a.RMS)
		default:
			fmt.Fprintf(out, "cache unavailable, computing: %v\n", err)
		}
	}

	s := cache.Stats(ctx)
	fmt.Fprintf(out, "hits=%d misses=%d hit_rate=%.2f\n", s.Hits, s.Misses, s.HitRate)
	return nil
}
