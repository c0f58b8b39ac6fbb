package markup

import (
	"bytes"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// nodeRenderer writes [[links]], and raw HTML as text.
//
// Raw HTML is never interpreted. goldmark without WithUnsafe writes an
// HTML comment in its place, which hides what the writer typed; placette
// shows it escaped instead, so "<b>" reads as "<b>" and the writer sees
// that HTML is not how to format here. An HTML block is shown as a
// preformatted block (<pre class="raw-html">). HTML comments, meant to be
// invisible, stay invisible (the source keeps them).
type nodeRenderer struct{}

// RegisterFuncs implements renderer.NodeRenderer.
func (nodeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindWikiLink, renderWikiLink)
	reg.Register(ast.KindRawHTML, renderRawHTML)
	reg.Register(ast.KindHTMLBlock, renderHTMLBlock)
}

// renderWikiLink writes <a href="/wiki/slug">label</a>; for a missing
// page, <a href="/wiki/slug/edit" class="new" rel="nofollow">, so that
// following it creates the page (and crawlers do not). The href is built
// from the slug alone, [a-z0-9-], and the label is escaped text.
func renderWikiLink(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*wikiLink)
	if n.plain {
		_, _ = w.Write(util.EscapeHTML(n.text()))
		return ast.WalkSkipChildren, nil
	}
	_, _ = w.WriteString(`<a href="/wiki/`)
	_, _ = w.WriteString(n.slug)
	if n.missing {
		_, _ = w.WriteString(`/edit" class="new" rel="nofollow">`)
	} else {
		_, _ = w.WriteString(`">`)
	}
	_, _ = w.Write(util.EscapeHTML(n.text()))
	_, _ = w.WriteString(`</a>`)
	return ast.WalkSkipChildren, nil
}

// renderRawHTML writes inline raw HTML as escaped text.
func renderRawHTML(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*ast.RawHTML)
	if n.Segments.Len() > 0 && bytes.HasPrefix(source[n.Segments.At(0).Start:], []byte("<!--")) {
		return ast.WalkSkipChildren, nil
	}
	for i := 0; i < n.Segments.Len(); i++ {
		seg := n.Segments.At(i)
		_, _ = w.Write(util.EscapeHTML(seg.Value(source)))
	}
	return ast.WalkSkipChildren, nil
}

// renderHTMLBlock writes an HTML block as escaped preformatted text.
func renderHTMLBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.HTMLBlock)
	if n.HTMLBlockType == ast.HTMLBlockType2 { // <!-- comment -->
		return ast.WalkContinue, nil
	}
	if entering {
		_, _ = w.WriteString(`<pre class="raw-html"><code>`)
		for i := 0; i < n.Lines().Len(); i++ {
			line := n.Lines().At(i)
			_, _ = w.Write(util.EscapeHTML(line.Value(source)))
		}
		return ast.WalkContinue, nil
	}
	if n.HasClosure() {
		_, _ = w.Write(util.EscapeHTML(n.ClosureLine.Value(source)))
	}
	_, _ = w.WriteString("</code></pre>\n")
	return ast.WalkContinue, nil
}
