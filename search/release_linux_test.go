package search

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/resident"
)

// settle waits until bleve's merges, which read the segments, are over:
// until the segment files stay the same for half a second.
func settle(t *testing.T, f *fixture) {
	t.Helper()
	files := func() string {
		m, _ := filepath.Glob(filepath.Join(f.dir, "index", "store", "*.zap"))
		return strings.Join(m, " ")
	}
	last := files()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		now := files()
		if now == last {
			return
		}
		last = now
	}
	t.Fatal("the index's segment files kept changing for 30 s")
}

// segmentsRSS returns the resident bytes of the index's segment files.
func segmentsRSS(t *testing.T, f *fixture) int64 {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(f.dir, "index", "store", "*.zap"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no segment files in the index (%v)", err)
	}
	var rss int64
	for _, p := range files {
		n, err := resident.FileRSS(p)
		if err != nil {
			t.Fatal(err)
		}
		rss += n
	}
	return rss
}

// TestReleaseMappings checks that the segments' pages read by searches are
// released, and that the searches answer the same afterwards.
func TestReleaseMappings(t *testing.T) {
	f := newFixture(t)
	segmentsCorpus(f)
	f.close() // reopened, every segment is a file
	f.open()
	settle(t, f)
	f.idx.noCache = true
	req := Request{Q: "atelier", PerPage: 1000, Viewer: Visibility{Staff: true}}
	before := urls(f.search(req))
	date := urls(f.search(Request{Q: "atelier", Sort: SortDate, PerPage: 1000, Viewer: Visibility{Staff: true}}))
	read := segmentsRSS(t, f)
	if read == 0 {
		t.Fatal("after searching, none of the segments is resident: the test does not see their mappings")
	}
	if n := f.idx.ReleaseMappings(); n == 0 {
		t.Fatal("ReleaseMappings released no segment")
	}
	if rss := segmentsRSS(t, f); rss > read/4 {
		t.Errorf("after ReleaseMappings, %d bytes of the segments are resident (%d before)", rss, read)
	}
	if got := urls(f.search(req)); got != before {
		t.Errorf("after ReleaseMappings, the search finds\n%s\nwant\n%s", got, before)
	}
	if got := urls(f.search(Request{Q: "atelier", Sort: SortDate, PerPage: 1000, Viewer: Visibility{Staff: true}})); got != date {
		t.Errorf("after ReleaseMappings, the search by date finds\n%s\nwant\n%s", got, date)
	}
	// Closed, the index has nothing to release.
	f.close()
	defer f.open()
	idx, err := Open(Config{Dir: filepath.Join(f.dir, "index"), DB: f.db, Delay: -1})
	if err != nil {
		t.Fatal(err)
	}
	idx.Close()
	if n := idx.ReleaseMappings(); n != 0 {
		t.Errorf("a closed index released %d segments", n)
	}
}
