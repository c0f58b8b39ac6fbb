package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"codeberg.org/placette/placette/internal/resident"
	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// ErrLocked is returned, wrapped with the database path, by [Open] when
// another process holds the database and the lock could not be taken within
// [Options.Timeout].
var ErrLocked = errors.New("the database is in use by another placette process")

// defaultTimeout is how long Open waits for the file lock when
// Options.Timeout is zero.
const defaultTimeout = time.Second

// fileMode is the mode of the database file and of backups.
const fileMode fs.FileMode = 0o600

// dirMode is the mode of a data directory that Open creates.
const dirMode fs.FileMode = 0o700

// DB is an open placette database. The embedded [bbolt.DB] gives Update,
// View and Batch; the methods of DB add schema versions, migrations and
// backups. A DB is safe for concurrent use.
type DB struct {
	*bbolt.DB

	path string
}

// Options configures [Open]. The zero value opens the database read-write
// and waits up to one second for the lock.
type Options struct {
	// Timeout is how long Open waits for the file lock held by another
	// process (default 1s when zero). A negative value tries once.
	Timeout time.Duration

	// ReadOnly opens the database with a shared lock, for reading only.
	// The file must exist, and no migration runs: Open fails if the
	// store's schema is not the current one.
	ReadOnly bool
}

// Open opens the database at path, creating it and its parent directory if
// they are missing (unless opts.ReadOnly is set), and brings the store's own
// schema up to date. If another process holds the database, Open returns an
// error wrapping [ErrLocked]; if the database was written by a newer
// placette, an error wrapping [ErrTooNew].
func Open(path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("open database: empty path")
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = defaultTimeout
	}
	dir := filepath.Dir(path)
	if !opts.ReadOnly {
		if err := os.MkdirAll(dir, dirMode); err != nil {
			return nil, fmt.Errorf("open %s: create its directory: %w", path, err)
		}
	}
	bdb, err := bbolt.Open(path, fileMode, &bbolt.Options{
		Timeout:        timeout,
		ReadOnly:       opts.ReadOnly,
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
	})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("open %s: %w", path, ErrLocked)
	case errors.Is(err, fs.ErrPermission):
		if opts.ReadOnly {
			return nil, fmt.Errorf("open %s: the file is not readable by this user: %w", path, err)
		}
		return nil, fmt.Errorf("open %s: the file or its directory %s is not writable by this user: %w", path, dir, err)
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := &DB{DB: bdb, path: path}
	// Opened with NoFreelistSync, bbolt rebuilds its freelist by reading
	// every page: that left the whole database resident (98 MB of a 107 MB
	// one) though a running server reads a small part of it.
	db.ReleaseMapping()
	if err := db.Migrate(storeComponent, storeMigrations(time.Now)); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s: %w", path, err), db.Close())
	}
	return db, nil
}

// Path returns the path of the database file, as given to [Open].
func (db *DB) Path() string {
	return db.path
}

// ReleaseMapping unmaps from the process the pages of the database it has
// read so far (see package resident): they stay in the kernel's page cache
// and are mapped again on the next read.
func (db *DB) ReleaseMapping() {
	_ = db.View(func(tx *bbolt.Tx) error {
		// The read transaction keeps bbolt from remapping meanwhile.
		resident.ReleaseAt(db.Info().Data, int(tx.Size()))
		return nil
	})
}

// Close releases the database and its lock. It waits for running
// transactions to finish.
func (db *DB) Close() error {
	if err := db.DB.Close(); err != nil {
		return fmt.Errorf("close %s: %w", db.path, err)
	}
	return nil
}

// Size returns the database file size in bytes.
func (db *DB) Size() (int64, error) {
	fi, err := os.Stat(db.path)
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", db.path, err)
	}
	return fi.Size(), nil
}

// Backup writes a consistent copy of the whole database to w and returns
// the number of bytes written. The copy is made inside one read
// transaction (bbolt's Tx.WriteTo), so writers go on meanwhile and the copy
// holds exactly what was committed when the backup began.
func (db *DB) Backup(w io.Writer) (int64, error) {
	var n int64
	err := db.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("back up %s: %w", db.path, err)
	}
	return n, nil
}

// BackupFile writes a consistent copy of the database to path, with mode
// 0600. The copy appears atomically: it is written to a temporary file in
// the same directory, synced, renamed over path and the directory synced,
// so path holds either its old content or the whole new copy, never a part.
// The directory must exist, and path must not be the database itself.
func (db *DB) BackupFile(path string) (err error) {
	if same, err := samePath(path, db.path); err != nil {
		return fmt.Errorf("back up to %s: %w", path, err)
	} else if same {
		return fmt.Errorf("back up to %s: that is the database itself", path)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("back up to %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close() // Already failed; the first error is the one to report.
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(fileMode); err != nil {
		return fmt.Errorf("back up to %s: %w", path, err)
	}
	if _, err := db.Backup(f); err != nil {
		return fmt.Errorf("back up to %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("back up to %s: sync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("back up to %s: close: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("back up to %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		// The copy is in place; only its durability across a crash is in doubt.
		return fmt.Errorf("back up to %s: %w", path, err)
	}
	return nil
}

// samePath reports whether a and b name the same existing file, or the same
// path once made absolute.
func samePath(a, b string) (bool, error) {
	ai, aerr := os.Stat(a)
	bi, berr := os.Stat(b)
	if aerr == nil && berr == nil {
		return os.SameFile(ai, bi), nil
	}
	absA, err := filepath.Abs(a)
	if err != nil {
		return false, err
	}
	absB, err := filepath.Abs(b)
	if err != nil {
		return false, err
	}
	return absA == absB, nil
}

// syncDir flushes the directory entry changes of dir to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	if err := d.Sync(); err != nil {
		return errors.Join(fmt.Errorf("sync directory %s: %w", dir, err), d.Close())
	}
	if err := d.Close(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
