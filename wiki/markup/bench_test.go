package markup

import (
	"os"
	"testing"
)

// fiche returns the 5 KB French fiche of testdata.
func fiche(b *testing.B) []byte {
	src, err := os.ReadFile("testdata/fiche-atelier.md")
	if err != nil {
		b.Fatal(err)
	}
	return src
}

// BenchmarkRender5KB renders a realistic 5 KB fiche atelier: front
// matter, tables, lists, footnotes, a definition list, wiki links, an
// image, French text.
func BenchmarkRender5KB(b *testing.B) {
	src := fiche(b)
	opt := Options{
		Resolver:   pages{"accessibilite": true, "accueil-des-publics": true},
		Attachment: func(name string) string { return "/wiki/fiche/-/" + name },
	}
	r := New()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(src, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLinks finds the [[links]] of the same fiche, as a save does.
func BenchmarkLinks(b *testing.B) {
	src := fiche(b)
	r := New()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		r.Links(src)
	}
}

// BenchmarkPlainText extracts the fiche's words for the search index.
func BenchmarkPlainText(b *testing.B) {
	src := fiche(b)
	r := New()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		r.PlainText(src)
	}
}

// BenchmarkSlug folds a French title.
func BenchmarkSlug(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Slug("Médiation numérique : l'essentiel des ateliers d'été")
	}
}
