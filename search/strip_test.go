package search

import (
	"strings"
	"testing"
)

func TestStripMarkdown(t *testing.T) {
	tests := []struct{ in, want string }{
		{"# Titre\n\nDu **gras**, de l'*italique* et `code`.", "Titre\n\nDu gras, de l'italique et code."},
		{"---\ntitle: Atelier\ntags: [seniors, tablette]\ndurée: 2 h\nurl: http://x.org\n---\nCorps", "Atelier\nseniors, tablette\n2 h\nhttp://x.org\nCorps"},
		{"Voir [la doc](https://ex.org/a) et [[Médiation numérique|la médiation]] ou [[Accueil]].", "Voir la doc et la médiation ou Accueil."},
		{"![une image](a.png) <b>html</b> <https://ex.org>", "une image  html  https://ex.org"},
		{"- un\n* deux\n1. trois\n- [x] fait", "un\ndeux\ntrois\nfait"},
		{"> cité\n\n---\n\n| a | b |\n|---|---|\n| c | d |", "cité\n\n\n  a   b  \n  c   d"},
		{"```go\nfunc main() {}\n```\napres", "func main() {}\napres"},
		{"[ref]: https://ex.org\ntexte", "texte"},
		{"---\nnon fermé", "non fermé"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := StripMarkdown(tt.in); got != tt.want {
			t.Errorf("StripMarkdown(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func FuzzStripMarkdown(f *testing.F) {
	f.Add("# a [b](c) [[d|e]] **f** `g`\n```\nh\n")
	f.Add("---\nk: v\n---\n")
	f.Fuzz(func(t *testing.T, s string) {
		out := StripMarkdown(s)
		if len(out) > len(s)+len(s)/2+8 {
			t.Fatalf("output grew: %d -> %d", len(s), len(out))
		}
		_ = strings.TrimSpace(out)
	})
}
