// Package apptest runs the whole of placette in a test: a fresh data folder
// in t.TempDir(), the web listener on 127.0.0.1:0 and the control socket,
// stopped when the test ends. Every package's end-to-end tests use it.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"codeberg.org/placette/placette/internal/app"
	"codeberg.org/placette/placette/internal/control"
)

// Instance is a running placette.
type Instance struct {
	App     *app.App
	URL     string // "http://127.0.0.1:PORT", no trailing slash
	DataDir string
	Mail    string     // the SMTP (or LMTP) listener's address; "" when none
	Log     *LogBuffer // everything the app logged
	// Transport is what Client's clients use; nil for the default. Tests
	// of the HTTPS modes set one that trusts their authority.
	Transport http.RoundTripper
}

// Option changes the configuration an instance starts with.
type Option func(*app.Config)

// Start runs placette for the test t and stops it at the end of the test.
// The data folder is short enough for a unix socket path.
func Start(t testing.TB, opts ...Option) *Instance {
	t.Helper()
	dir := TempDir(t)
	cfg := app.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.SMTPAddr = "127.0.0.1:0"
	cfg.LogLevel = "debug"
	for _, o := range opts {
		o(&cfg)
	}
	return StartConfig(t, cfg)
}

// TempDir returns a fresh directory, removed at the end of the test, whose
// path is short enough for a unix socket inside it (t.TempDir's may not be).
func TempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "placette-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
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
	return &Instance{App: a, URL: a.URL(), DataDir: a.DataDir(), Mail: a.MailAddr(), Log: logs}
}

// Client returns an HTTP client with its own cookie jar that does not follow
// redirects, so that tests see each 303.
func (in *Instance) Client(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar:       jar,
		Transport: in.Transport,
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

// csrfInput finds the CSRF token in a page's form.
var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// CSRF fetches page with c and returns the CSRF token of its forms, bound
// to the cookie c now holds. The test fails if page is not a 200 with a
// form.
func (in *Instance) CSRF(t testing.TB, c *http.Client, page string) string {
	t.Helper()
	status, body := in.Get(t, c, page)
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200", page, status)
	}
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("GET %s: no CSRF token in the page:\n%s", page, body)
	}
	return m[1]
}

// Post sends form to path with c, as a browser submits a form, and returns
// the response, whose body is already read and closed, and the body.
func (in *Instance) Post(t testing.TB, c *http.Client, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(in.URL+path, form)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return resp, string(body)
}

// Submit fetches page for its CSRF token, then posts form with the token to
// action, as a person filling in a form of page does.
func (in *Instance) Submit(t testing.TB, c *http.Client, page, action string, form url.Values) (*http.Response, string) {
	t.Helper()
	form = maps.Clone(form)
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", in.CSRF(t, c, page))
	return in.Post(t, c, action, form)
}

// CreateAdmin creates the first administrator through the one-time setup
// link, and returns a client logged in as them.
func (in *Instance) CreateAdmin(t testing.TB, login, password string) *http.Client {
	t.Helper()
	path, err := in.App.SetupPath()
	if err != nil || path == "" {
		t.Fatalf("setup path: %q, %v", path, err)
	}
	c := in.Client(t)
	resp, body := in.Submit(t, c, path, path, url.Values{"login": {login}, "password": {password}, "password2": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create the first administrator: status %d, want 303:\n%s", resp.StatusCode, body)
	}
	return c
}

// Login logs login in with password on a new client and returns it. The
// test fails unless the login succeeds.
func (in *Instance) Login(t testing.TB, login, password string) *http.Client {
	t.Helper()
	c := in.Client(t)
	resp, body := in.Submit(t, c, "/login", "/login", url.Values{"login": {login}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("log in as %s: status %d, want 303:\n%s", login, resp.StatusCode, body)
	}
	return c
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

// Call runs a placette command (a control call: "list", "wiki",
// "reindex"…) against in, as the command line would, with stdin as its
// input (can be nil), and returns its output; a failure fails t with the
// command's error output.
func (in *Instance) Call(t testing.TB, stdin io.Reader, name string, args ...string) string {
	t.Helper()
	var out, errOut strings.Builder
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	err := app.Call(context.Background(), in.DataDir, &control.Call{Name: name, Args: args, Stdin: stdin, Stdout: &out, Stderr: &errOut})
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, errOut.String())
	}
	return out.String()
}
