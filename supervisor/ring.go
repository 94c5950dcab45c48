package supervisor

import "sync"

// sequenced is an item a Ring numbers as it is appended.
type sequenced[T any] interface {
	withSeq(seq uint64) T
}

// Ring is a bounded, numbered history: the last size items appended, each
// with a sequence number one above the previous (the first is 1). Append
// never waits on a reader; readers copy out under a short lock, so a slow
// reader never stalls whatever feeds the ring.
type Ring[T sequenced[T]] struct {
	mu    sync.Mutex
	items []T
	start int    // index of the oldest item
	next  uint64 // sequence number of the next item
}

// NewRing returns a ring that keeps the last size items.
func NewRing[T sequenced[T]](size int) *Ring[T] {
	r := &Ring[T]{}
	r.init(size)
	return r
}

func (r *Ring[T]) init(size int) {
	r.items, r.next = make([]T, 0, max(size, 1)), 1
}

// Append adds v, numbered, dropping the oldest item when full.
func (r *Ring[T]) Append(v T) {
	r.mu.Lock()
	v = v.withSeq(r.next)
	r.next++
	if len(r.items) < cap(r.items) {
		r.items = append(r.items, v)
	} else {
		r.items[r.start] = v
		r.start = (r.start + 1) % len(r.items)
	}
	r.mu.Unlock()
}

// Next returns the number the next item will get.
func (r *Ring[T]) Next() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next
}

// Len returns the number of items held.
func (r *Ring[T]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.items)
}

// Since returns up to max held items numbered seq or later, oldest first.
// Items dropped before they could be read are skipped; the caller sees
// the gap in the numbers.
func (r *Ring[T]) Since(seq uint64, max int) []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.items)
	oldest := r.next - uint64(n)
	seq = maxU(seq, oldest)
	if seq >= r.next || max <= 0 {
		return nil
	}
	skip := int(seq - oldest)
	out := make([]T, min(n-skip, max))
	for i := range out {
		out[i] = r.items[(r.start+skip+i)%n]
	}
	return out
}

// Tail returns the last n items, oldest first.
func (r *Ring[T]) Tail(n int) []T {
	next := r.Next()
	if uint64(n) >= next {
		return r.Since(0, n)
	}
	return r.Since(next-uint64(n), n)
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}
