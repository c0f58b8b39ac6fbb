package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// openT opens the database at path and closes it when the test ends,
// reporting a failure to close.
func openT(t *testing.T, path string, opts Options) *DB {
	t.Helper()
	db, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// closeT closes db now, failing the test on error.
func closeT(t *testing.T, db *DB) {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// metaValue returns a copy of key in the meta bucket, or nil.
func metaValue(t *testing.T, db *DB, key string) []byte {
	t.Helper()
	var v []byte
	if err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(metaBucket)
		if b == nil {
			return errors.New("no meta bucket")
		}
		v = bytes.Clone(b.Get([]byte(key)))
		return nil
	}); err != nil {
		t.Fatalf("read meta %s: %v", key, err)
	}
	return v
}

func TestOpenCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	path := filepath.Join(dir, "placette.db")
	before := time.Now().UTC().Truncate(time.Second)

	db := openT(t, path, Options{})
	if got := db.Path(); got != path {
		t.Errorf("Path() = %q, want %q", got, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("database mode = %v, want 0600", got)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := di.Mode().Perm(); got != 0o700 {
		t.Errorf("directory mode = %v, want 0700", got)
	}
	v, err := db.SchemaVersion("store")
	if err != nil {
		t.Fatal(err)
	}
	if v != len(storeMigrations(time.Now)) {
		t.Errorf("store schema version = %d, want %d", v, len(storeMigrations(time.Now)))
	}
	raw := metaValue(t, db, "schema/store")
	if want := []byte{0, 0, 0, 0, 0, 0, 0, 1}; !bytes.Equal(raw, want) {
		t.Errorf("schema/store = %x, want %x", raw, want)
	}
	created := string(metaValue(t, db, "created"))
	ct, err := time.Parse(time.RFC3339, created)
	if err != nil {
		t.Fatalf("created = %q: %v", created, err)
	}
	if !strings.HasSuffix(created, "Z") {
		t.Errorf("created = %q, want UTC", created)
	}
	if ct.Before(before) || ct.After(time.Now().Add(time.Second)) {
		t.Errorf("created = %v, want about %v", ct, before)
	}
	size, err := db.Size()
	if err != nil {
		t.Fatal(err)
	}
	if size != fi.Size() || size <= 0 {
		t.Errorf("Size() = %d, want %d (> 0)", size, fi.Size())
	}

	// Reopening keeps the creation time: the store migration ran once.
	closeT(t, db)
	db2 := openT(t, path, Options{})
	if got := string(metaValue(t, db2, "created")); got != created {
		t.Errorf("created after reopen = %q, want %q", got, created)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string) string // returns the path to open
		opts    Options
		wantSub string // in the error text
	}{
		{
			name: "parent is a regular file",
			setup: func(t *testing.T, dir string) string {
				f := filepath.Join(dir, "file")
				if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
				return filepath.Join(f, "placette.db")
			},
			wantSub: "not a directory",
		},
		{
			name: "directory not writable",
			setup: func(t *testing.T, dir string) string {
				if os.Geteuid() == 0 {
					t.Skip("root can write in any directory")
				}
				ro := filepath.Join(dir, "ro")
				if err := os.Mkdir(ro, 0o500); err != nil {
					t.Fatal(err)
				}
				return filepath.Join(ro, "placette.db")
			},
			wantSub: "not writable",
		},
		{
			name: "read-only and missing",
			setup: func(t *testing.T, dir string) string {
				return filepath.Join(dir, "missing", "placette.db")
			},
			opts:    Options{ReadOnly: true},
			wantSub: "no such file",
		},
		{
			name: "not a database",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "placette.db")
				if err := os.WriteFile(p, bytes.Repeat([]byte("not bbolt "), 1000), 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			},
			wantSub: "invalid",
		},
		{
			name: "a few bytes",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "placette.db")
				if err := os.WriteFile(p, []byte("hello"), 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			},
			wantSub: "placette.db",
		},
		{
			name:    "empty path",
			setup:   func(t *testing.T, dir string) string { return "" },
			wantSub: "empty path",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.setup(t, dir)
			db, err := Open(path, tt.opts)
			if err == nil {
				closeT(t, db)
				t.Fatalf("Open(%q) succeeded, want an error", path)
			}
			t.Logf("error: %v", err)
			if !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("Open(%q) error = %q, want it to contain %q", path, err, tt.wantSub)
			}
			if errors.Is(err, ErrLocked) || errors.Is(err, ErrTooNew) {
				t.Errorf("Open(%q) error = %v, unexpectedly ErrLocked or ErrTooNew", path, err)
			}
		})
	}
}

