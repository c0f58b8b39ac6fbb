package search

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
)

// segmentsCorpus puts a few hundred pages and messages into f in several
// batches, then changes and removes some, so that the index has several
// segments, some with deleted documents.
func segmentsCorpus(f *fixture) {
	r := rand.New(rand.NewPCG(3, 14))
	tags := []string{"seniors", "tablette", "débutants", "Sécurité"}
	lists := []string{"entraide", "annonces", "bureau"}
	start := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	doc := func(n int) (string, *Doc) {
		at := start.Add(time.Duration(r.IntN(3*365*24)) * time.Hour)
		if n%5 == 0 {
			slug := fmt.Sprintf("fiche-%d", n)
			return WikiKey(slug), &Doc{Kind: KindWiki, Ref: slug, Title: "Atelier " + benchText(r, 3),
				Text: benchText(r, 40+r.IntN(80)), Tags: []string{tags[r.IntN(len(tags))], tags[r.IntN(len(tags))]},
				Author: benchNames[r.IntN(len(benchNames))], Date: at}
		}
		list := lists[r.IntN(len(lists))]
		return MessageKey(list, uint64(n)), &Doc{Kind: KindList, Ref: fmt.Sprintf("m%d@example.org", n), List: list,
			Title: "Re: " + benchText(r, 4), Text: benchText(r, 20+r.IntN(60)),
			Author: benchNames[r.IntN(len(benchNames))], Private: list == "bureau", Date: at}
	}
	keys := map[int]string{}
	for batch := 0; batch < 4; batch++ {
		docs := map[string]*Doc{}
		for n := batch * 100; n < (batch+1)*100; n++ {
			k, d := doc(n)
			keys[n] = k
			docs[k] = d
		}
		f.put(docs)
		f.drain()
	}
	changes := map[string]*Doc{}
	for n := 0; n < 400; n += 9 {
		_, d := doc(n)
		changes[keys[n]] = d // the same document, new content
	}
	for n := 4; n < 400; n += 17 {
		changes[keys[n]] = nil // removed
	}
	f.put(changes)
	f.drain()
}

// bothWays answers c from bleve's collector and from the segments: the
// totals, the facets and the URLs of all the matches.
func bothWays(t *testing.T, f *fixture, c *compiled) (want, got segAnswer, wantURLs, gotURLs []string) {
	t.Helper()
	f.idx.mu.RLock()
	defer f.idx.mu.RUnlock()
	sr := bleve.NewSearchRequestOptions(c.query(), 100000, 0, false)
	sr.Fields = []string{fieldURL}
	sr.AddFacet(fieldFacet, bleve.NewFacetRequest(fieldFacet, facetTerms))
	sres, err := f.idx.idx.Search(sr)
	if err != nil {
		t.Fatal(err)
	}
	want = segAnswer{total: sres.Total, facets: facetCounts(sres.Facets[fieldFacet])}
	for _, h := range sres.Hits {
		u, _ := h.Fields[fieldURL].(string)
		wantURLs = append(wantURLs, u)
	}
	a, err := f.idx.searchSegments(context.Background(), c, 0, 100000, true, true)
	if err != nil {
		t.Fatal(err)
	}
	got = *a
	last := float32(math.MaxFloat32)
	for _, h := range a.hits {
		u, _ := h.fields[fieldURL].(string)
		gotURLs = append(gotURLs, u)
		if float32(h.score) > last {
			t.Errorf("%s scores %g after a hit of %g", u, h.score, last)
		}
		last = float32(h.score)
	}
	return want, got, wantURLs, gotURLs
}

