package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/account"
	"codeberg.org/placette/placette/internal/app"
	"codeberg.org/placette/placette/internal/app/apptest"
	"codeberg.org/placette/placette/internal/store"
)

// safety bounds every wait, so that a bug fails a test rather than hangs
// it; no test depends on how long anything takes.
const safety = 30 * time.Second

const password = "la place du marché"

// result is what a run of Main did.
type result struct {
	code           int
	stdout, stderr string
}

// run calls Main with args, the input stdin and the environment env.
func run(ctx context.Context, stdin string, env map[string]string, args ...string) result {
	var stdout, stderr bytes.Buffer
	code := Main(ctx, args, strings.NewReader(stdin), &stdout, &stderr, func(k string) string { return env[k] })
	return result{code, stdout.String(), stderr.String()}
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// wantOneLine fails the test unless r failed with exit code 1 and one line
// on standard error that says want.
func wantOneLine(t *testing.T, r result, want string) {
	t.Helper()
	if r.code != exitError {
		t.Errorf("exit code %d, want 1; %v", r.code, r)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") || !strings.HasPrefix(r.stderr, "placette: ") {
		t.Errorf("standard error is not one line starting with \"placette: \":\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("standard error does not say %q:\n%s", want, r.stderr)
	}
}

// openAccounts opens the database file path and its account store.
func openAccounts(t *testing.T, path string) *account.Store {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	accounts, err := account.NewStore(db)
	if err != nil {
		t.Fatal(err)
	}
	return accounts
}

// checkAccount checks that the database file path has an account login,
// with the test password and the admin role or not. It closes the
// database again before it returns.
func checkAccount(t *testing.T, path, login string, admin bool) {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	}()
	accounts, err := account.NewStore(db)
	if err != nil {
		t.Fatal(err)
	}
	a, err := accounts.Authenticate(login, password)
	if err != nil {
		t.Fatalf("log in as %s in %s: %v", login, path, err)
	}
	if a.Admin != admin {
		t.Errorf("%s: admin %v, want %v", login, a.Admin, admin)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	dir := apptest.TempDir(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string // on standard error
	}{
		{"unknown command", nil, []string{"frobnicate"}, []string{`unknown command "frobnicate"`, "Usage: placette"}},
		{"unknown flag", nil, []string{"serve", "-nope"}, []string{"-nope", "Usage: placette serve"}},
		{"unknown flag of the default command", nil, []string{"-nope"}, []string{"-nope"}},
		{"serve with an argument", nil, []string{"serve", "extra-arg"}, []string{`"extra-arg"`}},
		{"bad log format", nil, []string{"serve", "-log-format", "x"}, []string{"-log-format", "text or json"}},
		{"bad log level", nil, []string{"serve", "-log-level", "loud"}, []string{"-log-level"}},
		{"bad listen address", nil, []string{"serve", "-http", "bad"}, []string{"-http", "host:port"}},
		{"bad address from the environment", map[string]string{"PLACETTE_HTTP": "bad"}, []string{"serve"}, []string{"PLACETTE_HTTP", `"bad"`, "host:port"}},
		{"bad boolean from the environment", map[string]string{"PLACETTE_BEHIND_PROXY": "maybe"}, []string{"serve"}, []string{"PLACETTE_BEHIND_PROXY"}},
		{"empty data folder", nil, []string{"serve", "-data", ""}, []string{"-data"}},
		{"user without a subcommand", nil, []string{"user"}, []string{"user add LOGIN"}},
		{"user with a wrong subcommand", nil, []string{"user", "del", "x"}, []string{"user add LOGIN"}},
		{"user add without a login", nil, []string{"user", "add", "-admin"}, []string{"LOGIN"}},
		{"user add with two logins", nil, []string{"user", "add", "ab", "cd"}, []string{`"cd"`}},
		{"user add with two logins after a flag", nil, []string{"user", "add", "-admin", "ab", "cd"}, []string{`"cd"`}},
		{"backup without a file", nil, []string{"backup"}, []string{"FILE"}},
		{"backup with two files", nil, []string{"backup", "a.db", "b.db"}, []string{"FILE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"PLACETTE_DATA": filepath.Join(dir, "data")}
			for k, v := range tt.env {
				env[k] = v
			}
			// A cancelled context: were a command to run by mistake, it
			// would stop at once.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			r := run(ctx, password+"\n", env, tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit code %d, want 2; %v", r.code, r)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("standard error does not say %q:\n%s", w, r.stderr)
				}
			}
			if r.stdout != "" {
				t.Errorf("standard output is not empty:\n%s", r.stdout)
			}
			if strings.Contains(r.stderr, "goroutine") {
				t.Errorf("a stack trace:\n%s", r.stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused command line created the data folder: %v", err)
	}
}

func TestVersionAndHelp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args   []string
		stdout string
		stderr string
	}{
		{[]string{"version"}, "placette " + app.Version + "\n", ""},
		{[]string{"help"}, "Usage: placette", ""},
		{[]string{"-h"}, "Usage: placette", ""},
		{[]string{"serve", "-h"}, "", "-behind-proxy"},
		{[]string{"user", "add", "-h"}, "", "-moderator"},
		{[]string{"backup", "-h"}, "", "-data"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := run(context.Background(), "", nil, tt.args...)
			if r.code != exitOK {
				t.Errorf("exit code %d, want 0; %v", r.code, r)
			}
			if !strings.Contains(r.stdout, tt.stdout) || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("want %q on stdout and %q on stderr; %v", tt.stdout, tt.stderr, r)
			}
		})
	}
}

