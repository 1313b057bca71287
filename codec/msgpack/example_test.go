package msgpack_test

import (
	"context"
	"fmt"

	"github.com/emgcache/emgcache/codec/msgpack"
	"github.com/emgcache/emgcache/store"
)

func Example() {
	ctx := context.Background()
	cache, err := store.Open(ctx, store.Config{Codec: msgpack.Codec{JSONTags: true}})
	if err != nil {
		panic(err)
	}
	defer cache.Close()

	type result struct {
		File string  `json:"file"`
		RMS  float64 `json:"rms"`
	}
	if err := store.SetValue(ctx, cache, "result:1", result{File: "a.c3d", RMS: 0.42}, 0); err != nil {
		panic(err)
	}
	r, err := store.GetValue[result](ctx, cache, "result:1")
	fmt.Println(r.File, r.RMS, err)
	// Output: a.c3d 0.42 <nil>
}
