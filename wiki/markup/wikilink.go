package markup

import (
	"bytes"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// maxWikiLink is the longest [[…]] recognised, brackets included; longer
// ones are text. It keeps "[[[[…" from costing more than linear time.
const maxWikiLink = 1024

// kindWikiLink is the AST kind of a [[link]]. Like every goldmark node
// kind it is a package variable set once when the package loads and never
// changed.
var kindWikiLink = ast.NewNodeKind("PlacetteWikiLink")

// wikiLink is a [[Title]] or [[Title|label]] in the AST.
type wikiLink struct {
	ast.BaseInline
	target, label []byte // trimmed, as written; label is nil without "|"
	slug          string
	start, end    int  // the whole [[…]] in the parsed source
	escapedPipe   bool // "\|" separated target and label (inside a table)
	missing       bool // set by the transformer: the page does not exist
	plain         bool // set by the transformer: inside a link, shown as text
}

// Kind returns kindWikiLink.
func (n *wikiLink) Kind() ast.NodeKind { return kindWikiLink }

// Dump prints the node for goldmark's debugging.
func (n *wikiLink) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{
		"Target": string(n.target), "Label": string(n.label), "Slug": n.slug,
	}, nil)
}

// text returns what the reader sees: the label, else the target.
func (n *wikiLink) text() []byte {
	if len(n.label) > 0 {
		return n.label
	}
	return n.target
}

// wikiParser is the inline parser of [[links]]. It runs before goldmark's
// link parser, which would otherwise take the "[".
type wikiParser struct{}

// Trigger returns "[".
func (wikiParser) Trigger() []byte { return []byte{'['} }

// Parse reads a [[link]] at the reader's position, or returns nil.
func (wikiParser) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	line, seg := block.PeekLine()
	m, ok := scanWikiLink(line)
	if !ok {
		return nil
	}
	n := &wikiLink{
		target:      m.target,
		label:       m.label,
		slug:        m.slug,
		start:       seg.Start,
		end:         seg.Start + m.n,
		escapedPipe: m.escapedPipe,
	}
	block.Advance(m.n)
	return n
}

// wikiMatch is a [[link]] found at the start of a line.
type wikiMatch struct {
	n             int // bytes taken
	target, label []byte
	slug          string
	escapedPipe   bool
}

// scanWikiLink reads "[[target]]" or "[[target|label]]" at the start of
// line. Target and label are on one line and hold no "[" or "]"; the first
// "|" (or "\|", as tables need) separates them. A target whose slug is
// empty is no link.
func scanWikiLink(line []byte) (wikiMatch, bool) {
	var m wikiMatch
	if len(line) < 5 || line[0] != '[' || line[1] != '[' {
		return m, false
	}
	pipe := -1
	end := -1
	for i := 2; i < len(line) && i < maxWikiLink; i++ {
		c := line[i]
		if c == ']' {
			if i+1 < len(line) && line[i+1] == ']' {
				end = i
			}
			break
		}
		if c == '[' || c == '\n' || c == '\r' {
			break
		}
		if c == '|' && pipe < 0 {
			pipe = i
		}
	}
	if end < 0 {
		return m, false
	}
	m.n = end + 2
	if pipe < 0 {
		m.target = bytes.TrimSpace(line[2:end])
	} else {
		t := line[2:pipe]
		if len(t) > 0 && t[len(t)-1] == '\\' {
			t = t[:len(t)-1]
			m.escapedPipe = true
		}
		m.target = bytes.TrimSpace(t)
		m.label = bytes.TrimSpace(line[pipe+1 : end])
	}
	m.slug = Slug(string(m.target))
	if m.slug == "" {
		return m, false
	}
	return m, true
}

// Links returns the [[links]] of src, in order, skipping code spans and
// code blocks, escaped brackets ("\[[…]]") and the front matter. It reads
// src with the same parser as Render, so what it returns is exactly what
// Render turns into links. Offsets are into src as given.
func Links(src []byte) []Link {
	return defaultRenderer().Links(src)
}

// Links is the method form of the package function Links.
func (r *Renderer) Links(src []byte) []Link {
	found := r.wikiLinks(src)
	if len(found) == 0 {
		return nil
	}
	links := make([]Link, len(found))
	for i, n := range found {
		links[i] = Link{
			Start:  n.start,
			End:    n.end,
			Target: strings.ToValidUTF8(string(n.target), "\uFFFD"),
			Label:  strings.ToValidUTF8(string(n.label), "\uFFFD"),
			Slug:   n.slug,
		}
	}
	return links
}

// wikiLinks parses src and returns its [[link]] nodes, offsets into src.
func (r *Renderer) wikiLinks(src []byte) []*wikiLink {
	if len(src) > MaxSize {
		src = src[:MaxSize]
	}
	_, body, _ := splitFrontMatter(src)
	offset := len(src) - len(body)
	doc := r.parser.Parse(text.NewReader(body))
	var found []*wikiLink
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if w, ok := n.(*wikiLink); ok && entering {
			w.start += offset
			w.end += offset
			found = append(found, w)
		}
		return ast.WalkContinue, nil
	})
	return found
}

// RewriteLinks returns src with every [[link]] to the page slug from
// pointed at the title to instead, labels kept ("[[Old]]" becomes
// "[[New|Old]]" so the text reads the same), and how many it changed.
// Characters that would end or split a link ("[", "]", "|", line breaks)
// or change how the text around it reads ("`", "<", ">", "\") become
// spaces in to, which leaves its slug unchanged. Everything outside the
// rewritten links is kept byte for byte.
func RewriteLinks(src []byte, from, to string) ([]byte, int) {
	return defaultRenderer().RewriteLinks(src, from, to)
}

// RewriteLinks is the method form of the package function RewriteLinks.
func (r *Renderer) RewriteLinks(src []byte, from, to string) ([]byte, int) {
	to = linkTitle(to)
	if from == "" || Slug(to) == "" {
		return src, 0
	}
	var out []byte
	last, changed := 0, 0
	for _, n := range r.wikiLinks(src) {
		if n.slug != from {
			continue
		}
		shown := string(n.text())
		sep := "|"
		if n.escapedPipe {
			sep = `\|`
		}
		repl := "[[" + to + sep + shown + "]]"
		if shown == to {
			repl = "[[" + to + "]]"
		}
		if len(repl) >= maxWikiLink {
			continue // it would no longer read as a link
		}
		if out == nil {
			out = make([]byte, 0, len(src)+64)
		}
		out = append(out, src[last:n.start]...)
		out = append(out, repl...)
		last = n.end
		changed++
	}
	if changed == 0 {
		return src, 0
	}
	return append(out, src[last:]...), changed
}

// linkTitle makes a title safe to write inside [[…]].
func linkTitle(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '[', ']', '|', '`', '<', '>', '\\':
			return ' '
		}
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return strings.Join(strings.Fields(s), " ")
}