func TestUserAddOffline(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(apptest.TempDir(t), "data")
	r := run(context.Background(), password+"\n", nil, "user", "add", "Clemence", "-admin", "-data", dir)
	if r.code != exitOK || r.stdout != "account \"clemence\" created (administrator)\n" {
		t.Fatalf("user add: %v", r)
	}
	r = run(context.Background(), password+"\r\n", nil, "user", "add", "-moderator", "-data", dir, "karim")
	if r.code != exitOK || !strings.Contains(r.stdout, "(moderator)") {
		t.Fatalf("user add with the login last: %v", r)
	}
	if _, err := os.Stat(app.SocketPath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a command without a server left a socket: %v", err)
	}
	checkAccount(t, app.DBPath(dir), "clemence", true)
	checkAccount(t, app.DBPath(dir), "karim", false)

	r = run(context.Background(), password+"\n", nil, "user", "add", "KARIM", "-data", dir)
	wantOneLine(t, r, "exists already")
}

func TestUserAddThroughServer(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t)
	r := run(context.Background(), password+"\n", nil, "user", "add", "karim", "-admin", "-data", inst.DataDir)
	if r.code != exitOK || !strings.Contains(r.stdout, "created (administrator)") {
		t.Fatalf("user add: %v", r)
	}
	// The server logs the call once it has answered: wait for the line.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(inst.Log.String(), "control call"); {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not log the call:\n%s", inst.Log)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The running server knows the account at once.
	c := inst.Login(t, "karim", password)
	if status, _ := inst.Get(t, c, "/admin/accounts"); status != http.StatusOK {
		t.Errorf("the new administrator's GET /admin/accounts: %d", status)
	}
	if p, err := inst.App.SetupPath(); p != "" || err != nil {
		t.Errorf("SetupPath with an administrator: %q, %v", p, err)
	}
}

func TestUserAddShortPassword(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t)
	offline := filepath.Join(apptest.TempDir(t), "data")
	for _, tt := range []struct{ name, dir string }{{"offline", offline}, {"through the server", inst.DataDir}} {
		t.Run(tt.name, func(t *testing.T) {
			r := run(context.Background(), "court\n", nil, "user", "add", "karim", "-data", tt.dir)
			wantOneLine(t, r, "at least 10 characters")
			r = run(context.Background(), "", nil, "user", "add", "karim", "-data", tt.dir)
			wantOneLine(t, r, "no password")
			r = run(context.Background(), password+"\n", nil, "user", "add", "ka rim", "-data", tt.dir)
			wantOneLine(t, r, "login")
		})
	}
}

func TestDataFromEnvironment(t *testing.T) {
	t.Parallel()
	base := apptest.TempDir(t)
	fromEnv, fromFlag := filepath.Join(base, "env"), filepath.Join(base, "flag")
	env := map[string]string{"PLACETTE_DATA": fromEnv}

	r := run(context.Background(), password+"\n", env, "user", "add", "sam", "-admin")
	if r.code != exitOK {
		t.Fatalf("user add with PLACETTE_DATA: %v", r)
	}
	checkAccount(t, app.DBPath(fromEnv), "sam", true)

	// The command line wins over the environment.
	r = run(context.Background(), password+"\n", env, "user", "add", "karim", "-data", fromFlag)
	if r.code != exitOK {
		t.Fatalf("user add with PLACETTE_DATA and -data: %v", r)
	}
	checkAccount(t, app.DBPath(fromFlag), "karim", false)
	if _, err := openAccounts(t, app.DBPath(fromEnv)).Get("karim"); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("karim in the folder of PLACETTE_DATA: %v, want ErrNotFound", err)
	}

	backup := filepath.Join(base, "backup.db")
	r = run(context.Background(), "", map[string]string{"PLACETTE_DATA": fromFlag}, "backup", backup)
	if r.code != exitOK {
		t.Fatalf("backup with PLACETTE_DATA: %v", r)
	}
	checkAccount(t, backup, "karim", false)
}

