package markup

import (
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// relExternal is the rel of links to other sites: no search-engine credit
// for what anonymous writers add, no window.opener.
const relExternal = "nofollow ugc noopener"

// transformer does, after parsing, everything a rendering needs beyond
// goldmark: French spaces, URL checks and rewriting, [[link]] resolution,
// heading ids, and gathering the Result's lists. It finds the rendering's
// *state in the parser context; without one (Links) it does nothing.
type transformer struct {
	key parser.ContextKey
}

// Transform implements parser.ASTTransformer.
func (tr *transformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	st, _ := pc.Get(tr.key).(*state)
	if st == nil {
		return
	}
	source := reader.Source()

	// Gather first, change after: changing the tree while walking it
	// would skip nodes.
	var texts []*ast.Text
	var links []ast.Node // *ast.Link, *ast.AutoLink, *ast.Image
	var wikis []*wikiLink
	var headings []*ast.Heading
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.CodeSpan, *ast.CodeBlock, *ast.FencedCodeBlock, *ast.HTMLBlock, *ast.RawHTML:
			return ast.WalkSkipChildren, nil
		case *ast.Text:
			if !n.IsRaw() {
				texts = append(texts, n)
			}
		case *ast.Link, *ast.AutoLink, *ast.Image:
			links = append(links, n)
		case *wikiLink:
			wikis = append(wikis, n)
		case *ast.Heading:
			headings = append(headings, n)
		}
		return ast.WalkContinue, nil
	})

	for _, t := range texts {
		if t.Parent() != nil { // not merged into an earlier one
			mergeTexts(t)
		}
	}
	for _, t := range texts {
		if t.Parent() != nil {
			frenchSpaces(t, source)
		}
	}
	for _, n := range links {
		switch n := n.(type) {
		case *ast.Link:
			st.link(n)
		case *ast.AutoLink:
			st.autoLink(n, source)
		case *ast.Image:
			st.image(n, source)
		}
	}
	for _, w := range wikis {
		st.addLink(w.slug)
		if inLink(w) {
			w.plain = true
			continue
		}
		w.missing = !st.pageExists(w.slug)
	}
	for _, h := range headings {
		t := plainInline(h, source)
		id := st.headingID(Slug(t))
		h.SetAttributeString("id", []byte(id))
		st.res.Headings = append(st.res.Headings, Heading{Level: h.Level, ID: id, Text: t})
		if h.Level == 1 && st.firstH1 == "" {
			st.firstH1 = t
		}
	}
}

// link checks and rewrites a [text](url) link.
func (st *state) link(n *ast.Link) {
	dest := resolveDest(n.Destination)
	kind, u := classifyURL(dest)
	if inLink(n) {
		kind = urlRefused // HTML links do not nest: the inner one is text
	}
	switch kind {
	case urlRefused:
		unwrap(n)
		return
	case urlExternal:
		if u != dest {
			n.Destination = goldmarkDest(u)
		}
		n.SetAttributeString("rel", []byte(relExternal))
		st.addExternal(u)
	case urlMail:
		st.addExternal(u)
	case urlRelative:
		if a, ok := st.attachment(dest); ok {
			n.Destination = goldmarkDest(a)
		}
	}
}

// autoLink checks an <https://…> or bare www./e-mail link.
func (st *state) autoLink(n *ast.AutoLink, source []byte) {
	u := string(n.URL(source))
	if n.AutoLinkType == ast.AutoLinkEmail && !strings.HasPrefix(strings.ToLower(u), "mailto:") {
		u = "mailto:" + u
	}
	kind, _ := classifyURL(u)
	if inLink(n) {
		kind = urlRefused // HTML links do not nest: the inner one is text
	}
	switch kind {
	case urlExternal:
		n.SetAttributeString("rel", []byte(relExternal))
		st.addExternal(u)
	case urlMail:
		st.addExternal(u)
	case urlOther:
	default:
		// <javascript:…> and friends, or a link in a link: the reader
		// sees what was written.
		s := ast.NewString(n.Label(source))
		n.Parent().ReplaceChild(n.Parent(), n, s)
	}
}