// TestSegmentsAgreeWithBleve checks that the searches answered from the
// segments' bitmaps find the same documents, count the same total and the
// same facets as bleve's collector, and rank by a score that never rises.
func TestSegmentsAgreeWithBleve(t *testing.T) {
	f := newFixture(t)
	segmentsCorpus(f)
	viewers := map[string]Visibility{
		"anonymous": {},
		"member":    {Lists: []string{"bureau"}},
		"staff":     {Staff: true},
	}
	queries := []string{
		"atelier", "ateliers", "mediation seniors", "tablette -seniors", "atelier in:wiki",
		"atelier in:lists", "atelier list:entraide", "list:bureau atelier", "tag:seniors",
		"numérique tag:sécurité", "from:karim", "in:lists", "in:wiki", "clemence", "le la les",
		"bonjour -merci -atelier", "xylophonique", "list:entraide list:bureau réunion",
	}
	compared := 0
	for _, q := range queries {
		for name, v := range viewers {
			pq := ParseQuery(q)
			c := f.idx.compile(&pq, v)
			if c == nil {
				continue // only stop words: neither way is asked
			}
			if !c.onBitmaps() {
				t.Fatalf("%q is not answered from the segments: the test compares nothing", q)
			}
			want, got, wantURLs, gotURLs := bothWays(t, f, c)
			if got.total != want.total {
				t.Errorf("%q as %s: %d matches from the segments, %d from bleve", q, name, got.total, want.total)
			}
			if g, w := splitFacets(got.facets), splitFacets(want.facets); !reflect.DeepEqual(g, w) {
				t.Errorf("%q as %s: facets from the segments\n%+v\nfrom bleve\n%+v", q, name, g, w)
			}
			if g, w := sortedJoin(gotURLs), sortedJoin(wantURLs); g != w {
				t.Errorf("%q as %s: the segments find\n%s\nbleve finds\n%s", q, name, g, w)
			}
			if len(gotURLs) != int(got.total) {
				t.Errorf("%q as %s: %d hits for %d matches", q, name, len(gotURLs), got.total)
			}
			if got.total > 0 {
				compared++
			}
		}
	}
	if compared < 30 {
		t.Errorf("only %d searches found something: the corpus no longer exercises the comparison", compared)
	}
}

// TestSegmentsRanking checks the order of the hits answered from the
// segments: a title outranks a text, more of the query's words outrank
// fewer, and pages follow each other without repeating a hit.
func TestSegmentsRanking(t *testing.T) {
	f := newFixture(t)
	docs := map[string]*Doc{}
	for n := 0; n < 30; n++ {
		ref := fmt.Sprintf("p%02d", n)
		docs[WikiKey(ref)] = &Doc{Kind: KindWiki, Ref: ref, Title: "Page " + ref,
			Text: "Une page sur la médiation, les ateliers et la convivialité.", Date: day}
	}
	docs[WikiKey("titre")] = &Doc{Kind: KindWiki, Ref: "titre", Title: "Convivialité et café",
		Text: "Une page sans le mot ailleurs.", Date: day}
	docs[WikiKey("deux")] = &Doc{Kind: KindWiki, Ref: "deux", Title: "Page deux",
		Text: "La médiation par le jardinage et la convivialité du jardinage.", Date: day}
	f.put(docs)
	f.drain()
	f.idx.noCache = true

	res := f.search(Request{Q: "convivialite"})
	if res.Total != 32 || len(res.Hits) == 0 || res.Hits[0].URL != "/wiki/titre" {
		t.Fatalf("convivialite: %d matches, first %v; want 32, the page with the word in its title first", res.Total, res.Hits)
	}
	res = f.search(Request{Q: "convivialite jardinage"})
	if res.Total != 1 || res.Hits[0].URL != "/wiki/deux" {
		t.Fatalf("convivialite jardinage: %d matches %v; want only the page with both", res.Total, urls(res))
	}
	seen := map[string]bool{}
	last := 1e308
	for p := 1; p <= 4; p++ {
		res := f.search(Request{Q: "mediation convivialite", Page: p, PerPage: 10})
		for _, h := range res.Hits {
			if seen[h.URL] {
				t.Errorf("page %d repeats %s", p, h.URL)
			}
			seen[h.URL] = true
			if h.Score > last {
				t.Errorf("page %d: %s scores %g after a hit of %g", p, h.URL, h.Score, last)
			}
			last = h.Score
		}
	}
	if len(seen) != 31 {
		t.Errorf("the pages hold %d hits, want the 31 matches", len(seen))
	}
	if !strings.Contains(string(f.search(Request{Q: "convivialite"}).Hits[0].Title), "<mark>Convivialité</mark>") {
		t.Error("the first hit's title does not mark the word")
	}
}

func sortedJoin(s []string) string {
	s = append([]string(nil), s...)
	sortStrings(s)
	return strings.Join(s, "\n")
}
