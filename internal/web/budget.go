package web

import (
	"context"
	"sync"
)

// A Budget shares a number of bytes of memory between requests: each
// takes its share before reading a body or a message into memory and
// gives it back when it is done, so that many large ones at once wait for
// each other, or are refused, instead of filling the memory. Waiters are
// served in turn, so that a large share is not passed over forever by
// smaller ones. It is safe for concurrent use.
type Budget struct {
	mu      sync.Mutex // guards free and waiting
	free    int64      // bytes not taken
	waiting []*budgetWaiter
}

// budgetWaiter is a take waiting for its turn; ready is closed once its
// bytes are taken for it.
type budgetWaiter struct {
	n     int64
	ready chan struct{}
}

// NewBudget returns a budget of n bytes.
func NewBudget(n int64) *Budget { return &Budget{free: n} }

// Free returns the bytes not taken.
func (b *Budget) Free() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.free
}

// TryTake takes n bytes if they are free and nobody waits, without
// waiting; it reports whether it took them.
func (b *Budget) TryTake(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.waiting) == 0 && b.free >= n {
		b.free -= n
		return true
	}
	return false
}

// Take takes n bytes, waiting until they are free and the takes that
// waited before are served, or until ctx is done; it reports whether it
// took them. n must not exceed the whole budget.
func (b *Budget) Take(ctx context.Context, n int64) bool {
	b.mu.Lock()
	if len(b.waiting) == 0 && b.free >= n {
		b.free -= n
		b.mu.Unlock()
		return true
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.waiting = append(b.waiting, w)
	b.mu.Unlock()
	select {
	case <-w.ready:
		return true
	case <-ctx.Done():
		b.mu.Lock()
		defer b.mu.Unlock()
		select {
		case <-w.ready:
			// Served meanwhile: give the bytes back.
			b.free += n
			b.serve()
		default:
			for i, o := range b.waiting {
				if o == w {
					b.waiting = append(b.waiting[:i], b.waiting[i+1:]...)
					break
				}
			}
			// The waiters behind it may fit now.
			b.serve()
		}
		return false
	}
}

// Give gives back n bytes taken.
func (b *Budget) Give(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.free += n
	b.serve()
}

// serve takes their bytes for the waiters at the head of the line that
// fit, in turn. b.mu must be held.
func (b *Budget) serve() {
	for len(b.waiting) > 0 && b.waiting[0].n <= b.free {
		w := b.waiting[0]
		b.waiting = b.waiting[1:]
		b.free -= w.n
		close(w.ready)
	}
}
