package recordstore_test

import (
	"context"
	"fmt"
	"log"

	"github.com/emgcache/emgcache/emg"
	"github.com/emgcache/emgcache/examples/internal/recordstore"
)

func ExampleIngest() {
	ctx := context.Background()
	repo, err := recordstore.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer repo.Close()

	raw := []byte("biceps_l,triceps_l\n0.12,-0.03\n-0.08,0.01\n")
	for range 2 {
		meta, created, err := recordstore.Ingest(ctx, repo, emg.CSVReader{}, raw, 2000)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(meta.FileHash[:12], meta.Channels, meta.Samples, created)
	}
	// Output:
	// 53d0c7f88a01 [biceps_l triceps_l] 2 true
	// 53d0c7f88a01 [biceps_l triceps_l] 2 false
}
