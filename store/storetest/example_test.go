package storetest_test

import (
	"context"
	"fmt"

	"github.com/emgcache/emgcache/store/storetest"
)

func ExampleStart() {
	ctx := context.Background()
	srv, err := storetest.Start(ctx, storetest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	if _, err := srv.Do(ctx, "SET", "greeting", "hello"); err != nil {
		fmt.Println(err)
		return
	}
	v, err := srv.Do(ctx, "GET", "greeting")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(v)
	// Output: hello
}
