package store

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// generate makes TestGenerateFrozen write testdata/frozen-v1.db:
//
//	go test ./internal/store/ -run TestGenerateFrozen -args -generate-frozen
//
// The file is frozen: it stands for databases written by placette with the
// store at schema 1 and must not be regenerated once committed. For a later
// schema, add a new frozen-vN.db and its own test.
var generate = flag.Bool("generate-frozen", false, "write testdata/frozen-v1.db (refuses to overwrite it)")

const frozenV1 = "testdata/frozen-v1.db"

// exampleItems is the data the frozen database holds in example/items.
var exampleItems = map[string]string{"alpha": "one", "beta": "two"}

// exampleMigrations is the history of a made-up component "example":
// v1 creates example/items; v2 moves every item to example/entries with its
// value prefixed "v2:", and drops example/items; v3 adds example/tags.
// runs[i] counts the runs of migration i+1.
func exampleMigrations(runs []atomic.Int32) []Migration {
	return []Migration{
		{
			Name: "create example/items",
			Up: func(tx *bbolt.Tx) error {
				runs[0].Add(1)
				_, err := tx.CreateBucket([]byte("example/items"))
				return err
			},
		},
		{
			Name: "move example/items to example/entries, values prefixed v2:",
			Up: func(tx *bbolt.Tx) error {
				runs[1].Add(1)
				old := tx.Bucket([]byte("example/items"))
				if old == nil {
					return errors.New("no example/items bucket")
				}
				entries, err := tx.CreateBucket([]byte("example/entries"))
				if err != nil {
					return err
				}
				if err := old.ForEach(func(k, v []byte) error {
					return entries.Put(k, append([]byte("v2:"), v...))
				}); err != nil {
					return err
				}
				return tx.DeleteBucket([]byte("example/items"))
			},
		},
		{
			Name: "create example/tags",
			Up: func(tx *bbolt.Tx) error {
				runs[2].Add(1)
				b, err := tx.CreateBucket([]byte("example/tags"))
				if err != nil {
					return err
				}
				return b.Put([]byte("default"), []byte("yes"))
			},
		},
	}
}

// TestGenerateFrozen writes testdata/frozen-v1.db when -generate-frozen is
// given; otherwise it is skipped.
func TestGenerateFrozen(t *testing.T) {
	if !*generate {
		t.Skip("run with -args -generate-frozen to write " + frozenV1)
	}
	if _, err := os.Stat(frozenV1); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s exists or cannot be checked (%v): a frozen database is never regenerated", frozenV1, err)
	}
	tmp := filepath.Join(t.TempDir(), "frozen.db")
	db, err := Open(tmp, Options{})
	if err != nil {
		t.Fatal(err)
	}
	runs := make([]atomic.Int32, 3)
	if err := db.Migrate("example", exampleMigrations(runs)[:1]); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("example/items"))
		for k, v := range exampleItems {
			if err := b.Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	closeT(t, db)
	data, err := os.ReadFile(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(frozenV1, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s, %d bytes", frozenV1, len(data))
}

// copyFrozen copies the frozen database into a temporary directory and
// returns its path.
func copyFrozen(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "placette.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// bucketContents returns the keys and values of bucket name as "k=v,…",
// or "<none>" if there is no such bucket.
func bucketContents(t *testing.T, db *DB, name string) string {
	t.Helper()
	var parts []string
	none := false
	if err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(name))
		if b == nil {
			none = true
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			parts = append(parts, fmt.Sprintf("%s=%s", k, v))
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if none {
		return "<none>"
	}
	return strings.Join(parts, ",")
}

func TestMigrateFrozenV1(t *testing.T) {
	path := copyFrozen(t, frozenV1)

	db, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open frozen v1: %v", err)
	}
	created := metaValue(t, db, "created")
	if _, err := time.Parse(time.RFC3339, string(created)); err != nil {
		t.Errorf("created = %q: %v", created, err)
	}
	if v, err := db.SchemaVersion("example"); err != nil || v != 1 {
		t.Fatalf("frozen example version = %d, %v; want 1", v, err)
	}
	if got, want := bucketContents(t, db, "example/items"), "alpha=one,beta=two"; got != want {
		t.Fatalf("frozen example/items = %q, want %q", got, want)
	}

	runs := make([]atomic.Int32, 3)
	if err := db.Migrate("example", exampleMigrations(runs)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	for i, want := range []int32{0, 1, 1} {
		if got := runs[i].Load(); got != want {
			t.Errorf("migration %d ran %d times, want %d", i+1, got, want)
		}
	}
	check := func(db *DB) {
		t.Helper()
		tests := []struct{ bucket, want string }{
			{"example/items", "<none>"},
			{"example/entries", "alpha=v2:one,beta=v2:two"},
			{"example/tags", "default=yes"},
		}
		for _, tt := range tests {
			if got := bucketContents(t, db, tt.bucket); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.bucket, got, tt.want)
			}
		}
		for component, want := range map[string]int{"store": 1, "example": 3} {
			if v, err := db.SchemaVersion(component); err != nil || v != want {
				t.Errorf("%s version = %d, %v; want %d", component, v, err, want)
			}
		}
		if got := metaValue(t, db, "created"); !bytes.Equal(got, created) {
			t.Errorf("created = %q, want %q (unchanged)", got, created)
		}
	}
	check(db)
	closeT(t, db)

	// Reopening and migrating again changes nothing.
	db = openT(t, path, Options{})
	again := make([]atomic.Int32, 3)
	if err := db.Migrate("example", exampleMigrations(again)); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	for i := range again {
		if n := again[i].Load(); n != 0 {
			t.Errorf("migration %d ran %d times on reopen, want 0", i+1, n)
		}
	}
	check(db)

	// An older placette, knowing only v1 and v2 of example, refuses it.
	older := make([]atomic.Int32, 3)
	err = db.Migrate("example", exampleMigrations(older)[:2])
	if !errors.Is(err, ErrTooNew) {
		t.Errorf("Migrate with 2 known = %v, want ErrTooNew", err)
	}
}