func TestOpenReadOnlyCreatesNothing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := Open(filepath.Join(missing, "placette.db"), Options{ReadOnly: true}); err == nil {
		t.Fatal("Open read-only of a missing database succeeded")
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(%q) = %v, want it not to exist", missing, err)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "placette.db")
	openT(t, path, Options{})

	for _, opts := range []Options{
		{Timeout: 50 * time.Millisecond},
		{Timeout: 50 * time.Millisecond, ReadOnly: true},
		{Timeout: -1},
	} {
		t.Run(fmt.Sprintf("readonly=%t,timeout=%v", opts.ReadOnly, opts.Timeout), func(t *testing.T) {
			start := time.Now()
			db, err := Open(path, opts)
			if err == nil {
				closeT(t, db)
				t.Fatal("second Open succeeded while the database is open")
			}
			if !errors.Is(err, ErrLocked) {
				t.Fatalf("second Open error = %v, want ErrLocked", err)
			}
			want := "open " + path + ": the database is in use by another placette process"
			if err.Error() != want {
				t.Errorf("error text = %q, want %q", err, want)
			}
			// Not a timing assertion, a sanity bound: the timeout is honoured.
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("second Open took %v", d)
			}
		})
	}
}

func TestOpenReleasesLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "placette.db")
	db := openT(t, path, Options{})
	closeT(t, db)
	db2, err := Open(path, Options{Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	closeT(t, db2)
}

func TestOpenReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "placette.db")
	db := openT(t, path, Options{})
	if err := db.Migrate("example", []Migration{{Name: "one", Up: func(*bbolt.Tx) error { return nil }}}); err != nil {
		t.Fatal(err)
	}
	closeT(t, db)

	// Two read-only opens share the lock.
	ro1 := openT(t, path, Options{ReadOnly: true})
	ro2 := openT(t, path, Options{ReadOnly: true})
	for _, ro := range []*DB{ro1, ro2} {
		v, err := ro.SchemaVersion("store")
		if err != nil {
			t.Fatal(err)
		}
		if v != 1 {
			t.Errorf("store version = %d, want 1", v)
		}
	}
	if err := ro1.Update(func(*bbolt.Tx) error { return nil }); err == nil {
		t.Error("Update on a read-only database succeeded")
	}
	one := []Migration{{Name: "one", Up: func(*bbolt.Tx) error { return nil }}}
	if err := ro1.Migrate("example", one); err != nil {
		t.Errorf("Migrate read-only, up to date: %v", err)
	}
	two := append(one, Migration{Name: "two", Up: func(*bbolt.Tx) error { return nil }})
	if err := ro1.Migrate("example", two); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("Migrate read-only with a pending migration = %v, want a read-only error", err)
	}
	if err := ro1.Migrate("example", nil); !errors.Is(err, ErrTooNew) {
		t.Errorf("Migrate read-only, too new = %v, want ErrTooNew", err)
	}
}

func TestOpenStoreTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "placette.db")
	db := openT(t, path, Options{})
	if err := db.Update(func(tx *bbolt.Tx) error {
		return setSchemaVersion(tx, "store", 7)
	}); err != nil {
		t.Fatal(err)
	}
	closeT(t, db)

	// Twice: a refused Open must release the lock.
	for range 2 {
		db, err := Open(path, Options{Timeout: 50 * time.Millisecond})
		if err == nil {
			closeT(t, db)
			t.Fatal("Open of a database from a newer placette succeeded")
		}
		if !errors.Is(err, ErrTooNew) {
			t.Fatalf("Open error = %v, want ErrTooNew", err)
		}
		for _, sub := range []string{"version 7", "up to version 1"} {
			if !strings.Contains(err.Error(), sub) {
				t.Errorf("error %q does not contain %q", err, sub)
			}
		}
	}
}

