package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"codeberg.org/placette/placette/internal/resident"
	"go.etcd.io/bbolt"
)

// mappedRSS returns the resident bytes of the process's mappings of path.
func mappedRSS(t *testing.T, path string) int64 {
	t.Helper()
	rss, err := resident.FileRSS(path)
	if err != nil {
		t.Fatal(err)
	}
	return rss
}

// TestOpenReleasesMapping checks that opening a large database does not
// leave it resident: bbolt reads every page to rebuild its freelist.
func TestOpenReleasesMapping(t *testing.T) {
	path := filepath.Join(t.TempDir(), "placette.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	value := bytes.Repeat([]byte("médiation "), 400)
	for batch := 0; batch < 8; batch++ {
		err := db.Update(func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("test/pages"))
			if err != nil {
				return err
			}
			for i := 0; i < 1000; i++ {
				if err := b.Put([]byte(fmt.Sprintf("%d-%d", batch, i)), value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	size, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rss := mappedRSS(t, path)
	if rss > size.Size()/4 {
		t.Errorf("after Open, %d bytes of the %d-byte database are resident", rss, size.Size())
	}
	// Reading maps the pages again.
	n := 0
	err = db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("test/pages")).ForEach(func(k, v []byte) error {
			if !bytes.Equal(v, value) {
				return fmt.Errorf("%s: the value changed", k)
			}
			n++
			return nil
		})
	})
	if err != nil || n != 8000 {
		t.Fatalf("read %d values: %v", n, err)
	}
	if after := mappedRSS(t, path); after < size.Size()/2 {
		t.Fatalf("after reading everything, only %d bytes of %d are resident: the test does not see the mapping", after, size.Size())
	}
	// At rest, the pages read are released again, and read the same.
	db.ReleaseMapping()
	if rss := mappedRSS(t, path); rss > size.Size()/4 {
		t.Errorf("after ReleaseMapping, %d bytes of the %d-byte database are resident", rss, size.Size())
	}
	err = db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket([]byte("test/pages")).Get([]byte("7-999"))
		if !bytes.Equal(v, value) {
			return fmt.Errorf("after ReleaseMapping, 7-999 reads %.20q", v)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
