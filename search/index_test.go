package search

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestSearchFrench(t *testing.T) {
	f := newFixture(t)
	f.put(corpus())
	f.drain()
	anon := Visibility{}
	tests := []struct {
		q, want string
	}{
		{"atelier", "/wiki/atelier-seniors /wiki/numerique-responsable"},
		{"ateliers", "/wiki/atelier-seniors /wiki/numerique-responsable"},
		{"mediation", "/wiki/atelier-seniors"},
		{"MÉDIATION", "/wiki/atelier-seniors"},
		{"numerique", "/wiki/atelier-seniors /wiki/numerique-responsable"},
		{"essentiel", "/wiki/atelier-seniors"},
		{"l'essentiel", "/wiki/atelier-seniors"},
		{"l’essentiel", "/wiki/atelier-seniors"},
		{"imprimante", "/lists/entraide/m/a1@example.org /lists/entraide/m/a2@example.org"},
		{"mediation seniors", "/wiki/atelier-seniors"},
		{"accueil", "/wiki/atelier-seniors"},               // [[Fiche accueil|la fiche d'accueil]] label
		{"workshop", "/wiki/guide-en"},                     // English stemming
		{`"médiation numérique"`, "/wiki/atelier-seniors"}, // phrase
		{`"numérique médiation"`, ""},                      // words in the other order
		{"atelier -réparation", "/wiki/atelier-seniors"},
		{`atelier -"médiation numérique"`, "/wiki/numerique-responsable"},
		{"in:lists imprimante", "/lists/entraide/m/a1@example.org /lists/entraide/m/a2@example.org"},
		{"in:wiki mediation", "/wiki/atelier-seniors"},
		{"list:entraide pilote", "/lists/entraide/m/a2@example.org"},
		{"list:autre pilote", ""},
		{"tag:seniors", "/wiki/atelier-seniors"},
		{"tag:ecologie", "/wiki/numerique-responsable"},
		{"from:karim", "/lists/entraide/m/a2@example.org /wiki/numerique-responsable"},
		{"from:clemence atelier", "/wiki/atelier-seniors"},
		{"imprimante after:2024-03-13", "/lists/entraide/m/a2@example.org"},
		{"imprimante before:2024-03-12", "/lists/entraide/m/a1@example.org"},
		{"imprimante before:2024-03-13", "/lists/entraide/m/a1@example.org /lists/entraide/m/a2@example.org"},
		{"xylophonique", ""}, // private
		{"le la les", ""},    // stop words only
		{"budget", ""},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			res := f.search(Request{Q: tt.q, Viewer: anon, PerPage: 50})
			if got := urls(res); got != tt.want {
				t.Errorf("%q found %q, want %q", tt.q, got, tt.want)
			}
			if int(res.Total) != len(res.Hits) {
				t.Errorf("Total %d, %d hits", res.Total, len(res.Hits))
			}
		})
	}
}

func TestVisibility(t *testing.T) {
	f := newFixture(t)
	f.put(corpus())
	f.drain()
	const private = "/lists/bureau/m/b1@example.org"
	tests := []struct {
		name  string
		v     Visibility
		found bool
	}{
		{"anonymous", Visibility{}, false},
		{"member of another list", Visibility{Lists: []string{"entraide"}}, false},
		{"member", Visibility{Lists: []string{"bureau"}}, true},
		{"staff", Visibility{Staff: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, q := range []string{"xylophonique", "budget", "karim", "list:bureau", "in:lists", "from:karim"} {
				res := f.search(Request{Q: q, Viewer: tt.v, PerPage: 50})
				found := strings.Contains(urls(res), private)
				if found != tt.found {
					t.Errorf("%q: private message found = %v, want %v", q, found, tt.found)
				}
				for _, fc := range res.Facets.Lists {
					if fc.Value == "bureau" && !tt.found {
						t.Errorf("%q: the facet counts the private list: %+v", q, res.Facets.Lists)
					}
				}
				var kinds int
				for _, fc := range res.Facets.Kinds {
					kinds += fc.Count
				}
				if uint64(kinds) != res.Total {
					t.Errorf("%q: kind counts %d, total %d", q, kinds, res.Total)
				}
			}
			// No suggestion may reveal a private word.
			res := f.search(Request{Q: "xylophoniqe", Viewer: tt.v})
			if !tt.found && strings.Contains(res.Suggestion, "xylophonique") {
				t.Errorf("the suggestion %q reveals a private word", res.Suggestion)
			}
			if tt.found && res.Suggestion != "xylophonique" {
				t.Errorf("suggestion = %q, want xylophonique", res.Suggestion)
			}
		})
	}
}

