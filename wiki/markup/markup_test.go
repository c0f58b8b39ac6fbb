package markup

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// pages is a Resolver for tests: the slugs that exist.
type pages map[string]bool

func (p pages) Exists(slug string) bool { return p[slug] }

// render renders src or fails the test.
func render(t testing.TB, src string, opt Options) *Result {
	t.Helper()
	res, err := Render([]byte(src), opt)
	if err != nil {
		t.Fatalf("Render(%q): %v", src, err)
	}
	checkSafe(t, string(res.HTML))
	return res
}

func TestRender(t *testing.T) {
	const nb = "\u00a0"
	exist := Options{Resolver: pages{"accueil": true, "mediation-numerique": true}}
	tests := []struct {
		name    string
		src     string
		opt     Options
		want    []string
		notWant []string
	}{
		{name: "paragraph", src: "Bonjour", want: []string{"<p>Bonjour</p>"}},
		{name: "table", src: "| a | b |\n|:--|--:|\n| 1 | 2 |\n",
			want: []string{"<table>", `<th align="left">a</th>`, `<td align="right">2</td>`}},
		{name: "strikethrough", src: "~~barré~~", want: []string{"<del>barré</del>"}},
		{name: "linkify", src: "voir www.example.org et https://example.net/a",
			want: []string{`<a href="http://www.example.org" rel="nofollow ugc noopener">www.example.org</a>`,
				`<a href="https://example.net/a" rel="nofollow ugc noopener">`}},
		{name: "autolink", src: "<https://example.org/x>",
			want: []string{`<a href="https://example.org/x" rel="nofollow ugc noopener">https://example.org/x</a>`}},
		{name: "email", src: "écrire à moi@example.org",
			want: []string{`<a href="mailto:moi@example.org">moi@example.org</a>`}},
		{name: "task list", src: "- [ ] à faire\n- [x] fait\n",
			want: []string{`<input disabled="" type="checkbox"> à faire`, `<input checked="" disabled="" type="checkbox"> fait`}},
		{name: "footnote", src: "Texte[^1].\n\n[^1]: La note.\n",
			want: []string{`<sup id="fnref:1"><a href="#fn:1" class="footnote-ref" role="doc-noteref">1</a></sup>`,
				`<div class="footnotes" role="doc-endnotes">`, `<li id="fn:1">`, `href="#fnref:1"`}},
		{name: "definition list", src: "Durée\n: deux heures\n",
			want: []string{"<dl>\n<dt>Durée</dt>\n<dd>deux heures</dd>\n</dl>"}},
		{name: "fenced code with language", src: "```go\nx := \"a\" ...\n```\n",
			want: []string{`<pre><code class="language-go">x := &#34;a&#34; ...`}},
		{name: "ordered list start", src: "3. trois\n4. quatre\n", want: []string{`<ol start="3">`}},
		{name: "reference links", src: "[a] et [b]\n\n[a]: /wiki/x\n[b]: https://example.org \"titre\"\n",
			want: []string{`<a href="/wiki/x">a</a>`, `<a href="https://example.org" title="titre" rel="nofollow ugc noopener">b</a>`}},
		{name: "many reference definitions", src: strings.Repeat("[d]: /wiki/d\n", 200) + "[e]: /wiki/e\n'titre'\n" + strings.Repeat("[f]: /wiki/f\n", 100) + "suite\n\n[e]",
			want: []string{"<p>suite</p>", `<a href="/wiki/e" title="titre">e</a>`}},

		// French typography.
		{name: "double quotes", src: `Il dit "bonjour" ici.`, want: []string{"Il dit «" + nb + "bonjour" + nb + "» ici."}},
		{name: "angle quotes", src: `<< ça >> et <<là>>`, want: []string{"«" + nb + "ça" + nb + "» et «" + nb + "là" + nb + "»"}},
		{name: "typed guillemets", src: "« déjà »", want: []string{"«" + nb + "déjà" + nb + "»"}},
		{name: "space before punctuation", src: "Oui ! Non ? Peut-être ; voici : tout",
			want: []string{"Oui" + nb + "! Non" + nb + "? Peut-être" + nb + "; voici" + nb + ": tout"}},
		{name: "spaces run", src: "Oui   !", want: []string{"Oui" + nb + "!"}},
		{name: "no space stays", src: "Bonjour! Ça va?", want: []string{"Bonjour! Ça va?"}},
		{name: "after emphasis", src: "**Attention** !", want: []string{"<strong>Attention</strong>" + nb + "!"}},
		{name: "escaped punctuation keeps space", src: `Oui \!`, want: []string{"Oui !"}},
		{name: "ellipsis and apostrophe", src: "l'essentiel...", want: []string{"l’essentiel…"}},
		{name: "code span untouched", src: "`\"a\" ... b ! l'x`", want: []string{"<code>&#34;a&#34; ... b ! l&#39;x</code>"}},
		{name: "code block untouched", src: "    \"a\" ... b !\n", want: []string{"<pre><code>&#34;a&#34; ... b !\n</code></pre>"}},
		{name: "url untouched", src: "https://example.org/a--b...c?d=1 !",
			want: []string{`href="https://example.org/a--b...c?d=1"`}},
		{name: "quote run kept", src: `"""`, want: []string{"<p>&#34;&#34;&#34;</p>"}},

		// Headings.
		{name: "heading id folds accents", src: "## Étape 2 : déroulé", want: []string{`<h2 id="etape-2-deroule">Étape 2` + nb + ": déroulé</h2>"}},
		{name: "heading ids deduplicated", src: "# A\n# A\n# A-1\n# A\n",
			want: []string{`<h1 id="a">`, `<h1 id="a-1">A</h1>`, `<h1 id="a-1-1">A-1</h1>`, `<h1 id="a-2">A</h1>`}},
		{name: "heading without letters", src: "# ???\n# !!!\n", want: []string{`<h1 id="section">`, `<h1 id="section-1">`}},
		{name: "heading next to footnotes", src: "# fn 1\nx[^1]\n\n[^1]: n\n", want: []string{`<h1 id="fn-1">`, `<li id="fn:1">`}},
		{name: "setext heading", src: "Titre\n=====\n", want: []string{`<h1 id="titre">Titre</h1>`}},

		// Wiki links.
		{name: "wikilink existing", src: "[[Accueil]]", opt: exist, want: []string{`<a href="/wiki/accueil">Accueil</a>`}},
		{name: "wikilink label", src: "[[Médiation numérique|la médiation]]", opt: exist,
			want: []string{`<a href="/wiki/mediation-numerique">la médiation</a>`}},
		{name: "wikilink missing", src: "[[Page à créer]]", opt: exist,
			want: []string{`<a href="/wiki/page-a-creer/edit" class="new" rel="nofollow">Page à créer</a>`}},
		{name: "wikilink without resolver", src: "[[Page à créer]]", want: []string{`<a href="/wiki/page-a-creer">Page à créer</a>`}},
		{name: "wikilink empty slug", src: "[[ ]] et [[!!!]] et [[|x]]", want: []string{"[[ ]] et [[!!!]] et [[|x]]"}, notWant: []string{"<a"}},
		{name: "wikilink in code span", src: "`[[Accueil]]`", want: []string{"<code>[[Accueil]]</code>"}, notWant: []string{"<a"}},
		{name: "wikilink in code block", src: "```\n[[Accueil]]\n```\n", want: []string{"[[Accueil]]"}, notWant: []string{"<a"}},
		{name: "wikilink escaped", src: `\[[Accueil]]`, want: []string{"[[Accueil]]"}, notWant: []string{"<a"}},
		{name: "wikilink label is text", src: "[[Accueil|<b>*gras*</b> & co]]",
			want: []string{`<a href="/wiki/accueil">&lt;b&gt;*gras*&lt;/b&gt; &amp; co</a>`}},
		{name: "wikilink in table", src: "| a |\n|---|\n| [[Accueil\\|l'accueil]] |\n",
			want: []string{`<td><a href="/wiki/accueil">l&#39;accueil</a></td>`}},
		{name: "wikilink inside link is text", src: "[voir [[Accueil]]](https://example.org)",
			want: []string{`<a href="https://example.org" rel="nofollow ugc noopener">voir Accueil</a>`}},
		{name: "wikilink on two lines is text", src: "[[Accu\neil]]", notWant: []string{"<a"}},
		{name: "wikilink with brackets", src: "[[[Accueil]]]", want: []string{`[<a href="/wiki/accueil">Accueil</a>]`}},

		// URLs.
		{name: "relative image via attachment", src: "![plan](plan%20salle.png \"le plan\")",
			opt:  Options{Attachment: func(n string) string { return "/wiki/p/files/" + strings.ReplaceAll(n, " ", "%20") }},
			want: []string{`<img src="/wiki/p/files/plan%20salle.png" alt="plan" title="le plan" loading="lazy">`}},
		{name: "relative link via attachment", src: "[fiche](./fiche.pdf)",
			opt:  Options{Attachment: func(n string) string { return "/files/" + n }},
			want: []string{`<a href="/files/fiche.pdf">fiche</a>`}},
		{name: "attachment declines", src: "[x](autre)", opt: Options{Attachment: func(string) string { return "" }},
			want: []string{`<a href="autre">x</a>`}},
		{name: "absolute path not mapped", src: "![x](/static/a.png)", opt: Options{Attachment: func(n string) string { return "/bad" }},
			want: []string{`<img src="/static/a.png" alt="x" loading="lazy">`}},
		{name: "fragment not mapped", src: "[haut](#debut)", opt: Options{Attachment: func(n string) string { return "/bad" }},
			want: []string{`<a href="#debut">haut</a>`}},
		{name: "external image becomes link", src: "![logo](https://example.org/logo.png)",
			want: []string{`<a href="https://example.org/logo.png" rel="nofollow ugc noopener">logo</a>`}, notWant: []string{"<img"}},
		{name: "external image in a link", src: "[![logo](https://x.example/l.png)](https://x.example/)",
			want: []string{`<a href="https://x.example/" rel="nofollow ugc noopener">logo</a>`}, notWant: []string{"l.png"}},
		{name: "local image in a link", src: "[![logo](l.png)](/wiki/a)",
			want: []string{`<a href="/wiki/a"><img src="l.png" alt="logo" loading="lazy"></a>`}},
		{name: "linkified url in a link", src: "[voir https://a.example ici](/wiki/a)",
			want: []string{`<a href="/wiki/a">voir https://a.example ici</a>`}},
		{name: "protocol-relative", src: "[x](//example.org/p)",
			want: []string{`<a href="https://example.org/p" rel="nofollow ugc noopener">x</a>`}},
		{name: "internal link", src: "[x](/wiki/accueil)", want: []string{`<a href="/wiki/accueil">x</a>`}, notWant: []string{"rel="}},
		{name: "tel link", src: "[appeler](tel:+33123456789)", want: []string{`<a href="tel:+33123456789">appeler</a>`}},

		// Raw HTML.
		{name: "inline html shown", src: "a <b>gras</b> b", want: []string{"a &lt;b&gt;gras&lt;/b&gt; b"}, notWant: []string{"<b>"}},
		{name: "html block shown", src: "<div class=\"x\">\nbloc\n</div>\n",
			want: []string{"<pre class=\"raw-html\"><code>&lt;div class=&#34;x&#34;&gt;\nbloc\n&lt;/div&gt;\n</code></pre>"}},
		{name: "html comment hidden", src: "a <!-- secret --> b\n\n<!--\nnote\n-->\n", want: []string{"<p>a  b</p>"}, notWant: []string{"secret", "note", "&lt;!--"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := render(t, tt.src, tt.opt)
			got := string(res.HTML)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in\n%s", w, got)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("unexpected %q in\n%s", w, got)
				}
			}
		})
	}
}

