package search

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/store"
	bolt "go.etcd.io/bbolt"
)

// fixture is a database and an index in a temporary folder.
type fixture struct {
	t   testing.TB
	dir string
	db  *store.DB
	idx *Index
	src *memSource
}

// memSource is a Source over a map, in key order.
type memSource struct {
	docs map[string]*Doc
}

func (m *memSource) Each(ctx context.Context, fn func(string, *Doc) error) error {
	keys := make([]string, 0, len(m.docs))
	for k := range m.docs {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		if err := fn(k, m.docs[k]); err != nil {
			return err
		}
	}
	return nil
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "placette.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, dir: dir, db: db, src: &memSource{docs: map[string]*Doc{}}}
	t.Cleanup(func() {
		if f.idx != nil {
			f.idx.Close()
		}
		if err := f.db.Close(); err != nil {
			t.Error(err)
		}
	})
	f.open()
	return f
}

// open opens the index, rebuilding it first if it must be.
func (f *fixture) open() {
	f.t.Helper()
	idx, err := Open(Config{Dir: filepath.Join(f.dir, "index"), DB: f.db, Source: f.src, Delay: -1})
	if err != nil {
		f.t.Fatal(err)
	}
	f.idx = idx
	if idx.Rebuilding() {
		if err := idx.Rebuild(context.Background(), nil); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) close() {
	f.t.Helper()
	if err := f.idx.Close(); err != nil {
		f.t.Fatal(err)
	}
	f.idx = nil
}

// put queues docs (nil: removal) in one transaction, as a content change
// does, and keeps the source in step.
func (f *fixture) put(docs map[string]*Doc) {
	f.t.Helper()
	err := f.db.Update(func(tx *bolt.Tx) error {
		for k, d := range docs {
			if err := f.idx.Enqueue(tx, k, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	for k, d := range docs {
		if d == nil {
			delete(f.src.docs, k)
		} else {
			f.src.docs[k] = d
		}
	}
}

func (f *fixture) drain() {
	f.t.Helper()
	if _, err := f.idx.Drain(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) search(req Request) *Result {
	f.t.Helper()
	res, err := f.idx.Search(context.Background(), req)
	if err != nil {
		f.t.Fatalf("Search(%+v): %v", req, err)
	}
	return res
}

// urls returns the URLs of the hits, sorted.
func urls(res *Result) string {
	var u []string
	for _, h := range res.Hits {
		u = append(u, h.URL)
	}
	sortStrings(u)
	return strings.Join(u, " ")
}

var day = time.Date(2024, 3, 15, 10, 0, 0, 0, time.UTC)

// corpus is a small wiki and two lists, one private.
func corpus() map[string]*Doc {
	return map[string]*Doc{
		WikiKey("atelier-seniors"): {Kind: KindWiki, Ref: "atelier-seniors", Title: "Atelier tablette pour les seniors",
			Text: "---\ntitle: Atelier tablette\ntags: [seniors, tablette]\npublic: seniors\n---\n# Déroulé\n\nLes **ateliers** de médiation numérique : l’essentiel pour débuter. Voir [[Fiche accueil|la fiche d'accueil]].", Markdown: true,
			Tags: []string{"Seniors", "tablette"}, Author: "Clémence", Date: day},
		WikiKey("numerique-responsable"): {Kind: KindWiki, Ref: "numerique-responsable", Title: "Numérique responsable",
			Text: "Réparer plutôt que jeter : un atelier de réparation.", Tags: []string{"écologie"}, Author: "Karim", Date: day.AddDate(0, -2, 0)},
		WikiKey("guide-en"): {Kind: KindWiki, Ref: "guide-en", Title: "Running workshops", Text: "Workshops for beginners, running smoothly.", Lang: "en", Date: day.AddDate(-1, 0, 0)},
		MessageKey("entraide", 1): {Kind: KindList, Ref: "a1@example.org", List: "entraide", Title: "Question sur les imprimantes",
			Text: "Bonjour, l'imprimante de la médiathèque refuse d'imprimer depuis lundi.", Author: "Sam Martin", Date: day.AddDate(0, 0, -3)},
		MessageKey("entraide", 2): {Kind: KindList, Ref: "a2@example.org", List: "entraide", Title: "Re: Question sur les imprimantes",
			Text: "Essayez de réinstaller le pilote.", Author: "Karim", Date: day.AddDate(0, 0, -2)},
		MessageKey("bureau", 1): {Kind: KindList, Ref: "b1@example.org", List: "bureau", Title: "Budget confidentiel",
			Text: "Le budget xylophonique de l'association reste entre nous.", Author: "Karim", Private: true, Date: day},
	}
}