// image checks and rewrites an ![alt](url) image. Images come only from
// this site (the Content-Security-Policy would block others anyway): an
// image from another site becomes a link to it, its alt text (or its URL)
// as the link's text; an image with a refused URL becomes its alt text.
func (st *state) image(n *ast.Image, source []byte) {
	dest := resolveDest(n.Destination)
	kind, u := classifyURL(dest)
	switch kind {
	case urlExternal:
		l := ast.NewLink()
		l.Destination = goldmarkDest(u)
		l.Title = n.Title
		for c := n.FirstChild(); c != nil; {
			next := c.NextSibling()
			l.AppendChild(l, c)
			c = next
		}
		if l.ChildCount() == 0 {
			l.AppendChild(l, ast.NewString([]byte(u)))
		}
		n.Parent().ReplaceChild(n.Parent(), n, l)
		st.link(l)
		return
	case urlRelative:
		if a, ok := st.attachment(dest); ok {
			n.Destination = goldmarkDest(a)
		}
	case urlAbsolute:
	default:
		unwrap(n)
		return
	}
	n.SetAttributeString("loading", []byte("lazy"))
}

// attachment maps a relative URL through Options.Attachment.
func (st *state) attachment(dest string) (string, bool) {
	if st.opt.Attachment == nil {
		return "", false
	}
	name := attachmentName(dest)
	if name == "" {
		return "", false
	}
	a := st.opt.Attachment(name)
	if a == "" {
		return "", false
	}
	if kind, _ := classifyURL(a); kind == urlRefused {
		return "", false
	}
	return a, true
}

// resolveDest returns a link destination as goldmark's renderer will
// write it: backslash escapes and character references resolved.
func resolveDest(d []byte) string {
	return string(util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(d))))
}

// goldmarkDest returns a URL written so that goldmark's renderer, which
// resolves escapes and references in destinations, writes it unchanged.
func goldmarkDest(u string) []byte {
	if !strings.ContainsAny(u, `\&`) {
		return []byte(u)
	}
	return []byte(strings.NewReplacer(`\`, `\\`, `&`, `&amp;`).Replace(u))
}

// unwrap replaces n by its children: a link that may not be a link
// becomes its text.
func unwrap(n ast.Node) {
	p := n.Parent()
	for c := n.FirstChild(); c != nil; {
		next := c.NextSibling()
		p.InsertBefore(p, n, c)
		c = next
	}
	p.RemoveChild(p, n)
}

// inLink reports whether n is inside a link (HTML links do not nest).
func inLink(n ast.Node) bool {
	for p := n.Parent(); p != nil; p = p.Parent() {
		switch p.(type) {
		case *ast.Link, *ast.Image:
			return true
		}
	}
	return false
}

// plainInline returns the text of n's inline content: no markup, escapes
// and references resolved, ASCII whitespace runs made one space.
func plainInline(n ast.Node, source []byte) string {
	var b strings.Builder
	writePlain(&b, n, source)
	return collapseSpaces(b.String())
}

// writePlain writes the text of n's children to b.
func writePlain(b *strings.Builder, n ast.Node, source []byte) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			if c.IsRaw() {
				b.Write(c.Segment.Value(source))
			} else {
				b.Write(resolveText(c.Segment.Value(source)))
			}
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			if c.IsCode() || c.IsRaw() {
				b.Write(c.Value)
			} else {
				b.Write(resolveText(c.Value))
			}
		case *ast.CodeSpan:
			for t := c.FirstChild(); t != nil; t = t.NextSibling() {
				if t, ok := t.(*ast.Text); ok {
					b.Write(t.Segment.Value(source))
				}
			}
		case *ast.AutoLink:
			b.Write(c.Label(source))
		case *wikiLink:
			b.Write(c.text())
		case *ast.RawHTML:
			for i := 0; i < c.Segments.Len(); i++ {
				seg := c.Segments.At(i)
				b.Write(seg.Value(source))
			}
		default:
			writePlain(b, c, source)
		}
	}
}

// resolveText resolves backslash escapes and character references, as
// goldmark does when it writes text.
func resolveText(v []byte) []byte {
	return util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(v)))
}

// collapseSpaces trims s and makes every run of ASCII whitespace one
// space; no-break spaces are kept.
func collapseSpaces(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteByte(c)
	}
	return b.String()
}