func TestResultLists(t *testing.T) {
	src := "---\ntitle: Ma fiche\ntags: Numérique, atelier , NUMÉRIQUE,, \n---\n" +
		"# Premier\n\n## Sous-partie\n\n[[Accueil]] [[B]] [[accueil|encore]] [[Accueil|x]]\n\n" +
		"https://a.example/ <https://a.example/> [b](https://b.example/x) <moi@example.org> [m](mailto:moi@example.org) [x](/wiki/x)\n"
	res := render(t, src, Options{})
	if res.Title != "Ma fiche" {
		t.Errorf("Title = %q", res.Title)
	}
	if want := []string{"numérique", "atelier"}; !reflect.DeepEqual(res.Tags, want) {
		t.Errorf("Tags = %q, want %q", res.Tags, want)
	}
	if want := []string{"accueil", "b"}; !reflect.DeepEqual(res.Links, want) {
		t.Errorf("Links = %q, want %q", res.Links, want)
	}
	if want := []string{"https://a.example/", "https://b.example/x", "mailto:moi@example.org"}; !reflect.DeepEqual(res.External, want) {
		t.Errorf("External = %q, want %q", res.External, want)
	}
	want := []Heading{{1, "premier", "Premier"}, {2, "sous-partie", "Sous-partie"}}
	if !reflect.DeepEqual(res.Headings, want) {
		t.Errorf("Headings = %+v, want %+v", res.Headings, want)
	}
}

