package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.etcd.io/bbolt"
)

// counted returns n migrations that each count their runs in runs[i] and put
// key m<i+1> in bucket test/migrated; the one numbered fail (1-based, 0 for
// none) puts its key and then fails.
func counted(n, fail int, runs []atomic.Int32) []Migration {
	ms := make([]Migration, n)
	for i := range ms {
		ms[i] = Migration{
			Name: fmt.Sprintf("step %d", i+1),
			Up: func(tx *bbolt.Tx) error {
				runs[i].Add(1)
				b, err := tx.CreateBucketIfNotExists([]byte("test/migrated"))
				if err != nil {
					return err
				}
				if err := b.Put(fmt.Appendf(nil, "m%d", i+1), []byte("done")); err != nil {
					return err
				}
				if i+1 == fail {
					return errors.New("boom")
				}
				return nil
			},
		}
	}
	return ms
}

// migratedKeys returns which keys m1, m2… are in test/migrated.
func migratedKeys(t *testing.T, db *DB) []string {
	t.Helper()
	var keys []string
	if err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("test/migrated"))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			keys = append(keys, string(k))
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestMigrate(t *testing.T) {
	tests := []struct {
		name        string
		pre         int // migrations applied before, from the same list
		known       int // length of the list given to Migrate
		fail        int // the migration that fails, 1-based; 0 for none
		wantErr     error
		wantErrSub  string
		wantVersion int
		wantRuns    []int32 // runs of each migration during the Migrate under test
		wantKeys    string
	}{
		{name: "fresh", known: 3, wantVersion: 3, wantRuns: []int32{1, 1, 1}, wantKeys: "m1,m2,m3"},
		{name: "partly done", pre: 1, known: 3, wantVersion: 3, wantRuns: []int32{0, 1, 1}, wantKeys: "m1,m2,m3"},
		{name: "up to date", pre: 2, known: 2, wantVersion: 2, wantRuns: []int32{0, 0}, wantKeys: "m1,m2"},
		{name: "empty list", known: 0, wantVersion: 0, wantRuns: []int32{}, wantKeys: ""},
		{
			name: "too new", pre: 3, known: 2,
			wantErr: ErrTooNew, wantErrSub: "version 3 but this placette knows only up to version 2",
			wantVersion: 3, wantRuns: []int32{0, 0}, wantKeys: "m1,m2,m3",
		},
		{
			name: "first pending fails", pre: 1, known: 3, fail: 2,
			wantErrSub:  "migrate example: migration 2 (step 2): boom",
			wantVersion: 1, wantRuns: []int32{0, 1, 0}, wantKeys: "m1",
		},
		{
			name: "last fails, earlier ones kept", known: 3, fail: 3,
			wantErrSub:  "migration 3 (step 3): boom",
			wantVersion: 2, wantRuns: []int32{1, 1, 1}, wantKeys: "m1,m2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openT(t, filepath.Join(t.TempDir(), "placette.db"), Options{})
			if tt.pre > 0 {
				preRuns := make([]atomic.Int32, tt.pre)
				if err := db.Migrate("example", counted(tt.pre, 0, preRuns)); err != nil {
					t.Fatalf("setup Migrate: %v", err)
				}
			}
			runs := make([]atomic.Int32, tt.known)
			err := db.Migrate("example", counted(tt.known, tt.fail, runs))
			switch {
			case tt.wantErrSub == "" && err != nil:
				t.Fatalf("Migrate: %v", err)
			case tt.wantErrSub != "" && err == nil:
				t.Fatalf("Migrate succeeded, want an error containing %q", tt.wantErrSub)
			case tt.wantErrSub != "" && !strings.Contains(err.Error(), tt.wantErrSub):
				t.Errorf("Migrate error = %q, want it to contain %q", err, tt.wantErrSub)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Migrate error = %v, want %v", err, tt.wantErr)
			}
			v, err := db.SchemaVersion("example")
			if err != nil {
				t.Fatal(err)
			}
			if v != tt.wantVersion {
				t.Errorf("version = %d, want %d", v, tt.wantVersion)
			}
			for i, want := range tt.wantRuns {
				if got := runs[i].Load(); got != want {
					t.Errorf("migration %d ran %d times, want %d", i+1, got, want)
				}
			}
			if got := strings.Join(migratedKeys(t, db), ","); got != tt.wantKeys {
				t.Errorf("keys = %q, want %q", got, tt.wantKeys)
			}
			// The store's own schema is untouched.
			if sv, err := db.SchemaVersion("store"); err != nil || sv != 1 {
				t.Errorf("store version = %d, %v; want 1", sv, err)
			}
		})
	}
}

func TestMigrateInvalid(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "placette.db"), Options{})
	var runs [2]atomic.Int32
	ok := counted(1, 0, runs[:])[0]
	tests := []struct {
		name       string
		component  string
		migrations []Migration
		wantSub    string
	}{
		{name: "empty component", component: "", migrations: []Migration{ok}, wantSub: "empty component"},
		{name: "nil Up", component: "example", migrations: []Migration{ok, {Name: "broken"}}, wantSub: "migration 2 (broken) has no Up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.Migrate(tt.component, tt.migrations)
			if err == nil || !strings.Contains(err.Error(), tt.wantSub) {
				t.Fatalf("Migrate = %v, want an error containing %q", err, tt.wantSub)
			}
		})
	}
	if n := runs[0].Load(); n != 0 {
		t.Errorf("a migration ran %d times from an invalid list", n)
	}
}

func TestMigrateConcurrent(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "placette.db"), Options{})
	runs := make([]atomic.Int32, 3)
	ms := counted(3, 0, runs)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := db.Migrate("example", ms); err != nil {
				t.Errorf("Migrate: %v", err)
			}
		})
	}
	wg.Wait()
	for i := range runs {
		if got := runs[i].Load(); got != 1 {
			t.Errorf("migration %d ran %d times, want 1", i+1, got)
		}
	}
	if v, err := db.SchemaVersion("example"); err != nil || v != 3 {
		t.Errorf("version = %d, %v; want 3", v, err)
	}
}

func TestSchemaVersionCorrupt(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "placette.db"), Options{})
	if err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(metaBucket).Put([]byte("schema/example"), []byte{1, 2, 3})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SchemaVersion("example"); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("SchemaVersion = %v, want a corruption error", err)
	}
	if err := db.Migrate("example", nil); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("Migrate = %v, want a corruption error", err)
	}
}
