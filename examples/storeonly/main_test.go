package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestRunEmbedded(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	want := `backend: memory
get: {"rms":0.42}
miss: computed rms=0.37
hit: rms=0.37
hits=2 misses=1 hit_rate=0.67
`
	if string(got) != want {
		t.Fatalf("output:\n%s\nwant:\n%s", got, want)
	}
}