func TestTitle(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"front matter", "---\ntitle: Depuis YAML\n---\n# Titre\n", "Depuis YAML"},
		{"first level-1 heading", "## Avant\n\n# Le *vrai* titre : ici\n\n# Second\n", "Le vrai titre\u00a0: ici"},
		{"setext", "Titre souligné\n===\n", "Titre souligné"},
		{"none", "## Seulement h2\n\ntexte", ""},
		{"front matter without title", "---\nniveau: 1\n---\n# H\n", "H"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(t, tt.src, Options{}).Title; got != tt.want {
				t.Errorf("Title = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		fields []Field
		body   string
	}{
		{"none", "# Titre\n", nil, "# Titre\n"},
		{"order kept", "---\nzeta: 1\nalpha: deux\nmu: [a, b]\n---\ncorps\n",
			[]Field{{"zeta", []string{"1"}}, {"alpha", []string{"deux"}}, {"mu", []string{"a", "b"}}}, "corps\n"},
		{"block list", "---\nmateriel:\n  - PC\n  - projecteur\n---\n",
			[]Field{{"materiel", []string{"PC", "projecteur"}}}, ""},
		{"nested mapping flattened", "---\nlieu:\n  ville: Nantes\n  salle:\n    - A\n    - B\n---\nx",
			[]Field{{"lieu", []string{"ville: Nantes", "salle: A, B"}}}, "x"},
		{"list of mappings", "---\netapes:\n  - nom: accueil\n    duree: 10\n---\n",
			[]Field{{"etapes", []string{"nom: accueil, duree: 10"}}}, ""},
		{"empty value", "---\nvide:\nnul: ~\n---\n", []Field{{"vide", nil}, {"nul", nil}}, ""},
		{"empty front matter", "---\n---\ncorps", nil, "corps"},
		{"comments only", "---\n# rien\n---\ncorps", nil, "corps"},
		{"crlf", "---\r\ntitle: A\r\n---\r\ncorps\r\n", []Field{{"title", []string{"A"}}}, "corps\r\n"},
		{"dots close", "---\ntitle: A\n...\ncorps", []Field{{"title", []string{"A"}}}, "corps"},
		{"no closing line", "---\ntitle: A\n", nil, "---\ntitle: A\n"},
		{"not at the start", "\n---\ntitle: A\n---\n", nil, "\n---\ntitle: A\n---\n"},
		{"alias to scalar", "---\na: &x val\nb: *x\n---\n", []Field{{"a", []string{"val"}}, {"b", []string{"val"}}}, ""},
		{"alias to list not expanded", "---\na: &x [1, 2]\nb: [*x, *x]\n---\n",
			[]Field{{"a", []string{"1", "2"}}, {"b", []string{"*x", "*x"}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields, body, err := Split([]byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fields, tt.fields) {
				t.Errorf("fields = %#v, want %#v", fields, tt.fields)
			}
			if string(body) != tt.body {
				t.Errorf("body = %q, want %q", body, tt.body)
			}
		})
	}
}

func TestSplitErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		line int
	}{
		{"list at top", "---\n- a\n- b\n---\n", 2},
		{"scalar at top", "---\njuste du texte\n---\n", 2},
		{"bad indentation", "---\ntitle: A\n  bad: : x\n---\n", 3},
		{"unclosed quote", "---\ntitle: \"A\nniveau: 2\n---\n", 0},
		{"duplicate key", "---\ntitle: A\ntitle: B\n---\n", 3},
		{"tab indentation", "---\na:\n\t- b\n---\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, body, err := Split([]byte(tt.src))
			if !errors.Is(err, ErrFrontMatter) {
				t.Fatalf("err = %v, want ErrFrontMatter", err)
			}
			var fe *FrontMatterError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %T, want *FrontMatterError", err)
			}
			if tt.line != 0 && fe.Line != tt.line {
				t.Errorf("Line = %d, want %d (%v)", fe.Line, tt.line, err)
			}
			if body == nil {
				t.Error("body is nil")
			}
			// Render fails the same way, and still shows the page.
			res, rerr := Render([]byte(tt.src+"Le corps."), Options{})
			if !errors.Is(rerr, ErrFrontMatter) {
				t.Fatalf("Render err = %v, want ErrFrontMatter", rerr)
			}
			if res == nil || !strings.Contains(string(res.HTML), "Le corps.") || !strings.Contains(string(res.HTML), "<pre><code") {
				t.Errorf("Render result = %+v", res)
			}
		})
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Médiation numérique : l'essentiel", "mediation-numerique-l-essentiel"},
		{"Étape 2 : déroulé", "etape-2-deroule"},
		{"  --Déjà   vu!!  ", "deja-vu"},
		{"Œuvre, cœur & Ægis", "oeuvre-coeur-aegis"},
		{"Straße Łódź Øre Đakovo", "strasse-lodz-ore-dakovo"},
		{"ﬁche ①", "fiche-1"},
		{"ÀÉÎÕÜ ç ñ", "aeiou-c-n"},
		{"İstanbul", "istanbul"},
		{"日本語", ""},
		{"", ""},
		{"a日b", "a-b"},
		{"CamelCase42", "camelcase42"},
		{"\xff\xfe bad", "bad"},
		{strings.Repeat("mot-", 40), strings.TrimSuffix(strings.Repeat("mot-", 25), "-")},
		{strings.Repeat("a", 150), strings.Repeat("a", 100)},
		{strings.Repeat("é", 30) + " " + strings.Repeat("b", 90), strings.Repeat("e", 30)},
	}
	for _, tt := range tests {
		if got := Slug(tt.in); got != tt.want {
			t.Errorf("Slug(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := Slug(tt.in); len(got) > 100 || strings.HasPrefix(got, "-") || strings.HasSuffix(got, "-") || strings.Contains(got, "--") {
			t.Errorf("Slug(%q) = %q: not a clean slug", tt.in, got)
		}
	}
}