func TestBackupWhileWriting(t *testing.T) {
	dir := t.TempDir()
	db := openT(t, filepath.Join(dir, "placette.db"), Options{})
	pre := []byte("test/pre")
	live := []byte("test/live")
	const npre = 200
	if err := db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket(pre)
		if err != nil {
			return err
		}
		for i := range npre {
			if err := b.Put(fmt.Appendf(nil, "pre-%04d", i), bytes.Repeat([]byte{'v'}, 100)); err != nil {
				return err
			}
		}
		_, err = tx.CreateBucket(live)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// Writers add keys k<n> to test/live and keep test/live count equal to
	// the number of keys, in the same transaction.
	stop := make(chan struct{})
	started := make(chan struct{})
	var once sync.Once
	var commits atomic.Int32
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := 0; i < 2000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				err := db.Update(func(tx *bbolt.Tx) error {
					b := tx.Bucket(live)
					n := 0
					if raw := b.Get([]byte("count")); raw != nil {
						if _, err := fmt.Sscan(string(raw), &n); err != nil {
							return err
						}
					}
					n++
					if err := b.Put(fmt.Appendf(nil, "k%06d", n), fmt.Appendf(nil, "writer %d", w)); err != nil {
						return err
					}
					return b.Put([]byte("count"), fmt.Append(nil, n))
				})
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				if commits.Add(1) >= 10 {
					once.Do(func() { close(started) })
				}
			}
		})
	}
	select {
	case <-started:
	case <-time.After(time.Minute):
		close(stop)
		wg.Wait()
		t.Fatal("writers did not commit")
	}

	// Everything committed before the backup began must be in it.
	var before int
	if err := db.View(func(tx *bbolt.Tx) error {
		_, err := fmt.Sscan(string(tx.Bucket(live).Get([]byte("count"))), &before)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	copies := []string{filepath.Join(dir, "backup-writer.db"), filepath.Join(dir, "backup-file.db")}
	f, err := os.Create(copies[0])
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.Backup(f)
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.BackupFile(copies[1]); err != nil {
		t.Fatalf("BackupFile: %v", err)
	}
	close(stop)
	wg.Wait()

	fi, err := os.Stat(copies[0])
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != n {
		t.Errorf("Backup returned %d bytes, file has %d", n, fi.Size())
	}

	for _, c := range copies {
		t.Run(filepath.Base(c), func(t *testing.T) {
			bdb := openT(t, c, Options{})
			if err := bdb.View(func(tx *bbolt.Tx) error {
				for err := range tx.Check() {
					t.Errorf("check: %v", err)
				}
				b := tx.Bucket(pre)
				if b == nil {
					return errors.New("no test/pre bucket")
				}
				for i := range npre {
					if b.Get(fmt.Appendf(nil, "pre-%04d", i)) == nil {
						t.Errorf("pre-%04d missing", i)
					}
				}
				lb := tx.Bucket(live)
				var count int
				if _, err := fmt.Sscan(string(lb.Get([]byte("count"))), &count); err != nil {
					return err
				}
				if count < before {
					t.Errorf("backup count = %d, want at least %d (committed before the backup)", count, before)
				}
				keys := 0
				if err := lb.ForEach(func(k, _ []byte) error {
					if k[0] == 'k' {
						keys++
					}
					return nil
				}); err != nil {
					return err
				}
				if keys != count {
					t.Errorf("backup has %d keys but count %d: not a consistent snapshot", keys, count)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestBackupWriterError(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "placette.db"), Options{})
	_, err := db.Backup(failingWriter{})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Backup to a failing writer = %v, want the write error", err)
	}
}

func TestBackupFile(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "placette.db"), Options{})
	if err := db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("test/items"))
		if err != nil {
			return err
		}
		return b.Put([]byte("hello"), []byte("world"))
	}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		exist bool // an older file is at the target already
	}{
		{name: "new file"},
		{name: "replaces an older file", exist: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "backup.db")
			if tt.exist {
				if err := os.WriteFile(target, []byte("old backup"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.BackupFile(target); err != nil {
				t.Fatalf("BackupFile: %v", err)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Name() != "backup.db" {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("directory holds %q, want only backup.db", names)
			}
			fi, err := os.Stat(target)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Errorf("backup mode = %v, want 0600", got)
			}
			bdb := openT(t, target, Options{ReadOnly: true})
			var got []byte
			if err := bdb.View(func(tx *bbolt.Tx) error {
				b := tx.Bucket([]byte("test/items"))
				if b == nil {
					return errors.New("no test/items bucket")
				}
				got = bytes.Clone(b.Get([]byte("hello")))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if string(got) != "world" {
				t.Errorf("hello = %q, want %q", got, "world")
			}
		})
	}

	t.Run("missing directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "missing")
		if err := db.BackupFile(filepath.Join(dir, "backup.db")); err == nil {
			t.Fatal("BackupFile into a missing directory succeeded")
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q) = %v, want it not to exist", dir, err)
		}
	})

	t.Run("onto the database", func(t *testing.T) {
		err := db.BackupFile(db.Path())
		if err == nil || !strings.Contains(err.Error(), "database itself") {
			t.Fatalf("BackupFile(db.Path()) = %v, want a refusal", err)
		}
		if err := db.View(func(tx *bbolt.Tx) error {
			if tx.Bucket([]byte("test/items")) == nil {
				return errors.New("test/items lost")
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}
