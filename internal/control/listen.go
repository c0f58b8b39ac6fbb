package control

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
)

// maxSocketPath is the longest path a unix socket address holds on Linux
// (sun_path is 108 bytes, with its terminating NUL).
const maxSocketPath = 107

// Listen listens on a unix socket at path, with mode 0600, for [Server.Serve].
// It replaces a stale socket file at path: the caller guarantees, by holding
// the database lock, that no other server uses it. It refuses to replace a
// file that is not a socket.
//
// The socket is created in a fresh directory of mode 0700 beside path,
// chmodded and renamed into place, so that no other user can connect in
// between, whatever the umask, and without changing the process's umask.
// Closing the listener removes the socket file, unless another one has
// replaced it since.
func Listen(path string) (net.Listener, error) {
	// The socket is made as DIR/.pcNNNNNNNNNN/s, then renamed to path: both
	// names must fit in a unix socket address.
	if tmpLen := len(filepath.Dir(path)) + len("/.pc0123456789/s"); len(path) > maxSocketPath || tmpLen > maxSocketPath {
		return nil, fmt.Errorf("listen on %s: the path is too long for a unix socket (%d bytes at most, with room to spare): use a data folder with a shorter path", path, maxSocketPath-len("/.pc0123456789/s")+1)
	}
	fi, err := os.Lstat(path)
	switch {
	case err == nil && fi.Mode().Type() != fs.ModeSocket:
		return nil, fmt.Errorf("listen on %s: the file exists and is not a socket", path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}

	dir, err := os.MkdirTemp(filepath.Dir(path), ".pc")
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	defer func() {
		// Empty once the socket is renamed; its removal matters little.
		_ = os.RemoveAll(dir)
	}()
	tmp := filepath.Join(dir, "s")
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	// The file moves: the listener must not remove it by its first name.
	ul.SetUnlinkOnClose(false)
	fail := func(err error) (net.Listener, error) {
		if cerr := ul.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	fi, err = os.Lstat(path)
	if err != nil {
		return fail(err)
	}
	return &listener{UnixListener: ul, path: path, file: fi}, nil
}

// listener is a unix listener whose socket file was renamed to path.
type listener struct {
	*net.UnixListener
	path string
	file fs.FileInfo // the socket file, to remove only this one
}

// Addr returns the socket's final address.
func (l *listener) Addr() net.Addr {
	return &net.UnixAddr{Name: l.path, Net: "unix"}
}

// Close stops listening and removes the socket file, unless another file
// has replaced it.
func (l *listener) Close() error {
	err := l.UnixListener.Close()
	if fi, serr := os.Lstat(l.path); serr == nil && os.SameFile(fi, l.file) {
		if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
			err = fmt.Errorf("remove control socket: %w", rerr)
		}
	}
	return err
}