func ExampleSlug() {
	fmt.Println(Slug("Médiation numérique : l'essentiel"))
	fmt.Println(Slug("Fiche atelier : cœur de l'été"))
	// Output:
	// mediation-numerique-l-essentiel
	// fiche-atelier-coeur-de-l-ete
}

func TestLinks(t *testing.T) {
	src := "---\nvoir: \"[[Pas un lien]]\"\n---\n" +
		"[[Accueil]] et [[Médiation numérique|la médiation]]\n" +
		"`[[Code]]` \\[[Echappé]]\n\n```\n[[Bloc]]\n```\n\n    [[Indenté]]\n\n" +
		"> - [[Dans une liste]]\n\n| a |\n|---|\n| [[Table\\|t]] |\n"
	links := Links([]byte(src))
	want := []struct{ text, target, label, slug string }{
		{"[[Accueil]]", "Accueil", "", "accueil"},
		{"[[Médiation numérique|la médiation]]", "Médiation numérique", "la médiation", "mediation-numerique"},
		{"[[Dans une liste]]", "Dans une liste", "", "dans-une-liste"},
		{"[[Table\\|t]]", "Table", "t", "table"},
	}
	if len(links) != len(want) {
		t.Fatalf("Links = %+v, want %d", links, len(want))
	}
	for i, l := range links {
		w := want[i]
		if got := src[l.Start:l.End]; got != w.text || l.Target != w.target || l.Label != w.label || l.Slug != w.slug {
			t.Errorf("link %d = %+v (%q), want %+v", i, l, got, w)
		}
	}
}

