package markup

import (
	"bytes"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// seeds are sources every fuzz target starts from.
func seeds(f *testing.F) [][]byte {
	fiche, err := os.ReadFile("testdata/fiche-atelier.md")
	if err != nil {
		f.Fatal(err)
	}
	return [][]byte{
		fiche,
		[]byte("# T\n\n[[A]] [[B|c]] `[[D]]` \\[[E]]\n\n```\n[[F]]\n```\n| x |\n|---|\n| [[G\\|h]] |\n"),
		[]byte("---\ntitle: \"x\"\ntags: [a, b]\n---\n> - [ ] \"q\" ! [l](javascript:x) <https://a.b> ![i](p.png)\n"),
		[]byte("[x](<java\tscript:1>) <b onclick=x> [^1]\n\n[^1]: n\nTerm\n: def\n"),
		[]byte("[a]: /x\n[[ [[[ ]]] ]] [[a|b|c]] [[x\n]]"),
	}
}

var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func FuzzRender(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	opt := Options{
		Resolver:   pages{"a": true, "accueil": true},
		Attachment: func(name string) string { return "/wiki/p/-/" + name },
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		res, err := Render(src, opt)
		if err != nil && !errors.Is(err, ErrFrontMatter) {
			if !errors.Is(err, ErrTooLarge) || len(src) <= MaxSize {
				t.Fatalf("Render: %v", err)
			}
			return
		}
		out := string(res.HTML)
		if msg := unsafeHTML(out); msg != "" {
			t.Fatalf("%s in\n%s\nfrom %q", msg, out, src)
		}
		if strings.Contains(strings.ToLower(out), "<script") {
			t.Fatalf("<script> in %s", out)
		}
		for _, h := range res.Headings {
			if !idPattern.MatchString(h.ID) || !utf8.ValidString(h.Text) {
				t.Fatalf("heading %+v", h)
			}
		}
		for _, s := range res.Links {
			if s == "" || Slug(s) != s {
				t.Fatalf("link slug %q", s)
			}
		}
		for _, e := range res.External {
			if kind, _ := classifyURL(e); kind != urlExternal && kind != urlMail {
				t.Fatalf("External has %q", e)
			}
		}
		if !utf8.ValidString(res.Title) {
			t.Fatalf("title %q", res.Title)
		}
		for _, fl := range res.Fields {
			for _, v := range fl.Values {
				if !utf8.ValidString(v) {
					t.Fatalf("field value %q", v)
				}
			}
		}
		if p := PlainText(src); !utf8.ValidString(p) {
			t.Fatalf("PlainText not UTF-8: %q", p)
		}
	})
}

func FuzzLinks(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s, "Nouvelle page")
	}
	f.Add([]byte("[[Old]] a `x` [[old|y]] <b [[Old]]>"), "A`b<c>|d]]e\\")
	f.Fuzz(func(t *testing.T, src []byte, to string) {
		links := Links(src)
		end := 0
		for _, l := range links {
			if l.Start < end || l.End <= l.Start || l.End > len(src) {
				t.Fatalf("link %+v out of range or order (after %d, len %d)", l, end, len(src))
			}
			text := src[l.Start:l.End]
			if !bytes.HasPrefix(text, []byte("[[")) || !bytes.HasSuffix(text, []byte("]]")) {
				t.Fatalf("link %+v spans %q", l, text)
			}
			if l.Slug == "" || l.Slug != Slug(l.Target) {
				t.Fatalf("link %+v: bad slug", l)
			}
			end = l.End
		}
		if len(links) == 0 {
			return
		}
		from := links[0].Slug
		out, n := RewriteLinks(src, from, to)
		if n == 0 {
			if !bytes.Equal(out, src) {
				t.Fatalf("nothing rewritten, but the source changed")
			}
			return
		}
		// The text outside the links is byte-identical, and the links are
		// where they were, one for one.
		after := Links(out)
		if len(after) != len(links) {
			t.Fatalf("%d links before, %d after rewriting %q to %q:\n%q\n%q", len(links), len(after), from, to, src, out)
		}
		prev, prevOut := 0, 0
		for i, l := range links {
			a := after[i]
			if !bytes.Equal(src[prev:l.Start], out[prevOut:a.Start]) {
				t.Fatalf("text before link %d changed: %q became %q", i, src[prev:l.Start], out[prevOut:a.Start])
			}
			switch {
			case l.Slug == from && a.Slug != Slug(linkTitle(to)):
				t.Fatalf("link %d %+v rewritten to %+v", i, l, a)
			case l.Slug != from && !bytes.Equal(src[l.Start:l.End], out[a.Start:a.End]):
				t.Fatalf("link %d changed: %q became %q", i, src[l.Start:l.End], out[a.Start:a.End])
			}
			prev, prevOut = l.End, a.End
		}
		if !bytes.Equal(src[prev:], out[prevOut:]) {
			t.Fatalf("text after the links changed")
		}
	})
}