func TestFacetsSortPaging(t *testing.T) {
	f := newFixture(t)
	f.put(corpus())
	f.drain()
	res := f.search(Request{Q: "imprimante OR atelier", Viewer: Visibility{}})
	_ = res
	res = f.search(Request{Kinds: []string{"lists"}, Sort: SortDate, PerPage: 1, Viewer: Visibility{Staff: true}})
	if res.Total != 3 || res.Pages != 3 || len(res.Hits) != 1 || res.Hits[0].URL != "/lists/bureau/m/b1@example.org" {
		t.Fatalf("newest message: total %d pages %d hits %+v", res.Total, res.Pages, res.Hits)
	}
	res = f.search(Request{Kinds: []string{"lists"}, Sort: SortDate, PerPage: 1, Page: 3, Viewer: Visibility{Staff: true}})
	if len(res.Hits) != 1 || res.Hits[0].URL != "/lists/entraide/m/a1@example.org" {
		t.Fatalf("page 3: %+v", res.Hits)
	}
	res = f.search(Request{Q: "atelier", Viewer: Visibility{}})
	want := map[string]int{"Seniors": 1, "tablette": 1, "écologie": 1}
	for _, fc := range res.Facets.Tags {
		if want[fc.Value] != fc.Count {
			t.Errorf("tag facet %+v, want %v", fc, want)
		}
	}
	if len(res.Facets.Kinds) != 1 || res.Facets.Kinds[0] != (FacetCount{KindWiki, 2}) {
		t.Errorf("kind facets %+v", res.Facets.Kinds)
	}
	res = f.search(Request{Q: "Karim", Viewer: Visibility{Staff: true}})
	lists := map[string]int{}
	for _, fc := range res.Facets.Lists {
		lists[fc.Value] = fc.Count
	}
	if lists["bureau"] != 1 || lists["entraide"] != 1 {
		t.Errorf("list facets %+v", res.Facets.Lists)
	}
}

func TestSnippets(t *testing.T) {
	f := newFixture(t)
	long := strings.Repeat("Du texte sans rapport. ", 60) + "Ici l'<atelier> & la médiation." + strings.Repeat(" Et encore du texte.", 60)
	f.put(map[string]*Doc{
		WikiKey("x"): {Kind: KindWiki, Ref: "x", Title: "<script>alert(1)</script> Médiation", Text: long, Date: day},
	})
	f.drain()
	res := f.search(Request{Q: "mediation atelier"})
	if len(res.Hits) != 1 {
		t.Fatalf("hits %+v", res.Hits)
	}
	h := res.Hits[0]
	if got, want := string(h.Title), "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Médiation</mark>"; got != want {
		t.Errorf("title %q, want %q", got, want)
	}
	s := string(h.Snippet)
	for _, want := range []string{"l&#39;&lt;<mark>atelier</mark>&gt; &amp; la <mark>médiation</mark>.", "… ", " …"} {
		if !strings.Contains(s, want) {
			t.Errorf("snippet %q lacks %q", s, want)
		}
	}
	if len(s) > 2*snippetBytes {
		t.Errorf("snippet of %d bytes", len(s))
	}
}

func TestSuggestion(t *testing.T) {
	f := newFixture(t)
	f.put(corpus())
	f.drain()
	tests := []struct{ q, want string }{
		{"imprimnte", "imprimante"},
		{"tabelte seniors", "tablette seniors"},
		{"zzzzzzzz", ""},
	}
	for _, tt := range tests {
		res := f.search(Request{Q: tt.q})
		if res.Total != 0 {
			t.Errorf("%q found %d", tt.q, res.Total)
		}
		if res.Suggestion != tt.want {
			t.Errorf("%q: suggestion %q, want %q", tt.q, res.Suggestion, tt.want)
		}
	}
}

func TestDeleteAndUpdate(t *testing.T) {
	f := newFixture(t)
	f.put(corpus())
	f.drain()
	f.put(map[string]*Doc{
		WikiKey("atelier-seniors"): nil,
		MessageKey("entraide", 2): {Kind: KindList, Ref: "a2@example.org", List: "entraide", Title: "Re: Question",
			Text: "Message effacé à la demande de son auteur : rien.", Date: day},
	})
	f.drain()
	if got := urls(f.search(Request{Q: "essentiel"})); got != "" {
		t.Errorf("a deleted page is found: %q", got)
	}
	if got := urls(f.search(Request{Q: "pilote"})); got != "" {
		t.Errorf("an erased message is found by its old text: %q", got)
	}
	if got := urls(f.search(Request{Q: "effacé"})); got != "/lists/entraide/m/a2@example.org" {
		t.Errorf("updated message: %q", got)
	}
	if n, _ := f.idx.Pending(); n != 0 {
		t.Errorf("%d entries still pending", n)
	}
}