func TestBackupWhileServing(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t)
	admin := inst.CreateAdmin(t, "sam", password)
	r := run(context.Background(), password+"\n", nil, "user", "add", "karim", "-data", inst.DataDir)
	if r.code != exitOK {
		t.Fatalf("user add: %v", r)
	}

	// Readers and a writer keep the server busy during the backups.
	stop := make(chan struct{})
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	token := inst.CSRF(t, admin, "/admin/settings")
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := admin.PostForm(inst.URL+"/admin/settings", url.Values{"csrf": {token}, "name": {fmt.Sprintf("placette %d", i)}})
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				errs <- fmt.Errorf("POST /admin/settings: status %d", resp.StatusCode)
				return
			}
		}
	})
	for range 3 {
		c := inst.Client(t)
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, path := range []string{"/", "/healthz", "/login"} {
					resp, err := c.Get(inst.URL + path)
					if err != nil {
						errs <- err
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						errs <- fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
						return
					}
				}
			}
		})
	}

	dir := t.TempDir()
	var files []string
	for i := range 3 {
		file := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		r := run(context.Background(), "", nil, "backup", file, "-data", inst.DataDir)
		if r.code != exitOK || !strings.Contains(r.stderr, "backup written to "+file) {
			t.Errorf("backup: %v", r)
		}
		files = append(files, file)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("during the backups: %v", err)
	}

	for _, file := range files {
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", file, fi.Mode().Perm())
		}
		accounts := openAccounts(t, file)
		for _, login := range []string{"sam", "karim"} {
			if _, err := accounts.Authenticate(login, password); err != nil {
				t.Errorf("%s in %s: %v", login, file, err)
			}
		}
	}
	// Only the backups are left in their folder, no temporary file.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(files) {
		t.Errorf("%d files in the backups' folder, want %d", len(entries), len(files))
	}
}

func TestBackupErrors(t *testing.T) {
	t.Parallel()
	base := apptest.TempDir(t)
	data := filepath.Join(base, "data")
	if r := run(context.Background(), password+"\n", nil, "user", "add", "sam", "-data", data); r.code != exitOK {
		t.Fatalf("user add: %v", r)
	}
	empty := filepath.Join(base, "empty")
	if err := os.Mkdir(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(base, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, data, file, want string
	}{
		{"no database in the folder", empty, filepath.Join(out, "b.db"), "no placette database in " + empty},
		{"no such folder", filepath.Join(base, "missing"), filepath.Join(out, "b.db"), "no placette database"},
		{"missing directory of the file", data, filepath.Join(base, "missing", "b.db"), filepath.Join(base, "missing")},
		{"the database itself", data, app.DBPath(data), "the database itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(context.Background(), "", nil, "backup", tt.file, "-data", tt.data)
			wantOneLine(t, r, tt.want)
		})
	}
	if entries, err := os.ReadDir(out); err != nil || len(entries) != 0 {
		t.Errorf("failed backups left %v, %v", entries, err)
	}
	if _, err := os.Stat(filepath.Join(empty, app.DBFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a backup of an empty folder created a database: %v", err)
	}
	checkAccount(t, app.DBPath(data), "sam", false)
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// waitHealthy waits until GET /healthz at addr answers 200, or until serve
// ends or the safety bound.
func waitHealthy(t *testing.T, addr string, done <-chan result) {
	t.Helper()
	deadline := time.Now().Add(safety)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case r := <-done:
			t.Fatalf("serve ended before answering: %v", r)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /healthz never answered 200: %v", err)
		}
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		how  func(dir, addr string) (env map[string]string, args []string)
	}{
		{"flags", func(dir, addr string) (map[string]string, []string) {
			return nil, []string{"serve", "-data", dir, "-http", addr, "-smtp", "127.0.0.1:0"}
		}},
		{"environment", func(dir, addr string) (map[string]string, []string) {
			return map[string]string{"PLACETTE_DATA": dir, "PLACETTE_HTTP": addr, "PLACETTE_LOG_FORMAT": "json"}, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(apptest.TempDir(t), "data")
			addr := freeAddr(t)
			env, args := tt.how(dir, addr)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan result, 1)
			go func() { done <- run(ctx, "", env, args...) }()

			waitHealthy(t, addr, done)
			if fi, err := os.Lstat(app.SocketPath(dir)); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("the control socket while serving: %v, %v", fi, err)
			}
			cancel()
			var r result
			select {
			case r = <-done:
			case <-time.After(safety):
				t.Fatal("serve did not stop after its context was cancelled")
			}
			if r.code != exitOK {
				t.Errorf("serve: %v", r)
			}
			if _, err := os.Lstat(app.SocketPath(dir)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the control socket after serve: %v, want it gone", err)
			}
			if !strings.Contains(r.stderr, "placette started") || !strings.Contains(r.stderr, "stopping") {
				t.Errorf("the log lacks the start or the stop:\n%s", r.stderr)
			}
			if env != nil && !strings.HasPrefix(r.stderr, `{"time":`) {
				t.Errorf("PLACETTE_LOG_FORMAT=json is not honoured:\n%s", r.stderr)
			}
			if _, err := os.Stat(app.DBPath(dir)); err != nil {
				t.Errorf("no database in the data folder: %v", err)
			}
		})
	}
}

