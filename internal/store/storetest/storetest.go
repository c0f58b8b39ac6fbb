// Package storetest opens a fresh placette database for a test.
package storetest

import (
	"path/filepath"
	"testing"

	"codeberg.org/placette/placette/internal/store"
)

// Open returns a new, empty database in t.TempDir(), closed when the test
// ends; a failure to close fails the test.
func Open(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "placette.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}
