package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// safety bounds every wait in the tests, so that a bug fails a test rather
// than hanging it; no test depends on how long anything takes.
const safety = 10 * time.Second

// socketPath returns a path for a socket in a fresh directory, short enough
// for the limit on unix socket paths (108 bytes on Linux).
func socketPath(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if len(dir) > 80 {
		var err error
		dir, err = os.MkdirTemp("", "pc")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := os.RemoveAll(dir); err != nil {
				t.Error(err)
			}
		})
	}
	return filepath.Join(dir, "placette.sock")
}

// testServer is a Server serving on a real socket for one test.
type testServer struct {
	path   string
	logs   *logRecorder
	cancel context.CancelFunc
	done   chan error // receives Serve's result
}

// startServer starts serving h on a fresh socket; the test's cleanup stops
// it and checks that Serve returned nil.
func startServer(t *testing.T, h Handler) *testServer {
	t.Helper()
	path := socketPath(t)
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{path: path, logs: &logRecorder{}, cancel: cancel, done: make(chan error, 1)}
	srv := &Server{Handler: h, Logger: slog.New(ts.logs)}
	go func() { ts.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		if err := ts.stop(); err != nil {
			t.Error(err)
		}
	})
	return ts
}

// stop cancels Serve's context and waits for it to return; it can be
// called more than once.
func (ts *testServer) stop() error {
	ts.cancel()
	select {
	case err, ok := <-ts.done:
		if !ok {
			return nil
		}
		close(ts.done)
		if err != nil {
			return fmt.Errorf("Serve returned %w", err)
		}
		return nil
	case <-time.After(safety):
		return errors.New("Serve did not return after its context was cancelled")
	}
}

// logRecorder is a slog.Handler that keeps the records.
type logRecorder struct {
	mu      sync.Mutex // guards records
	records []string
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%q", a.Key, a.Value.String())
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, b.String())
	return nil
}

func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

// all returns the records so far.
func (h *logRecorder) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.records...)
}

// wait receives from c within the safety delay.
func wait[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(safety):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}