// TestCrashSafety queues changes, stops before they are indexed, and
// checks that the next start indexes them.
func TestCrashSafety(t *testing.T) {
	f := newFixture(t)
	f.put(corpus())
	f.close() // "crash": nothing drained
	f.open()
	if n, _ := f.idx.Pending(); n != len(corpus()) {
		t.Fatalf("%d pending after restart, want %d", n, len(corpus()))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.idx.Run(ctx); close(done) }()
	waitFor(t, func() bool { n, _ := f.idx.Pending(); return n == 0 })
	cancel()
	<-done
	if got := urls(f.search(Request{Q: "imprimante"})); got != "/lists/entraide/m/a1@example.org /lists/entraide/m/a2@example.org" {
		t.Errorf("after restart: %q", got)
	}
}

// TestPendingChangedDuringBatch checks that an entry changed after a batch
// read it stays pending.
func TestPendingChangedDuringBatch(t *testing.T) {
	f := newFixture(t)
	key := WikiKey("p")
	f.put(map[string]*Doc{key: {Kind: KindWiki, Ref: "p", Title: "premier", Date: day}})
	// Simulate a change that lands between the read and the removal by
	// running the removal step against a different value.
	err := f.db.Update(func(tx *bolt.Tx) error {
		return f.idx.Enqueue(tx, key, &Doc{Kind: KindWiki, Ref: "p", Title: "second", Date: day})
	})
	if err != nil {
		t.Fatal(err)
	}
	f.drain()
	if got := urls(f.search(Request{Q: "second"})); got != "/wiki/p" {
		t.Errorf("latest version not indexed: %q", got)
	}
	if got := urls(f.search(Request{Q: "premier"})); got != "" {
		t.Errorf("old version indexed: %q", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRebuildCases(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(t *testing.T, f *fixture)
	}{
		{"missing", func(t *testing.T, f *fixture) {
			if err := os.RemoveAll(filepath.Join(f.dir, "index")); err != nil {
				t.Fatal(err)
			}
		}},
		{"garbage", func(t *testing.T, f *fixture) {
			dir := filepath.Join(f.dir, "index")
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					os.WriteFile(p, []byte("garbage\x00\xff not an index"), 0o600)
				}
				return nil
			})
		}},
		{"empty folder", func(t *testing.T, f *fixture) {
			dir := filepath.Join(f.dir, "index")
			os.RemoveAll(dir)
			os.MkdirAll(dir, 0o700)
			os.WriteFile(filepath.Join(dir, "index_meta.json"), []byte("{"), 0o600)
		}},
		{"outdated mapping", func(t *testing.T, f *fixture) {
			if err := f.db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket([]byte(bucketMeta)).Put(keyMapping, []byte("0"))
			}); err != nil {
				t.Fatal(err)
			}
		}},
		{"interrupted rebuild", func(t *testing.T, f *fixture) {
			if err := f.db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket([]byte(bucketMeta)).Delete(keyMapping)
			}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.put(corpus())
			f.drain()
			f.close()
			tt.break_(t, f)
			idx, err := Open(Config{Dir: filepath.Join(f.dir, "index"), DB: f.db, Delay: -1})
			if err != nil {
				t.Fatal(err)
			}
			f.idx = idx
			if !idx.Rebuilding() {
				t.Fatal("a broken index is not to rebuild")
			}
			if _, err := idx.Search(context.Background(), Request{Q: "atelier"}); err != ErrRebuilding {
				t.Errorf("search while rebuilding: %v, want ErrRebuilding", err)
			}
			idx.SetSource(f.src)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { idx.Run(ctx); close(done) }()
			waitFor(t, func() bool { return !idx.Rebuilding() })
			cancel()
			<-done
			if got := urls(f.search(Request{Q: "imprimante"})); got != "/lists/entraide/m/a1@example.org /lists/entraide/m/a2@example.org" {
				t.Errorf("after rebuild: %q", got)
			}
			if v, _ := idx.builtVersion(); v != MappingVersion {
				t.Errorf("built version %d", v)
			}
		})
	}
}

func TestRebuildProgressAndConcurrentChanges(t *testing.T) {
	f := newFixture(t)
	f.put(corpus())
	f.drain()
	var out strings.Builder
	if err := f.idx.Rebuild(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "6 documents") {
		t.Errorf("progress: %q", out.String())
	}
	if n, err := f.idx.DocCount(); err != nil || n != 6 {
		t.Errorf("DocCount %d, %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "index.new")); !os.IsNotExist(err) {
		t.Errorf("index.new left behind: %v", err)
	}
}
