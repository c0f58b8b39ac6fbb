package app_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/placette/placette/internal/app"
	"codeberg.org/placette/placette/internal/app/apptest"
	"codeberg.org/placette/placette/internal/control"
)

const adminPassword = "la place du marché"

// testConfig returns a configuration for a test: a data folder in dir,
// the web listener on a free loopback port.
func testConfig(dir string) app.Config {
	cfg := app.DefaultConfig()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.SMTPAddr = "127.0.0.1:0"
	return cfg
}

// startErr starts an app with cfg, which the test expects to fail, and
// returns the error.
func startErr(t *testing.T, cfg app.Config) error {
	t.Helper()
	a := app.New(cfg, slog.New(slog.DiscardHandler))
	err := a.Start(context.Background())
	if err == nil {
		a.Close()
		t.Fatal("Start succeeded, want an error")
	}
	if cerr := a.Close(); cerr != nil {
		t.Errorf("Close after a failed Start: %v", cerr)
	}
	return err
}

func TestStartDataFolderUnderFile(t *testing.T) {
	t.Parallel()
	dir := apptest.TempDir(t)
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(dir)
	cfg.DataDir = filepath.Join(file, "data")
	err := startErr(t, cfg)
	msg := err.Error()
	if !strings.Contains(msg, "data folder") || !(strings.Contains(msg, "not writable") || strings.Contains(msg, "cannot create")) {
		t.Errorf("error %q does not say the data folder cannot be created", msg)
	}
	if !strings.Contains(msg, cfg.DataDir) {
		t.Errorf("error %q does not name the folder %s", msg, cfg.DataDir)
	}
}

func TestStartTwiceOnOneFolder(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t)
	cfg := testConfig(t.TempDir())
	cfg.DataDir = inst.DataDir
	err := startErr(t, cfg)
	if !strings.Contains(err.Error(), "in use by another placette process") {
		t.Errorf("error %q does not say the folder is in use", err)
	}
	// The failed start touched nothing of the running one.
	if fi, err := os.Lstat(app.SocketPath(inst.DataDir)); err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Errorf("the running app's socket: %v, %v", fi, err)
	}
	if status, body := inst.Get(t, inst.Client(t), "/healthz"); status != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz of the running app: %d %q", status, body)
	}
}

func TestStartPortInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := apptest.TempDir(t)
	cfg := testConfig(dir)
	cfg.HTTPAddr = ln.Addr().String()
	err = startErr(t, cfg)
	if !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), cfg.HTTPAddr) {
		t.Errorf("error %q does not say the address %s is in use", err, cfg.HTTPAddr)
	}
	// The failed start released the data folder.
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.SMTPAddr = "127.0.0.1:0"
	apptest.StartConfig(t, cfg)
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*app.Config)
		want   []string // substrings of the error; none: valid
	}{
		{"default", func(*app.Config) {}, nil},
		{"json logs at debug", func(c *app.Config) { c.LogFormat, c.LogLevel = "json", "debug" }, nil},
		{"any interface", func(c *app.Config) { c.HTTPAddr = ":8080" }, nil},
		{"IPv6", func(c *app.Config) { c.HTTPAddr = "[::1]:8080" }, nil},
		{"no port", func(c *app.Config) { c.HTTPAddr = "localhost" }, []string{"-http", "host:port"}},
		{"empty address", func(c *app.Config) { c.HTTPAddr = "" }, []string{"-http"}},
		{"bad log format", func(c *app.Config) { c.LogFormat = "xml" }, []string{"-log-format", `"xml"`}},
		{"bad log level", func(c *app.Config) { c.LogLevel = "loud" }, []string{"-log-level", `"loud"`}},
		{"empty data", func(c *app.Config) { c.DataDir = "" }, []string{"-data"}},
		{"blank data", func(c *app.Config) { c.DataDir = "  " }, []string{"-data"}},
		{"everything wrong", func(c *app.Config) { *c = app.Config{} }, []string{"-data", "-http", "-log-format", "-log-level"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := app.DefaultConfig()
			tt.change(&cfg)
			err := cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate of %+v: nil, want an error", cfg)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate: %q does not mention %q", err, w)
				}
			}
		})
	}
	var empty app.Config
	if err := empty.Validate(); err == nil || strings.Count(err.Error(), "\n") != 3 {
		t.Errorf("Validate of an empty config: %v; want four lines, one per problem", err)
	}

	// Start refuses a bad configuration before touching the disk.
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.LogLevel = "loud"
	if err := app.New(cfg, slog.New(slog.DiscardHandler)).Start(context.Background()); err == nil || !strings.Contains(err.Error(), "-log-level") {
		t.Errorf("Start with a bad config: %v", err)
	}
	if _, err := os.Stat(cfg.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Start with a bad config created the data folder: %v", err)
	}
}

