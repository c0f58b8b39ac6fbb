package web

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestBodyMemory(t *testing.T) {
	tests := []struct {
		length, limit int64
		multipart     bool
		budget, want  int64
	}{
		{100, 1 << 20, false, 16 << 20, 400},          // a form, declared
		{-1, 1 << 20, false, 16 << 20, 4 << 20},       // chunked: the limit
		{0, 1 << 20, false, 16 << 20, 0},              // no body
		{8 << 20, 16 << 20, true, 16 << 20, 8 << 20},  // an upload
		{-1, 16 << 20, true, 16 << 20, 16 << 20},      // chunked upload
		{900 << 10, 1 << 20, false, 2 << 20, 2 << 20}, // never more than the whole budget
	}
	for _, tt := range tests {
		if got := bodyMemory(tt.length, tt.limit, tt.multipart, tt.budget); got != tt.want {
			t.Errorf("bodyMemory(%d, %d, %v, %d) = %d, want %d", tt.length, tt.limit, tt.multipart, tt.budget, got, tt.want)
		}
	}
}

func TestBudget(t *testing.T) {
	b := NewBudget(10)
	ctx := context.Background()
	if !b.Take(ctx, 6) || !b.Take(ctx, 4) {
		t.Fatal("the budget refused what it has")
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if b.Take(short, 1) {
		t.Fatal("an empty budget gave a byte")
	}
	got := make(chan bool)
	go func() { got <- b.Take(ctx, 5) }()
	waitWaiting(t, b, 1)
	b.Give(4) // not enough yet
	b.Give(6)
	if !<-got {
		t.Fatal("a waiting take did not get the bytes given back")
	}
	// TryTake takes what is free, never what a waiter waits for.
	if !b.TryTake(5) || b.TryTake(1) {
		t.Fatal("TryTake on 5 free bytes: want 5, then nothing")
	}
	b.Give(10)
	b.Take(ctx, 9)
	go func() { got <- b.Take(ctx, 5) }()
	waitWaiting(t, b, 1)
	if b.TryTake(1) {
		t.Error("TryTake passed a waiter")
	}
	b.Give(9)
	<-got
	b.Give(5)
}

// TestBudgetInTurn: a large take is not passed over by smaller ones that
// come after it; one that gives up lets those behind it through.
func TestBudgetInTurn(t *testing.T) {
	b := NewBudget(10)
	ctx := context.Background()
	b.Take(ctx, 8)
	large := make(chan bool)
	go func() { large <- b.Take(ctx, 10) }()
	waitWaiting(t, b, 1)
	small := make(chan bool)
	go func() { small <- b.Take(ctx, 2) }() // fits, but comes after
	waitWaiting(t, b, 2)
	b.Give(8)
	if !<-large {
		t.Fatal("the large take was refused")
	}
	select {
	case <-small:
		t.Fatal("the small take passed the large one")
	default:
	}
	b.Give(10)
	if !<-small {
		t.Fatal("the small take was refused")
	}
	b.Give(2)

	// A waiter that gives up lets the one behind it through.
	b.Take(ctx, 5)
	gaveUp, cancel := context.WithCancel(ctx)
	first := make(chan bool)
	go func() { first <- b.Take(gaveUp, 10) }()
	waitWaiting(t, b, 1)
	second := make(chan bool)
	go func() { second <- b.Take(ctx, 5) }()
	waitWaiting(t, b, 2)
	cancel()
	if <-first {
		t.Fatal("a take whose context ended got the bytes")
	}
	if !<-second {
		t.Fatal("the take behind one that gave up was refused")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.free != 0 || len(b.waiting) != 0 {
		t.Errorf("free %d, waiting %d; want 0, 0", b.free, len(b.waiting))
	}
}

// waitWaiting waits until n takes wait on b.
func waitWaiting(t *testing.T, b *Budget, n int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		b.mu.Lock()
		got := len(b.waiting)
		b.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d takes wait, want %d", got, n)
		}
	}
}

// TestBodiesBudget: a body that declares a length past the limit is
// refused before it is read; large bodies that would pass the memory
// budget wait for others, then get a 503 that says to try again; small
// forms are not held back.
func TestBodiesBudget(t *testing.T) {
	s := newSite(t, Config{MaxFormBytes: 200 << 10, MaxBodyMemory: 1 << 20})
	s.shell.bodyWait = 200 * time.Millisecond
	c := s.client(t)
	s.login(t, c, "alice")
	token := csrfFrom(t, s.get(t, c, "/admin/settings").body)

	// Declared past the limit: answered without reading a byte of it.
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	fmt.Fprintf(conn, "POST /admin/settings HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000000\r\n\r\n")
	head, _ := io.ReadAll(io.LimitReader(conn, 12))
	if string(head) != "HTTP/1.1 413" {
		t.Errorf("a body declaring a gigabyte: %q, want a 413 before it is sent", head)
	}

	// A chunked form takes formCopies times the limit (800 KiB) of the
	// budget (1 MiB) while it is read: a form of 100 KiB (400 KiB) waits,
	// then gets a 503.
	pr, pw := io.Pipe()
	defer pw.Close()
	first, err := http.NewRequest("POST", s.srv.URL+"/admin/settings", pr)
	if err != nil {
		t.Fatal(err)
	}
	first.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := c.Do(first); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	pw.Write([]byte("csrf=" + token + "&"))
	free := s.shell.bodies.Free
	for deadline := time.Now().Add(time.Minute); free() != 224<<10; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the first request never took its share: %d bytes free", free())
		}
	}
	req, _ := http.NewRequest("POST", s.srv.URL+"/admin/settings", strings.NewReader(strings.Repeat("a", 100<<10)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r := do(t, c, req)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "Serveur occupé") {
		t.Errorf("a body past the budget: status %d, Retry-After %q:\n%s", r.status, r.header.Get("Retry-After"), r.body)
	}
	// A small form is not held back.
	if r := s.post(t, c, "/admin/settings", s.settingsForm(t, c)); r.status != http.StatusSeeOther {
		t.Errorf("a small form beside the first: status %d:\n%s", r.status, r.body)
	}
	pw.Close()
	<-done
	if free() != 1<<20 {
		t.Errorf("after the requests the budget has %d bytes free, want all of it", free())
	}
}
