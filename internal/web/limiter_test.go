package web

import (
	"strconv"
	"testing"
	"time"
)

// newTestLimiter returns a limiter of burst 3, one more event a minute,
// and a pointer to its clock.
func newTestLimiter(maxKeys int) (*Limiter, *time.Time) {
	clock := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	l := NewLimiter(time.Minute, 3)
	l.now = func() time.Time { return clock }
	if maxKeys > 0 {
		l.maxKeys = maxKeys
	}
	return l, &clock
}

func TestLimiterBurst(t *testing.T) {
	l, clock := newTestLimiter(0)
	for i := range 3 {
		if !l.Allow("192.0.2.0/24") {
			t.Fatalf("event %d of the burst refused", i+1)
		}
	}
	if l.Allow("192.0.2.0/24") {
		t.Error("event past the burst allowed")
	}
	if !l.Allow("198.51.100.0/24") {
		t.Error("another key is limited by the first")
	}

	*clock = clock.Add(59 * time.Second)
	if l.Allow("192.0.2.0/24") {
		t.Error("allowed before the minute is up")
	}
	*clock = clock.Add(time.Second)
	if !l.Allow("192.0.2.0/24") {
		t.Error("refused after a minute")
	}
	if l.Allow("192.0.2.0/24") {
		t.Error("more than one event refilled in a minute")
	}
	*clock = clock.Add(time.Hour)
	for i := range 3 {
		if !l.Allow("192.0.2.0/24") {
			t.Fatalf("after an hour, event %d refused: the burst is not refilled", i+1)
		}
	}
}

func TestLimiterSweep(t *testing.T) {
	l, clock := newTestLimiter(0)
	for i := range 100 {
		l.Allow("key" + strconv.Itoa(i))
	}
	l.Allow("busy")
	l.Allow("busy")
	l.Allow("busy")
	*clock = clock.Add(2 * time.Minute) // key0…key99 full again; busy at 2 of 3
	l.mu.Lock()
	l.sweep(l.now())
	n := len(l.keys)
	_, busy := l.keys["busy"]
	l.mu.Unlock()
	if n != 1 || !busy {
		t.Errorf("after the sweep: %d keys, busy kept: %v; want only busy", n, busy)
	}
	// A key that was forgotten starts again with a full burst.
	for i := range 3 {
		if !l.Allow("key0") {
			t.Fatalf("forgotten key: event %d refused", i+1)
		}
	}

	// New keys sweep by themselves every ten minutes.
	*clock = clock.Add(11 * time.Minute)
	l.Allow("newcomer")
	l.mu.Lock()
	n = len(l.keys)
	l.mu.Unlock()
	if n != 1 {
		t.Errorf("%d keys after the periodic sweep, want 1 (the newcomer)", n)
	}
}

func TestLimiterMaxKeys(t *testing.T) {
	l, clock := newTestLimiter(2)
	if !l.Allow("a") || !l.Allow("b") {
		t.Fatal("first keys refused")
	}
	if l.Allow("c") {
		t.Error("a new key allowed while the limiter is full of active keys")
	}
	if !l.Allow("a") {
		t.Error("a known key refused while the limiter is full")
	}
	*clock = clock.Add(2 * time.Minute) // a and b are full again: they can go
	if !l.Allow("c") {
		t.Error("a new key refused after the others were refilled")
	}
	l.mu.Lock()
	n := len(l.keys)
	l.mu.Unlock()
	if n > 2 {
		t.Errorf("%d keys remembered, max 2", n)
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := NewLimiter(time.Hour, 10)
	done := make(chan int)
	for g := range 8 {
		go func() {
			n := 0
			for range 100 {
				if l.Allow("shared") {
					n++
				}
				l.Allow("own" + strconv.Itoa(g))
			}
			done <- n
		}()
	}
	total := 0
	for range 8 {
		total += <-done
	}
	if total != 10 {
		t.Errorf("%d events allowed on a key of burst 10", total)
	}
}