func TestServeFails(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t)
	r := run(context.Background(), "", nil, "serve", "-data", inst.DataDir, "-http", "127.0.0.1:0", "-smtp", "127.0.0.1:0")
	wantOneLine(t, r, "in use by another placette process")

	busy := strings.TrimPrefix(inst.URL, "http://")
	r = run(context.Background(), "", nil, "serve", "-data", filepath.Join(apptest.TempDir(t), "data"), "-http", busy, "-smtp", "127.0.0.1:0")
	if r.code != exitError || !strings.Contains(r.stderr, "placette: cannot listen on "+busy+": the address is already in use") {
		t.Errorf("serve on a port in use: %v", r)
	}
}

// TestRestore follows the documented procedure: stop placette, copy the
// backup to DATA/placette.db, start it again.
func TestRestore(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t)
	inst.CreateAdmin(t, "sam", password)
	if r := run(context.Background(), password+"\n", nil, "user", "add", "karim", "-moderator", "-data", inst.DataDir); r.code != exitOK {
		t.Fatalf("user add: %v", r)
	}
	backup := filepath.Join(t.TempDir(), "placette-backup.db")
	if r := run(context.Background(), "", nil, "backup", backup, "-data", inst.DataDir); r.code != exitOK {
		t.Fatalf("backup: %v", r)
	}
	// A change after the backup, which the restore undoes.
	if r := run(context.Background(), password+"\n", nil, "user", "add", "later", "-data", inst.DataDir); r.code != exitOK {
		t.Fatalf("user add: %v", r)
	}
	if err := inst.App.Close(); err != nil {
		t.Fatal(err)
	}
	copyFile(t, backup, app.DBPath(inst.DataDir))
	cfg := app.DefaultConfig()
	cfg.DataDir = inst.DataDir
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.SMTPAddr = "127.0.0.1:0"
	again := apptest.StartConfig(t, cfg)
	again.Login(t, "karim", password)
	c := again.Client(t)
	resp, body := again.Submit(t, c, "/login", "/login", url.Values{"login": {"later"}, "password": {password}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the account made after the backup: status %d, want 401:\n%s", resp.StatusCode, body)
	}

	// Into a fresh data folder, as on a new SD card.
	fresh := filepath.Join(apptest.TempDir(t), "data")
	if err := os.Mkdir(fresh, 0o700); err != nil {
		t.Fatal(err)
	}
	copyFile(t, backup, app.DBPath(fresh))
	cfg.DataDir = fresh
	restored := apptest.StartConfig(t, cfg)
	if p, err := restored.App.SetupPath(); p != "" || err != nil {
		t.Errorf("SetupPath of the restored folder: %q, %v; want none", p, err)
	}
	admin := restored.Login(t, "sam", password)
	restored.Login(t, "karim", password)
	if status, body := restored.Get(t, admin, "/admin/accounts"); status != http.StatusOK || !strings.Contains(body, "karim") {
		t.Errorf("the restored accounts page: status %d:\n%s", status, body)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
