package list_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/emgcache/emgcache/internal/list"
)

// values walks l both ways, checks that the walks agree with each other
// and with Len, and returns the values front to back.
func values(t *testing.T, l *list.List[int]) []int {
	t.Helper()
	var fwd, back []int
	for e := l.Front(); e != nil; e = e.Next() {
		fwd = append(fwd, e.Value)
	}
	for e := l.Back(); e != nil; e = e.Prev() {
		back = append(back, e.Value)
	}
	slices.Reverse(back)
	if !slices.Equal(fwd, back) {
		t.Fatalf("forward walk %v, backward walk reversed %v", fwd, back)
	}
	if len(fwd) != l.Len() {
		t.Fatalf("walk finds %d elements, Len says %d", len(fwd), l.Len())
	}
	if (l.Front() == nil) != (l.Back() == nil) {
		t.Fatalf("Front %v and Back %v disagree on emptiness", l.Front(), l.Back())
	}
	return fwd
}

func TestList(t *testing.T) {
	tests := []struct {
		name string
		ops  func(l *list.List[int], e []*list.Element[int])
		want []int
	}{
		{"empty", func(*list.List[int], []*list.Element[int]) {}, nil},
		{"push front", func(l *list.List[int], e []*list.Element[int]) {
			l.PushFront(e[0])
			l.PushFront(e[1])
			l.PushFront(e[2])
		}, []int{2, 1, 0}},
		{"remove the middle, the front, the back", func(l *list.List[int], e []*list.Element[int]) {
			for _, x := range e[:5] {
				l.PushFront(x)
			}
			l.Remove(e[2])
			l.Remove(e[4])
			l.Remove(e[0])
		}, []int{3, 1}},
		{"remove the only element", func(l *list.List[int], e []*list.Element[int]) {
			l.PushFront(e[0])
			l.Remove(e[0])
		}, nil},
		{"remove twice, or an element never pushed", func(l *list.List[int], e []*list.Element[int]) {
			l.PushFront(e[0])
			l.PushFront(e[1])
			l.Remove(e[0])
			l.Remove(e[0])
			l.Remove(e[2])
		}, []int{1}},
		{"move to front", func(l *list.List[int], e []*list.Element[int]) {
			for _, x := range e[:3] {
				l.PushFront(x)
			}
			l.MoveToFront(e[0]) // the back
			l.MoveToFront(e[0]) // already the front
			l.MoveToFront(e[1]) // the middle
		}, []int{1, 0, 2}},
		{"clear, then push again", func(l *list.List[int], e []*list.Element[int]) {
			l.PushFront(e[0])
			l.PushFront(e[1])
			l.Clear()
			l.PushFront(e[1])
		}, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l list.List[int]
			e := make([]*list.Element[int], 5)
			for i := range e {
				e[i] = &list.Element[int]{Value: i}
			}
			tt.ops(&l, e)
			if got := values(t, &l); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestListAgainstSlice runs a long random sequence of operations on a list
// and on a slice that models it, and compares them after each.
func TestListAgainstSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var l list.List[int]
	var model []int // front first
	elems := map[int]*list.Element[int]{}
	next := 0
	for step := range 5000 {
		op := rng.IntN(4)
		if len(model) == 0 {
			op = 0
		}
		var desc string
		switch op {
		case 0:
			e := &list.Element[int]{Value: next}
			elems[next] = e
			l.PushFront(e)
			model = slices.Insert(model, 0, next)
			desc = fmt.Sprint("push ", next)
			next++
		case 1:
			i := rng.IntN(len(model))
			v := model[i]
			l.Remove(elems[v])
			delete(elems, v)
			model = slices.Delete(model, i, i+1)
			desc = fmt.Sprint("remove ", v)
		case 2:
			i := rng.IntN(len(model))
			v := model[i]
			l.MoveToFront(elems[v])
			model = slices.Insert(slices.Delete(model, i, i+1), 0, v)
			desc = fmt.Sprint("move ", v)
		case 3:
			v := model[len(model)-1]
			if b := l.Back(); b.Value != v {
				t.Fatalf("step %d: Back is %d, want %d", step, b.Value, v)
			}
			l.Remove(l.Back())
			delete(elems, v)
			model = model[:len(model)-1]
			desc = "remove the back"
		}
		if got := values(t, &l); !slices.Equal(got, model) {
			t.Fatalf("step %d (%s): list %v, model %v", step, desc, got, model)
		}
	}
}

// An LRU of capacity two: a map to the elements, most recent at the front.
func Example() {
	var order list.List[string]
	byKey := map[string]*list.Element[string]{}
	touch := func(key string) {
		if e := byKey[key]; e != nil {
			order.MoveToFront(e)
			return
		}
		e := &list.Element[string]{Value: key}
		byKey[key] = e
		order.PushFront(e)
		if order.Len() > 2 {
			last := order.Back()
			order.Remove(last)
			delete(byKey, last.Value)
		}
	}
	touch("a")
	touch("b")
	touch("a")
	touch("c") // evicts b, the least recently used
	for e := order.Front(); e != nil; e = e.Next() {
		fmt.Println(e.Value)
	}
	// Output:
	// c
	// a
}
