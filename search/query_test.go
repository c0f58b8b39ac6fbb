package search

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseQuery(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse("2006-01-02", s); return t }
	tests := []struct {
		in   string
		want Query
	}{
		{"", Query{}},
		{"   ", Query{}},
		{"atelier seniors", Query{Words: []string{"atelier", "seniors"}}},
		{`"fiche atelier" tablette`, Query{Phrases: []string{"fiche atelier"}, Words: []string{"tablette"}}},
		{`"fiche atelier`, Query{Phrases: []string{"fiche atelier"}}},
		{`"seul"`, Query{Words: []string{"seul"}}},
		{`""`, Query{}},
		{`atelier -tablette -"mise en route"`, Query{Words: []string{"atelier"}, Excluded: []string{"tablette", "mise en route"}}},
		{"- -- -", Query{}},
		{"in:wiki in:lists", Query{Kinds: []string{KindWiki, KindList}}},
		{"IN:Wiki", Query{Kinds: []string{KindWiki}}},
		{"in:ailleurs x", Query{Words: []string{"x"}, Problems: []string{ProblemBadKind}, Ignored: []string{"in:ailleurs"}}},
		{"list:Entraide tag:Seniors from:karim", Query{Lists: []string{"entraide"}, Tags: []string{"Seniors"}, From: []string{"karim"}}},
		{`tag:"fiche atelier" from:"Clémence Dupont"`, Query{Tags: []string{"fiche atelier"}, From: []string{"Clémence Dupont"}}},
		{"tag:", Query{}},
		{"after:2024-01-31 before:2024-12-31", Query{After: d("2024-01-31"), Before: d("2024-12-31")}},
		{"after:2024", Query{After: d("2024-01-01")}},
		{"after:hier", Query{Problems: []string{ProblemBadDate}, Ignored: []string{"after:hier"}}},
		{"after:2024-12-31 before:2024-01-01", Query{After: d("2024-12-31"), Before: d("2024-01-01"), Problems: []string{ProblemBadRange}}},
		{"http://example.org/x", Query{Words: []string{"http://example.org/x"}}},
		{"-in:wiki", Query{Excluded: []string{"in:wiki"}}},
		{`.*[a-z]+ (?i) ~2 ^3`, Query{Words: []string{".*[a-z]+", "(?i)", "~2", "^3"}}},
		{"a\x00b\tc", Query{Words: []string{"a", "b", "c"}}},
		{"\xff\xfeatelier", Query{Words: []string{"atelier"}}},
		{`mot"collé"`, Query{Words: []string{"mot", "collé"}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := ParseQuery(tt.in)
			got.terms = 0
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseQuery(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseQueryLimits(t *testing.T) {
	q := ParseQuery(strings.Repeat("mot ", 1000))
	if len(q.Words) != MaxTerms || !contains(q.Problems, ProblemTooMany) || !contains(q.Problems, ProblemTooLong) {
		t.Errorf("%d words, problems %v", len(q.Words), q.Problems)
	}
	q = ParseQuery(strings.Repeat("é", 10000))
	if len(q.Words) != 1 || utf8.RuneCountInString(q.Words[0]) != MaxQueryRunes {
		t.Errorf("long word: %d runes", utf8.RuneCountInString(q.Words[0]))
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// FuzzParseQuery checks that any input is read without panicking, within
// the limits, into valid UTF-8, and that the index answers it.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", `"a`, `-"`, "in:", "tag:\"", "after:2024-13-45", "\xff", strings.Repeat("x ", 600), `a:b:c "d" -e -"f g" list:x from:"y`} {
		f.Add(s)
	}
	fx := newFixture(f)
	fx.put(corpus())
	fx.drain()
	f.Fuzz(func(t *testing.T, s string) {
		q := ParseQuery(s)
		parts := len(q.Words) + len(q.Phrases) + len(q.Excluded) + len(q.Kinds) + len(q.Lists) + len(q.Tags) + len(q.From)
		if parts > MaxTerms {
			t.Fatalf("%d parts", parts)
		}
		for _, l := range [][]string{q.Words, q.Phrases, q.Excluded, q.Lists, q.Tags, q.From} {
			for _, w := range l {
				if !utf8.ValidString(w) || w == "" {
					t.Fatalf("bad part %q", w)
				}
			}
		}
		if _, err := fx.idx.Search(t.Context(), Request{Q: s}); err != nil {
			t.Fatalf("Search(%q): %v", s, err)
		}
	})
}
