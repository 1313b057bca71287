// Package list is a doubly linked list whose elements hold their values
// inline. A cache keeps a map from keys to elements, and an eviction order
// in the list: the entry and its place in the order are one allocation,
// and an entry found in the map leaves or moves in the order in O(1).
//
// It is container/list with a type parameter, and without what a cache
// does not need: no sentinel element (the zero List is ready and holds two
// pointers), no back pointer from element to list, no insertion in the
// middle. An element belongs to one list at a time, and the caller passes
// it to the list that holds it, as the map it keeps beside the list says.
package list

// Element is one value in a [List].
type Element[T any] struct {
	next, prev *Element[T]
	// Value is the element's value; the list never reads or writes it.
	Value T
}

// Next returns the element after e, or nil if e is the last.
func (e *Element[T]) Next() *Element[T] { return e.next }

// Prev returns the element before e, or nil if e is the first.
func (e *Element[T]) Prev() *Element[T] { return e.prev }

// List is a doubly linked list of elements. The zero value is an empty
// list, ready to use. A List is not safe for concurrent use.
type List[T any] struct {
	front, back *Element[T]
	len         int
}

// Len returns the number of elements in l.
func (l *List[T]) Len() int { return l.len }

// Front returns the first element of l, or nil if l is empty.
func (l *List[T]) Front() *Element[T] { return l.front }

// Back returns the last element of l, or nil if l is empty.
func (l *List[T]) Back() *Element[T] { return l.back }

// PushFront inserts e, which must be in no list, at the front of l.
func (l *List[T]) PushFront(e *Element[T]) {
	e.prev, e.next = nil, l.front
	if l.front != nil {
		l.front.prev = e
	} else {
		l.back = e
	}
	l.front = e
	l.len++
}

// Remove takes e out of l, which holds it. Removing an element that is in
// no list any more (removed already, or never pushed) does nothing.
func (l *List[T]) Remove(e *Element[T]) {
	if e.prev == nil && e.next == nil && l.front != e {
		return
	}
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.front = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.back = e.prev
	}
	e.prev, e.next = nil, nil
	l.len--
}

// MoveToFront moves e, which l holds, to the front of l.
func (l *List[T]) MoveToFront(e *Element[T]) {
	if l.front == e {
		return
	}
	l.Remove(e)
	l.PushFront(e)
}

// Clear empties l at once. The elements it held keep their links, so they
// must not be passed to Remove or MoveToFront of any list afterwards; push
// them again instead.
func (l *List[T]) Clear() { *l = List[T]{} }
