package list_test

import (
	"testing"

	"github.com/emgcache/emgcache/internal/list"
)

// BenchmarkMoveToFront is a hit of an LRU: its element moves from the back
// to the front.
func BenchmarkMoveToFront(b *testing.B) {
	var l list.List[int]
	for i := range 1024 {
		l.PushFront(&list.Element[int]{Value: i})
	}
	b.ReportAllocs()
	for b.Loop() {
		l.MoveToFront(l.Back())
	}
}
