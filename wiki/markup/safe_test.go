package markup

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// checkSafe fails the test when out is not safe HTML (see unsafeHTML).
func checkSafe(t testing.TB, out string) {
	t.Helper()
	if msg := unsafeHTML(out); msg != "" {
		t.Errorf("%s in\n%s", msg, out)
	}
}

// unsafeHTML parses out as a browser would and says what is wrong with
// it, or "": invalid UTF-8, an element that runs or embeds code, an event
// handler or style attribute, or a URL attribute whose scheme is not
// http, https, mailto or tel.
func unsafeHTML(out string) string {
	if !utf8.ValidString(out) {
		return "invalid UTF-8"
	}
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(out), body)
	if err != nil {
		return "unparsable: " + err.Error()
	}
	var msg string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if msg != "" {
			return
		}
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Script, atom.Style, atom.Iframe, atom.Object, atom.Embed, atom.Form, atom.Link,
				atom.Meta, atom.Base, atom.Svg, atom.Math, atom.Textarea, atom.Button, atom.Select, atom.Frame, atom.Frameset:
				msg = "element <" + n.Data + ">"
				return
			}
			if n.Data == "input" && attr(n, "type") != "checkbox" {
				msg = "input that is not a checkbox"
				return
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				switch {
				case strings.HasPrefix(key, "on"), key == "style", key == "srcdoc", key == "formaction", key == "action":
					msg = "attribute " + a.Key + "=" + a.Val
				case key == "href" || key == "src" || key == "xlink:href" || key == "poster" || key == "background" || key == "cite":
					if kind, _ := classifyURL(a.Val); kind == urlRefused {
						msg = "URL " + a.Key + "=" + a.Val
					}
					v := strings.ToLower(strings.Map(func(r rune) rune {
						if r <= ' ' {
							return -1
						}
						return r
					}, a.Val))
					for _, bad := range []string{"javascript:", "vbscript:", "data:"} {
						if strings.HasPrefix(v, bad) {
							msg = "URL " + a.Key + "=" + a.Val
						}
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return msg
}

// attr returns the value of n's attribute key.
func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func TestHostileInput(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		notWant []string // in the output, case-insensitively
	}{
		{"script tag", "<script>alert(1)</script>", []string{"<script"}},
		{"script block", "<script>\nalert(1)\n</script>\n", []string{"<script"}},
		{"img onerror", `<img src=x onerror="alert(1)">`, []string{"<img"}},
		{"svg onload", `<svg onload=alert(1)>`, []string{"<svg"}},
		{"iframe", `<iframe src="https://evil.example"></iframe>`, []string{"<iframe"}},
		{"style tag", "<style>body{display:none}</style>", []string{"<style"}},
		{"javascript link", "[x](javascript:alert(1))", []string{"javascript"}},
		{"mixed case", "[x](JaVaScRiPt:alert(1))", []string{"javascript"}},
		{"tab inside scheme", "[x](<java\tscript:alert(1)>)", []string{"script:"}},
		{"newline inside scheme", "[x](<java\nscript:alert(1)>)", []string{"href"}},
		{"leading spaces", "[x](<  javascript:alert(1)>)", []string{"javascript"}},
		{"control character", "[x](\x01javascript:alert(1))", []string{"javascript:"}},
		{"numeric entity", "[x](&#106;avascript:alert(1))", []string{"javascript", "href=\"j"}},
		{"hex entity", "[x](&#x6A;avascript&#x3A;alert(1))", []string{"javascript"}},
		{"named entity colon", "[x](javascript&colon;alert(1))", []string{"javascript:"}},
		{"backslash escape", `[x](javascript\:alert(1))`, []string{"javascript:"}},
		{"vbscript", "[x](vbscript:msgbox(1))", []string{"vbscript"}},
		{"data link", "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", []string{"data:"}},
		{"data image", "![x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)", []string{"data:", "<img"}},
		{"javascript image", "![x](javascript:alert(1))", []string{"javascript", "<img"}},
		{"file scheme", "[x](file:///etc/passwd)", []string{"file:"}},
		{"javascript autolink", "<javascript:alert(1)>", []string{"href"}},
		{"data autolink", "<data:text/html,x>", []string{"href"}},
		{"javascript reference", "[x]\n\n[x]: javascript:alert(1)\n", []string{"href"}},
		{"javascript wikilink", "[[javascript:alert(1)]]", []string{`href="javascript`}},
		{"wikilink label html", `[[Accueil|"><script>alert(1)</script>]]`, []string{"<script"}},
		{"wikilink quote in title", `[[a" onmouseover="alert(1)]]`, []string{`" onmouseover`}},
		{"quote in url", `[x](https://a.example/"onmouseover="alert(1))`, []string{`" onmouseover`}},
		{"quote in url title", `[x](https://a.example "t\" onmouseover=\"alert(1)")`, []string{`" onmouseover`}},
		{"quote in image title", `![x](a.png "t\" onerror=\"alert(1)")`, []string{`" onerror`}},
		{"quote in image alt", `![x" onerror="alert(1)](a.png)`, []string{`" onerror`}},
		{"angle in url", `[x](<https://a.example/"><script>>)`, []string{"<script"}},
		{"heading attribute syntax", "# T {#x onclick=alert(1)}", []string{`id="x"`, "<h1 onclick"}},
		{"html entity script", "&lt;script&gt;alert(1)&lt;/script&gt;", []string{"<script"}},
		{"fenced info string", "```\"><script>alert(1)</script>\nx\n```\n", []string{"<script"}},
		{"fenced info class", "``` x\" onclick=\"a\nx\n```\n", []string{"onclick="}},
		{"nul bytes", "a\x00b <scr\x00ipt>", []string{"\x00", "<script"}},
		{"invalid utf-8", "caf\xe9 \xff\xfe [[\xffx]] # \xc3\n", nil},
		{"footnote label", "x[^\"><script>]\n\n[^\"><script>]: n\n", []string{"<script"}},
		{"table cell html", "| <b onclick=x> |\n|---|\n| y |\n", []string{"<b "}},
		{"raw html comment trick", "<!--><script>alert(1)</script>-->", []string{"<script"}},
		{"cdata", "<![CDATA[<script>alert(1)</script>]]>", []string{"<script"}},
		{"processing instruction", "<?php echo 1; ?>", []string{"<?php"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Render([]byte(tt.src), Options{Attachment: func(n string) string { return "/f/" + n }})
			if err != nil {
				t.Fatal(err)
			}
			out := string(res.HTML)
			checkSafe(t, out)
			lower := strings.ToLower(out)
			for _, w := range tt.notWant {
				if strings.Contains(lower, strings.ToLower(w)) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
			for _, e := range res.External {
				if kind, _ := classifyURL(e); kind != urlExternal && kind != urlMail {
					t.Errorf("External has %q", e)
				}
			}
		})
	}
}

func TestHostileFrontMatter(t *testing.T) {
	tests := []struct{ name, src string }{
		{"billion laughs", "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
			"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
			"e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n---\n"},
		{"deep nesting", "---\na: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n---\n"},
		{"deep mapping", "---\n" + deepMapping(200) + "---\n"},
		{"script in value", "---\ntitle: <script>alert(1)</script>\n---\n"},
		{"invalid utf-8 value", "---\ntitle: caf\xe9\n---\n"},
		{"binary tag", "---\na: !!binary gIGC\n---\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Render([]byte(tt.src+"corps"), Options{})
			if err != nil && !errors.Is(err, ErrFrontMatter) {
				t.Fatal(err)
			}
			if res == nil {
				t.Fatal("no result")
			}
			checkSafe(t, string(res.HTML))
			n := 0
			for _, f := range res.Fields {
				if !utf8.ValidString(f.Key) {
					t.Errorf("invalid key %q", f.Key)
				}
				for _, v := range f.Values {
					n += len(v)
					if !utf8.ValidString(v) {
						t.Errorf("invalid value %q", v)
					}
				}
			}
			if n > 10*len(tt.src) {
				t.Errorf("fields hold %d bytes for a %d-byte source", n, len(tt.src))
			}
		})
	}
}

// deepMapping returns n nested YAML mappings.
func deepMapping(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	b.WriteString(strings.Repeat(" ", n) + "v: 1\n")
	return b.String()
}

func TestLimits(t *testing.T) {
	if _, err := Render(make([]byte, MaxSize+1), Options{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxSize+1: err = %v, want ErrTooLarge", err)
	}
	if _, err := Render([]byte(strings.Repeat("a", MaxSize)), Options{}); err != nil {
		t.Errorf("MaxSize: err = %v", err)
	}
	// Each of these used to take from seconds to minutes in goldmark; the
	// test asserts only that they render (go test's own timeout is the
	// bound) and how deep the result nests.
	lines := func(f func(i int) string) string {
		var b strings.Builder
		for i := 0; b.Len() < MaxSize-4096; i++ {
			b.WriteString(f(i))
		}
		return b.String()
	}
	n := MaxSize / 2
	tests := []struct{ name, src string }{
		{"quotes", strings.Repeat(">", MaxSize-2) + " x"},
		{"spaced quotes", strings.Repeat("> ", n-2) + "x"},
		{"list items", strings.Repeat("- ", n-2) + "x"},
		{"ordered items", strings.Repeat("1. ", MaxSize/3-2) + "x"},
		{"indented lists", lines(func(i int) string { return strings.Repeat(" ", i) + "- x\n" })},
		{"growing quotes", lines(func(i int) string { return strings.Repeat(">", i) + " x\n" })},
		{"definitions", "a\n" + strings.Repeat(": ", n-4) + "x"},
		{"brackets", strings.Repeat("[", MaxSize)},
		{"double brackets", strings.Repeat("[[", n)},
		{"links", strings.Repeat("[", MaxSize/5) + "x" + strings.Repeat("](u)", MaxSize/5)},
		{"images", strings.Repeat("![", n)},
		{"emphasis", strings.Repeat("*_", n/2-1) + "x" + strings.Repeat("_*", n/2-1)},
		{"double quotes", strings.Repeat(`"`, MaxSize)},
		{"single quotes", strings.Repeat(`'`, MaxSize)},
		{"reference definitions", strings.Repeat("[a]: b\n", MaxSize/7)},
		{"backticks", strings.Repeat("`a", n)},
		{"footnotes", strings.Repeat("[^", n)},
		{"headings", strings.Repeat("# a\n", MaxSize/4)},
		{"wiki links", strings.Repeat("[[a|b]]", MaxSize/7)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := []byte(tt.src)
			if len(src) > MaxSize {
				t.Fatalf("test source is %d bytes", len(src))
			}
			res, err := Render(src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d := htmlDepth(string(res.HTML)); d > 2*maxBlockDepth+50 {
				t.Errorf("output nests %d deep", d)
			}
			if strings.Contains(tt.name, "brackets") || strings.Contains(tt.name, "links") || strings.Contains(tt.name, "quotes") {
				// Links and PlainText share the parser; check that they
				// too cope with the pages that trouble it most.
				_ = Links(src)
				_ = PlainText(src)
			}
		})
	}
}

// htmlDepth returns how deep the elements of out nest.
func htmlDepth(out string) int {
	z := html.NewTokenizer(strings.NewReader(out))
	depth, deepest := 0, 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return deepest
		case html.StartTagToken:
			depth++
			deepest = max(deepest, depth)
		case html.EndTagToken:
			depth--
		}
	}
}
