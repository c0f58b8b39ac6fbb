package web

import (
	"context"
	"sync"
)

// A budget shares a number of bytes between requests: each takes its
// share before reading its body into memory and gives it back when it is
// answered, so that many large bodies at once wait for each other instead
// of filling the memory. It is safe for concurrent use.
type budget struct {
	mu    sync.Mutex    // guards free and freed
	free  int64         // bytes not taken
	freed chan struct{} // closed, and replaced, when bytes are given back
}

func newBudget(n int64) *budget {
	return &budget{free: n, freed: make(chan struct{})}
}

// take takes n bytes, waiting until they are free or ctx is done; it
// reports whether it took them. n must not exceed the whole budget.
func (b *budget) take(ctx context.Context, n int64) bool {
	for {
		b.mu.Lock()
		if b.free >= n {
			b.free -= n
			b.mu.Unlock()
			return true
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return false
		}
	}
}

// give gives back n bytes taken.
func (b *budget) give(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.free += n
	close(b.freed)
	b.freed = make(chan struct{})
}