func TestControlSocket(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t)
	sock := app.SocketPath(inst.DataDir)
	fi, err := os.Lstat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("the control socket has mode %v, want a socket with 0600", fi.Mode())
	}
	fi, err = os.Stat(inst.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("the data folder has mode %v, want no access for others", fi.Mode().Perm())
	}

	// Commands reach the running server through the socket.
	var out bytes.Buffer
	err = app.Call(context.Background(), inst.DataDir, &control.Call{Name: "backup", Stdout: &out})
	if err != nil || out.Len() == 0 {
		t.Errorf("backup through the socket: %d bytes, %v", out.Len(), err)
	}
	err = app.Call(context.Background(), inst.DataDir, &control.Call{Name: "nope"})
	if re := (*control.RemoteError)(nil); !errors.As(err, &re) || !strings.Contains(err.Error(), `unknown command "nope"`) {
		t.Errorf("an unknown command: %v, want a remote error", err)
	}

	if err := inst.App.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Close, the control socket: %v, want it gone", err)
	}
	if err := inst.App.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	// Without a server, the commands open the database themselves.
	out.Reset()
	err = app.Call(context.Background(), inst.DataDir, &control.Call{Name: "backup", Stdout: &out})
	if err != nil || out.Len() == 0 {
		t.Errorf("backup without a server: %d bytes, %v", out.Len(), err)
	}
}

func TestUserAddOp(t *testing.T) {
	t.Parallel()
	cfg := testConfig(apptest.TempDir(t))
	dir := cfg.DataDir
	tests := []struct {
		name  string
		args  []string
		input string
		want  string // in the error; "" for success
	}{
		{"administrator", []string{"-admin", "sam"}, adminPassword + "\n", ""},
		{"moderator, no newline", []string{"-moderator", "--", "karim"}, adminPassword, ""},
		{"no login", []string{"-admin"}, adminPassword + "\n", "one login"},
		{"two logins", []string{"a1", "b2"}, adminPassword + "\n", "one login"},
		{"unknown flag", []string{"-root", "c3"}, adminPassword + "\n", "-root"},
		{"weak password", []string{"d4"}, "court\n", "at least 10"},
		{"no password", []string{"e5"}, "", "at least 10"},
		{"duplicate", []string{"SAM"}, adminPassword + "\n", "exists already"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := app.Call(context.Background(), dir, &control.Call{Name: "user-add", Args: tt.args, Stdin: strings.NewReader(tt.input), Stdout: &out})
			if tt.want == "" {
				if err != nil || !strings.Contains(out.String(), "created") {
					t.Errorf("user-add %q: %v, output %q", tt.args, err, out.String())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("user-add %q: %v, want one line with %q", tt.args, err, tt.want)
			}
		})
	}

	inst := apptest.StartConfig(t, cfg)
	if p, err := inst.App.SetupPath(); p != "" || err != nil {
		t.Errorf("SetupPath with an administrator made offline: %q, %v", p, err)
	}
	inst.Login(t, "sam", adminPassword)
	inst.Login(t, "karim", adminPassword)
}

func TestRestartKeepsData(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t)
	admin := inst.CreateAdmin(t, "sam", adminPassword)
	resp, body := inst.Submit(t, admin, "/admin/accounts", "/admin/accounts", url.Values{"login": {"karim"}, "password": {adminPassword}, "role": {"moderator"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create an account: status %d:\n%s", resp.StatusCode, body)
	}
	resp, body = inst.Submit(t, admin, "/admin/settings", "/admin/settings", url.Values{"name": {"La placette de Brest"}, "hoster": {"Chatons du Finistère"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save the settings: status %d:\n%s", resp.StatusCode, body)
	}
	if err := inst.App.Close(); err != nil {
		t.Fatal(err)
	}

	cfg := app.DefaultConfig()
	cfg.DataDir = inst.DataDir
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.SMTPAddr = "127.0.0.1:0"
	again := apptest.StartConfig(t, cfg)
	if p, err := again.App.SetupPath(); p != "" || err != nil {
		t.Errorf("SetupPath after a restart: %q, %v; want none", p, err)
	}
	// The session survives the restart too.
	status, _ := again.Get(t, admin, "/admin/")
	if status != http.StatusOK {
		t.Errorf("the administrator's session after a restart: status %d", status)
	}
	again.Login(t, "karim", adminPassword)
	status, body = again.Get(t, again.Client(t), "/")
	if status != http.StatusOK || !strings.Contains(body, "La placette de Brest") || !strings.Contains(body, "Chatons du Finistère") {
		t.Errorf("the home page after a restart lost the settings: status %d:\n%s", status, body)
	}
}

// TestLogs checks that a start logs where placette listens and, while
// there is no administrator, the one-time link.
func TestLogs(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t)
	path, err := inst.App.SetupPath()
	if err != nil {
		t.Fatal(err)
	}
	logs := inst.Log.String()
	for _, want := range []string{"placette started", inst.URL, inst.URL + path} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "level=ERROR") {
		t.Errorf("errors logged at start:\n%s", logs)
	}
}
