package search

import (
	"reflect"
	"strings"
	"testing"
)

// TestResultCache checks that a cached result is never served after the
// index changed, nor to someone who may read less.
func TestResultCache(t *testing.T) {
	f := newFixture(t)
	f.put(corpus())
	f.drain()
	member := Visibility{Lists: []string{"bureau"}}
	const private = "/lists/bureau/m/b1@example.org"
	steps := []struct {
		name string
		v    Visibility
		q    string
		want string
	}{
		{"member first", member, "budget", private},
		{"then anonymous", Visibility{}, "budget", ""},
		{"member again", member, "budget", private},
		{"staff", Visibility{Staff: true}, "budget", private},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			for range 2 { // once searched, once perhaps cached
				if got := urls(f.search(Request{Q: s.q, Viewer: s.v})); got != s.want {
					t.Errorf("%q found %q, want %q", s.q, got, s.want)
				}
			}
		})
	}
	t.Run("after a change", func(t *testing.T) {
		before := f.search(Request{Q: "pilote"})
		f.put(map[string]*Doc{MessageKey("entraide", 3): {Kind: KindList, Ref: "a3@example.org", List: "entraide",
			Title: "Le pilote", Text: "Le pilote est installé.", Date: day}})
		f.drain()
		after := f.search(Request{Q: "pilote"})
		if after.Total != before.Total+1 || !strings.Contains(urls(after), "a3@example.org") {
			t.Errorf("after indexing a new message: %d hits %q, before %d", after.Total, urls(after), before.Total)
		}
		f.put(map[string]*Doc{MessageKey("entraide", 3): nil})
		f.drain()
		if got := f.search(Request{Q: "pilote"}); got.Total != before.Total {
			t.Errorf("after removing it: %d hits, want %d", got.Total, before.Total)
		}
	})
	t.Run("facets of another page and order", func(t *testing.T) {
		first := f.search(Request{Q: "imprimante", PerPage: 1})
		for _, req := range []Request{{Q: "imprimante", PerPage: 1, Page: 2}, {Q: "imprimante", PerPage: 1, Sort: SortDate}} {
			got := f.search(req)
			if !reflect.DeepEqual(got.Facets, first.Facets) || len(got.Hits) != 1 {
				t.Errorf("%+v: facets %+v, %d hits; page 1: %+v", req, got.Facets, len(got.Hits), first.Facets)
			}
		}
		if len(first.Facets.Lists) != 1 || first.Facets.Lists[0] != (FacetCount{"entraide", 2}) {
			t.Errorf("list facets %+v", first.Facets.Lists)
		}
		// Another viewer counts afresh.
		staff := f.search(Request{Q: "budget", Viewer: Visibility{Staff: true}, PerPage: 1})
		anon := f.search(Request{Q: "budget", PerPage: 1, Page: 2})
		if len(staff.Facets.Lists) != 1 || len(anon.Facets.Lists) != 0 || len(anon.Facets.Kinds) != 0 {
			t.Errorf("staff facets %+v, anonymous facets %+v", staff.Facets, anon.Facets)
		}
	})
	t.Run("a cached result is a copy", func(t *testing.T) {
		a := f.search(Request{Q: "imprimante"})
		a.Hits[0].URL = "changed"
		if b := f.search(Request{Q: "imprimante"}); b.Hits[0].URL == "changed" {
			t.Error("changing a result changed the cached one")
		}
	})
}