func TestRewriteLinks(t *testing.T) {
	tests := []struct {
		name, src, from, to, want string
		n                         int
	}{
		{"plain", "Voir [[Old]].", "old", "New", "Voir [[New|Old]].", 1},
		{"label kept", "[[Old|ici]] et [[old]]", "old", "Nouvelle page", "[[Nouvelle page|ici]] et [[Nouvelle page|old]]", 2},
		{"same text", "[[Old|New]]", "old", "New", "[[New]]", 1},
		{"other links untouched", "[[Autre]] [[Old]]", "old", "New", "[[Autre]] [[New|Old]]", 1},
		{"code untouched", "`[[Old]]`\n\n    [[Old]]\n", "old", "New", "`[[Old]]`\n\n    [[Old]]\n", 0},
		{"front matter untouched", "---\na: \"[[Old]]\"\n---\n[[Old]]", "old", "New", "---\na: \"[[Old]]\"\n---\n[[New|Old]]", 1},
		{"table keeps escaped pipe", "| a |\n|---|\n| [[Old\\|x]] |\n", "old", "New", "| a |\n|---|\n| [[New\\|x]] |\n", 1},
		{"unsafe characters in title", "[[Old]]", "old", "A|b]]`<c>", "[[A b c|Old]]", 1},
		{"empty target slug", "[[Old]]", "old", "!!!", "[[Old]]", 0},
		{"no match", "[[Old]]", "autre", "New", "[[Old]]", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n := RewriteLinks([]byte(tt.src), tt.from, tt.to)
			if string(got) != tt.want || n != tt.n {
				t.Errorf("RewriteLinks = %q, %d; want %q, %d", got, n, tt.want, tt.n)
			}
		})
	}
}

