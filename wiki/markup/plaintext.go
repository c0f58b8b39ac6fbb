package markup

import (
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// PlainText returns the words of a page, for the search index: the front
// matter's values (one line each), then the body without markup, one
// block a line, code kept, [[links]] as the text they show, raw HTML as
// written. Front matter that does not parse is indexed as written. A
// source larger than MaxSize is cut to MaxSize first.
func PlainText(src []byte) string {
	return defaultRenderer().PlainText(src)
}

// PlainText is the method form of the package function PlainText.
func (r *Renderer) PlainText(src []byte) string {
	if len(src) > MaxSize {
		src = src[:MaxSize]
	}
	src = validUTF8(src)
	var b strings.Builder
	b.Grow(len(src))
	fm, body, ok := splitFrontMatter(src)
	if ok {
		fields, err := parseFrontMatter(fm)
		if err != nil {
			b.Write(fm)
			b.WriteByte('\n')
		}
		for _, f := range fields {
			for _, v := range f.Values {
				b.WriteString(v)
				b.WriteByte('\n')
			}
		}
	}
	doc := r.parser.Parse(text.NewReader(body))
	writeBlocks(&b, doc, body)
	return strings.TrimRight(b.String(), "\n")
}

// writeBlocks writes the text of n's blocks, one a line.
func writeBlocks(b *strings.Builder, n ast.Node, source []byte) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.HTMLBlock:
			if c.HTMLBlockType == ast.HTMLBlockType2 {
				continue
			}
			writeLines(b, c.Lines(), source)
			if c.HasClosure() {
				b.Write(c.ClosureLine.Value(source))
			}
			continue
		case *ast.CodeBlock, *ast.FencedCodeBlock:
			writeLines(b, c.Lines(), source)
			continue
		}
		if c.Type() != ast.TypeBlock {
			continue
		}
		if f := c.FirstChild(); f != nil && f.Type() == ast.TypeInline {
			line := plainInline(c, source)
			if line != "" {
				b.WriteString(line)
				b.WriteByte('\n')
			}
			continue
		}
		writeBlocks(b, c, source)
	}
}

// writeLines writes a block's lines as they are.
func writeLines(b *strings.Builder, lines *text.Segments, source []byte) {
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		b.Write(seg.Value(source))
	}
	if s := b.String(); s != "" && s[len(s)-1] != '\n' {
		b.WriteByte('\n')
	}
}
