package store

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

// mappedRSS returns the resident bytes of the process's mappings of path,
// from /proc/self/smaps.
func mappedRSS(t *testing.T, path string) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	var rss int64
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			in = len(f) >= 6 && f[5] == path // a mapping's first line
			continue
		}
		if in && len(f) == 3 && f[0] == "Rss:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			rss += kb << 10
		}
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
		t.Errorf("after reading everything, only %d bytes of %d are resident: the test does not see the mapping", after, size.Size())
	}
}
