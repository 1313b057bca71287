package health_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gorilla/mux"

	"github.com/emgcache/emgcache/health"
	"github.com/emgcache/emgcache/store"
)

func ExampleAPI_Register() {
	ctx := context.Background()
	// The embedded backend; a REDIS_URL in store.Config selects Redis.
	cache, err := store.Open(ctx, store.Config{})
	if err != nil {
		panic(err)
	}
	defer cache.Close()
	_ = cache.Set(ctx, "analysis:1", []byte(`{"rms":0.42}`), 0)
	_, _ = cache.Get(ctx, "analysis:1") // a hit
	_, _ = cache.Get(ctx, "analysis:2") // a miss

	router := mux.NewRouter()
	health.New(cache, health.Options{AdminToken: "change-me"}).Register(router)
	srv := httptest.NewServer(router)
	defer srv.Close()

	res, err := http.Get(srv.URL + "/api/cache/stats")
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var stats struct {
		Healthy       bool    `json:"healthy"`
		Hits          uint64  `json:"hits"`
		Misses        uint64  `json:"misses"`
		TotalRequests uint64  `json:"total_requests"`
		HitRate       float64 `json:"hit_rate"`
	}
	if err := json.NewDecoder(res.Body).Decode(&stats); err != nil {
		panic(err)
	}
	fmt.Println(res.StatusCode, res.Header.Get("Cache-Control"))
	fmt.Printf("healthy=%v hits=%d misses=%d total=%d hit_rate=%.2f\n",
		stats.Healthy, stats.Hits, stats.Misses, stats.TotalRequests, stats.HitRate)
	// Output:
	// 200 no-store
	// healthy=true hits=1 misses=1 total=2 hit_rate=0.50
}