func TestPlainText(t *testing.T) {
	src := "---\ntitle: Fiche\ntags: [a, b]\n---\n# Titre *important*\n\nDu **gras**, un [lien](https://x.example) et [[Page|une page]].\n\n" +
		"```\ncode gardé\n```\n\n- un\n- deux\n\n<b>brut</b>\n"
	got := PlainText([]byte(src))
	for _, w := range []string{"Fiche\n", "a\nb\n", "Titre important\n", "Du gras, un lien et une page.", "code gardé\n", "un\ndeux", "<b>brut</b>"} {
		if !strings.Contains(got, w) {
			t.Errorf("PlainText lacks %q:\n%s", w, got)
		}
	}
	for _, w := range []string{"**", "[[", "](", "```", "---"} {
		if strings.Contains(got, w) {
			t.Errorf("PlainText has %q:\n%s", w, got)
		}
	}
}

func TestConcurrentRender(t *testing.T) {
	src, err := os.ReadFile("testdata/fiche-atelier.md")
	if err != nil {
		t.Fatal(err)
	}
	r := New()
	want, err := r.Render(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	for range 8 {
		go func() {
			res, err := r.Render(src, Options{})
			if err != nil {
				done <- err.Error()
				return
			}
			done <- string(res.HTML)
		}()
	}
	for range 8 {
		if got := <-done; got != string(want.HTML) {
			t.Errorf("concurrent rendering differs")
		}
	}
}

func TestFiche(t *testing.T) {
	src, err := os.ReadFile("testdata/fiche-atelier.md")
	if err != nil {
		t.Fatal(err)
	}
	res := render(t, string(src), Options{Resolver: pages{"accessibilite": true}, Attachment: func(n string) string { return "/wiki/f/-/" + n }})
	if res.Title != "Atelier : premiers pas avec le smartphone" {
		t.Errorf("Title = %q", res.Title)
	}
	if got := res.Get("duree"); !reflect.DeepEqual(got, []string{"2 h"}) {
		t.Errorf("duree = %q", got)
	}
	if len(res.Get("materiel")) != 3 || len(res.Headings) < 10 || len(res.Links) != 7 {
		t.Errorf("materiel %q, %d headings, links %q", res.Get("materiel"), len(res.Headings), res.Links)
	}
	for _, w := range []string{`<a href="/wiki/accessibilite">Accessibilité</a>`, `<img src="/wiki/f/-/schema-boutons.png"`, `id="etape-1-decouverte-de-l-appareil"`} {
		if !strings.Contains(string(res.HTML), w) {
			t.Errorf("missing %q", w)
		}
	}
}
