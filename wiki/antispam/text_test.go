package antispam

import (
	"slices"
	"strings"
	"testing"
)

func TestAddedText(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"new page", "", "# Titre\nDu texte", "# Titre\nDu texte"},
		{"nothing changed", "a\nb\n", "a\nb\n", ""},
		{"removed lines", "a\nb\nc\n", "a\n", ""},
		{"moved lines", "a\nb\n", "b\na\n", ""},
		{"line added", "a\nb\n", "a\nnouvelle ligne\nb\n", "nouvelle ligne\n"},
		{"line repeated once more", "spam\n", "spam\nspam\n", ""},
		{"word changed in a line", "Le public : adultes\n", "Le public : adultes débutants casino\n", "débutants casino\n"},
		{"new phrase kept whole", "intro\n", "intro\npoker online ici\n", "poker online ici\n"},
		{"CRLF is the same line", "a\r\nb\r\n", "a\nb\nc", "c\n"},
		{"only known words on a new line", "un deux trois\n", "trois deux un\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AddedText(tt.old, tt.new); got != tt.want {
				t.Errorf("AddedText = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExtractLinks(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"none", "Pas de lien ici, ni http ni www", nil},
		{"plain", "voir https://exemple.fr/atelier.", []string{"//exemple.fr/atelier"}},
		{"case and http", "HTTP://EXEMPLE.FR/A et hTTps://exemple.fr/a", []string{"//exemple.fr/A", "//exemple.fr/a"}},
		{"markdown link", "[la fiche](https://a.example/f_(1)) et (voir http://b.example/x)", []string{"//a.example/f_(1)", "//b.example/x"}},
		{"autolink", "<https://c.example/?q=1&r=2>", []string{"//c.example/?q=1&r=2"}},
		{"www", "www.d.example/page, et xwww.e.example", []string{"//www.d.example/page"}},
		{"www without dot host", "www.", nil},
		{"protocol-relative", "[x](//f.example/a) et <//g.example> mais pas un // commentaire", []string{"//f.example/a", "//g.example"}},
		{"no slashes", "[x](https:h.example/y)", []string{"//h.example/y"}},
		{"backslashes", `[x](https:\\i.example)`, []string{"//i.example"}},
		{"userinfo", "http://confiance.example@j.example/x", []string{"//j.example/x"}},
		{"no host", "http:// et https:/// et http:", nil},
		{"guillemets", "« https://k.example/ »", []string{"//k.example/"}},
		{"unicode host", "https://café.example/menu", []string{"//café.example/menu"}},
		{"reference definition", "[r]: https://l.example/ref \"titre\"", []string{"//l.example/ref"}},
		{"html attribute", `<a href="http://m.example">x</a> <img src='//n.example/i.png'>`, []string{"//m.example", "//n.example/i.png"}},
		{"trailing dot host", "http://o.example./p", []string{"//o.example/p"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExtractLinks(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("ExtractLinks = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewLinks(t *testing.T) {
	tests := []struct {
		name, old, new string
		want           int
	}{
		{"none", "", "texte", 0},
		{"new page", "", "https://a.example https://b.example https://a.example", 2},
		{"kept links", "https://a.example et https://b.example", "https://b.example\nhttps://a.example\nmerci", 0},
		{"http to https is not new", "http://a.example/x", "https://a.example/x", 0},
		{"host case is not new", "https://A.example/x", "https://a.EXAMPLE/x", 0},
		{"path differs", "https://a.example/x", "https://a.example/y", 1},
		{"removed and added", "https://a.example", "https://c.example", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewLinks(tt.old, tt.new); len(got) != tt.want {
				t.Errorf("NewLinks = %q, want %d links", got, tt.want)
			}
		})
	}
}

func FuzzExtractLinks(f *testing.F) {
	for _, s := range []string{"", "http://", "https:\\\\x", "www.a.b", "(//x.y)", "http://a@b@c/d)", "«https://é.fr»", "\xff\xfehttp://\xffa.b", strings.Repeat("http://", 50)} {
		f.Add(s, "https://kept.example "+s)
	}
	f.Fuzz(func(t *testing.T, old, new string) {
		for _, l := range ExtractLinks(new) {
			if !strings.HasPrefix(l, "//") || len(l) < 3 || l[2] == '/' {
				t.Fatalf("bad link %q from %q", l, new)
			}
		}
		n := NewLinks(old, new)
		if len(n) > len(ExtractLinks(new)) {
			t.Fatalf("more new links than links")
		}
		if len(NewLinks(new, new)) != 0 {
			t.Fatalf("links new against themselves: %q", NewLinks(new, new))
		}
		a := AddedText(old, new)
		if old == new && a != "" {
			t.Fatalf("AddedText(x, x) = %q", a)
		}
	})
}
