//go:build unix

package control

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// staleSocket leaves at path the file of a socket nobody listens on, as a
// server that crashed does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestListenMode(t *testing.T) {
	// Not parallel: the umask belongs to the process.
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := socketPath(t)
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
	}
	if got := ln.Addr().String(); got != path {
		t.Errorf("Addr: %q, want %q", got, path)
	}
	// The temporary directory is gone.
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("the folder holds %d files, want only the socket", len(entries))
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after Close: %v, want the socket removed", err)
	}
}

func TestListenReplacesStaleSocket(t *testing.T) {
	path := socketPath(t)
	staleSocket(t, path)
	ln, err := Listen(path)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	srv := &Server{Handler: HandlerFunc(func(context.Context, *Call) error { return nil })}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	if err := Dial(context.Background(), path, &Call{Name: "version"}); err != nil {
		t.Errorf("Dial: %v", err)
	}
	cancel()
	if err := wait(t, done, "Serve"); err != nil {
		t.Errorf("Serve: %v", err)
	}
}

func TestListenRefusesOtherFiles(t *testing.T) {
	path := socketPath(t)
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ln, err := Listen(path); err == nil {
		ln.Close()
		t.Fatal("Listen replaced a regular file")
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
		t.Errorf("the file became %q, %v", b, err)
	}
}

func TestListenerCloseKeepsSuccessor(t *testing.T) {
	path := socketPath(t)
	first, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("closing the first listener removed the second's socket: %v", err)
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(t *testing.T, path string) // nil: no file
		wantLocal bool
	}{
		{"no socket", nil, true},
		{"stale socket", staleSocket, true},
		{"plain file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"server", func(t *testing.T, path string) {
			ln, err := Listen(path)
			if err != nil {
				t.Fatal(err)
			}
			srv := &Server{Handler: HandlerFunc(func(ctx context.Context, c *Call) error {
				_, err := c.Stdout.Write([]byte("remote"))
				return err
			})}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ctx, ln) }()
			t.Cleanup(func() {
				cancel()
				if err := wait(t, done, "Serve"); err != nil {
					t.Errorf("Serve: %v", err)
				}
			})
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := socketPath(t)
			if tt.setup != nil {
				tt.setup(t, path)
			}
			if tt.wantLocal {
				if err := Dial(context.Background(), path, &Call{Name: "x"}); !errors.Is(err, ErrNoServer) {
					t.Errorf("Dial: %v, want ErrNoServer", err)
				}
			}
			var out bytes.Buffer
			local := func(ctx context.Context, c *Call) error {
				if c.Stdin == nil || c.Stdout == nil || c.Stderr == nil {
					t.Error("local call with a nil stream")
				}
				_, err := c.Stdout.Write([]byte("local"))
				return err
			}
			if err := Run(context.Background(), path, &Call{Name: "backup", Stdout: &out}, local); err != nil {
				t.Fatalf("Run: %v", err)
			}
			want := "remote"
			if tt.wantLocal {
				want = "local"
			}
			if out.String() != want {
				t.Errorf("Run ran %q, want %q", out.String(), want)
			}
		})
	}
}

func TestRunLocalError(t *testing.T) {
	errLocked := errors.New("database is locked")
	err := Run(context.Background(), socketPath(t), &Call{Name: "backup"}, func(context.Context, *Call) error {
		return errLocked
	})
	if err != errLocked {
		t.Errorf("Run: %v, want the local error as is", err)
	}
}

func TestListenPathTooLong(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, strings.Repeat("d", 120), "placette.sock")
	_, err := Listen(long)
	if err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("Listen(%d-byte path) = %v, want a 'too long' error", len(long), err)
	}
	err = Dial(context.Background(), long, &Call{Name: "x"})
	if !errors.Is(err, ErrNoServer) {
		t.Fatalf("Dial(too long) = %v, want ErrNoServer", err)
	}
}
