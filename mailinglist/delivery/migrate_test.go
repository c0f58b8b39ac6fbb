package delivery

import (
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestMigrateFromOldDatabase opens a database written by an early placette,
// before this package existed (the store's frozen one), and checks that
// the queue and the keys set themselves up in it, once.
func TestMigrateFromOldDatabase(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "internal", "store", "testdata", "frozen-v1.db"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "placette.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, path)
	if v, err := db.SchemaVersion("list/delivery"); err != nil || v != 0 {
		t.Fatalf("old database at list/delivery %d, %v; want 0", v, err)
	}
	for range 2 { // the second time changes nothing
		keys, err := NewKeys(db)
		if err != nil {
			t.Fatal(err)
		}
		q, err := NewQueue(Config{DB: db, Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		if v, err := db.SchemaVersion("list/delivery"); err != nil || v != len(migrations) {
			t.Fatalf("list/delivery at %d, %v; want %d", v, err, len(migrations))
		}
		if err := db.Update(func(tx *bolt.Tx) error { return q.Enqueue(tx, testMessage(0), testJobs(1, "example.com")) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(queueBucket).Stats().KeyN; n != 2 {
			t.Errorf("%d jobs, want 2 (the second migration run kept the first)", n)
		}
		if tx.Bucket([]byte("example/items")) == nil {
			t.Error("the old database's own data is gone")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
