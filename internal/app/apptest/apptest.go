// Package apptest runs the whole of placette in a test: a fresh data folder
// in t.TempDir(), the web listener on 127.0.0.1:0 and the control socket,
// stopped when the test ends. Every package's end-to-end tests use it.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"codeberg.org/placette/placette/internal/app"
)

// Instance is a running placette.
type Instance struct {
	App     *app.App
	URL     string // "http://127.0.0.1:PORT", no trailing slash
	DataDir string
	Log     *LogBuffer // everything the app logged
}

// Option changes the configuration an instance starts with.
type Option func(*app.Config)

// Start runs placette for the test t and stops it at the end of the test.
// The data folder is short enough for a unix socket path.
func Start(t testing.TB, opts ...Option) *Instance {
	t.Helper()
	dir, err := os.MkdirTemp("", "placette-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg := app.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.LogLevel = "debug"
	for _, o := range opts {
		o(&cfg)
	}
	return StartConfig(t, cfg)
}

// StartConfig runs placette with cfg for the test t, for a test that
// restarts an instance on the same data folder.
func StartConfig(t testing.TB, cfg app.Config) *Instance {
	t.Helper()
	logs := &LogBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := app.New(cfg, logger)
	if err := a.Start(context.Background()); err != nil {
		t.Fatalf("start placette: %v\nlog:\n%s", err, logs)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("stop placette: %v", err)
		}
	})
	return &Instance{App: a, URL: a.URL(), DataDir: a.DataDir(), Log: logs}
}

// Client returns an HTTP client with its own cookie jar that does not follow
// redirects, so that tests see each 303.
func (in *Instance) Client(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Get fetches path with c and returns the status and body.
func (in *Instance) Get(t testing.TB, c *http.Client, path string) (int, string) {
	t.Helper()
	resp, err := c.Get(in.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// LogBuffer collects log output; it is safe for concurrent use.
type LogBuffer struct {
	mu sync.Mutex // guards b
	b  strings.Builder
}

// Write implements io.Writer.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything logged so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
