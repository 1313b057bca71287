package client_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"

	"github.com/gorilla/mux"

	"github.com/emgcache/emgcache/health"
	"github.com/emgcache/emgcache/health/client"
	"github.com/emgcache/emgcache/store"
)

func ExampleClient_Invalidate() {
	ctx := context.Background()
	cache, err := store.Open(ctx, store.Config{})
	if err != nil {
		panic(err)
	}
	defer cache.Close()
	for _, k := range []string{"analysis:a1", "analysis:b2", "metadata:a1"} {
		_ = cache.Set(ctx, k, []byte("{}"), 0)
	}

	// The server side, as a program would mount it.
	router := mux.NewRouter()
	health.New(cache, health.Options{
		AdminToken: "s3cret",
		Logger:     slog.New(slog.DiscardHandler),
	}).Register(router)
	srv := httptest.NewServer(router)
	defer srv.Close()

	admin, err := client.New(srv.URL, client.Options{Token: "s3cret"})
	if err != nil {
		panic(err)
	}
	defer admin.CloseIdleConnections()
	inv, err := admin.Invalidate(ctx, "analysis:*")
	if err != nil {
		panic(err)
	}
	fmt.Printf("removed %d keys matching %s\n", inv.Removed, inv.Pattern)

	intruder, err := client.New(srv.URL, client.Options{Token: "guess"})
	if err != nil {
		panic(err)
	}
	defer intruder.CloseIdleConnections()
	_, err = intruder.Invalidate(ctx, "*")
	fmt.Println(errors.Is(err, client.ErrUnauthorized))
	// Output:
	// removed 2 keys matching analysis:*
	// true
}
