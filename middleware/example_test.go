package middleware_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/emgcache/emgcache/middleware"
	"github.com/emgcache/emgcache/store"
)

func Example() {
	ctx := context.Background()
	// The embedded backend; store.ConfigFromEnv() would pick up REDIS_URL.
	cache, err := store.Open(ctx, store.Config{})
	if err != nil {
		panic(err)
	}
	defer cache.Close()

	analysis := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"file":%q,"rms_mv":0.42}`, r.PathValue("file_hash")[:8])
	})
	mw := middleware.NewResponseCache(cache, middleware.Options{TTL: time.Hour})
	mux := http.NewServeMux()
	mux.Handle("GET /api/emg/analysis/{file_hash}", mw.Handler(analysis))

	const hash = "9e107d9d372bb6826bd81d3542a419d6"
	for range 2 {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/emg/analysis/"+hash, nil))
		status, _, _ := strings.Cut(w.Header().Get("Cache-Status"), "; ttl=")
		fmt.Println(w.Code, status, w.Body.String())
	}

	// The file was re-analysed: drop what is cached for it.
	if err := mw.Invalidate(ctx, hash); err != nil {
		fmt.Println(err)
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/emg/analysis/"+hash, nil))
	fmt.Println(w.Code, w.Header().Get("Cache-Status"))
	// Output:
	// 200 emgcache; fwd=uri-miss; fwd-status=200; stored {"file":"9e107d9d","rms_mv":0.42}
	// 200 emgcache; hit {"file":"9e107d9d","rms_mv":0.42}
	// 200 emgcache; fwd=uri-miss; fwd-status=200; stored
}

// The file hash comes from a KeyFunc, so the middleware works with any
// router without importing it.
// Any layout: KeyFunc says what a request is about, KeyPrefix where its
// responses live, NamespacePrefix which namespace versions them.
func ExampleResponseCache_Invalidate() {
	ctx := context.Background()
	cache, _ := store.Open(ctx, store.Config{})
	defer cache.Close()

	pages := middleware.NewResponseCache(cache, middleware.Options{
		KeyFunc:         middleware.PathValue("doc"),
		KeyPrefix:       "doc-page:",
		NamespacePrefix: "doc:",
	})
	render := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "page of %s", r.PathValue("doc"))
	})
	mux := http.NewServeMux()
	mux.Handle("GET /docs/{doc}", pages.Handler(render))
	get := func() string {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/docs/intro", nil))
		status, _, _ := strings.Cut(w.Header().Get("Cache-Status"), "; ttl=")
		return status
	}
	fmt.Println(get())
	fmt.Println(get())
	_ = cache.Scan(ctx, "doc-page:*", func(keys []string) error {
		fmt.Println(len(keys), strings.HasPrefix(keys[0], "doc-page:intro:"))
		return nil
	})

	// The document changed: one write drops every response about it.
	fmt.Println(pages.Invalidate(ctx, "intro"))
	fmt.Println(get())
	// Output:
	// emgcache; fwd=uri-miss; fwd-status=200; stored
	// emgcache; hit
	// 1 true
	// <nil>
	// emgcache; fwd=uri-miss; fwd-status=200; stored
}

func ExampleKeyFunc() {
	_ = []middleware.Options{
		// ServeMux: "GET /files/{hash}/analysis".
		{KeyFunc: middleware.PathValue("hash")},
		// gorilla/mux: {KeyFunc: func(r *http.Request) string { return mux.Vars(r)["file_hash"] }}
		// chi:         {KeyFunc: func(r *http.Request) string { return chi.URLParam(r, "file_hash") }}
		// A query parameter, for a legacy route.
		{KeyFunc: func(r *http.Request) string { return r.URL.Query().Get("file_hash") }},
	}
}
