package markup

import (
	"bytes"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// nbsp is the no-break space French typography puts inside « » and before
// ; : ! ?. placette uses U+00A0 everywhere rather than the narrow U+202F
// that the Imprimerie nationale prefers before ; ! ?: every font has
// U+00A0, old phones' fonts do not all have U+202F, and the interface's
// catalogs use U+00A0 too, so a page reads the same as the screens
// around it.
const nbsp = "\u00a0"

// Typographer substitutions, as text (not entities) so that headings and
// plain text read the same as the page.
const (
	openQuote  = "«" + nbsp
	closeQuote = nbsp + "»"
)

// frenchTypography adapts goldmark's typographer to French: "…" and
// <<…>> become « … » with no-break spaces inside, ' between letters an
// apostrophe ’, ... an ellipsis, -- and --- dashes.
func frenchTypography() extension.TypographerOption {
	return extension.WithTypographicSubstitutions(map[extension.TypographicPunctuation]string{
		extension.LeftDoubleQuote:  openQuote,
		extension.RightDoubleQuote: closeQuote,
		extension.LeftAngleQuote:   openQuote,
		extension.RightAngleQuote:  closeQuote,
		extension.LeftSingleQuote:  "‘",
		extension.RightSingleQuote: "’",
		extension.Apostrophe:       "’",
		extension.Ellipsis:         "…",
		extension.EnDash:           "–",
		extension.EmDash:           "—",
	})
}

// mergeTexts joins t with the Text siblings that follow it in the source
// without a break (goldmark cuts text at every character an inline parser
// might want, "!" and spaces included), so that a space and the "!" after
// it are in one node.
func mergeTexts(t *ast.Text) {
	for {
		next, ok := t.NextSibling().(*ast.Text)
		if !ok || next.IsRaw() || t.IsRaw() || t.SoftLineBreak() || t.HardLineBreak() ||
			next.Segment.Start != t.Segment.Stop || next.Segment.Padding != 0 {
			return
		}
		t.Segment = t.Segment.WithStop(next.Segment.Stop)
		t.SetSoftLineBreak(next.SoftLineBreak())
		t.SetHardLineBreak(next.HardLineBreak())
		t.Parent().RemoveChild(t.Parent(), next)
	}
}

// frenchSpaces puts no-break spaces where French wants them in a text
// node: a run of spaces before ; : ! ? » or after « becomes one no-break
// space; spaces next to a « or » the typographer made (which carry their
// own) are dropped. A space is needed: "Bonjour!" stays as written, and
// "Bonjour \!" keeps its plain space. Code and URLs are not text nodes,
// so they are never touched.
func frenchSpaces(t *ast.Text, source []byte) {
	seg := t.Segment
	if prev, ok := t.PreviousSibling().(*ast.String); ok && bytes.HasSuffix(prev.Value, []byte(openQuote)) {
		seg = seg.TrimLeftSpace(source)
	}
	if next, ok := t.NextSibling().(*ast.String); ok && bytes.HasPrefix(next.Value, []byte(closeQuote)) &&
		!t.SoftLineBreak() && !t.HardLineBreak() {
		seg = seg.TrimRightSpace(source)
	}
	v := seg.Value(source)
	type cut struct{ from, to int } // spaces v[from:to] become one nbsp
	var cuts []cut
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == ' ' || c == '\t':
			j := i + 1
			for j < len(v) && (v[j] == ' ' || v[j] == '\t') {
				j++
			}
			if j < len(v) && (bytes.IndexByte([]byte(";:!?"), v[j]) >= 0 || bytes.HasPrefix(v[j:], []byte("»"))) {
				cuts = append(cuts, cut{i, j})
			}
			i = j - 1
		case c == 0xC2 && i+1 < len(v) && v[i+1] == 0xAB: // «
			j := i + 2
			k := j
			for k < len(v) && (v[k] == ' ' || v[k] == '\t') {
				k++
			}
			if k > j && k < len(v) {
				cuts = append(cuts, cut{j, k})
			}
			i = k - 1
		}
	}
	if len(cuts) == 0 {
		if seg != t.Segment {
			t.Segment = seg
		}
		return
	}
	parent := t.Parent()
	last := 0
	for _, c := range cuts {
		if c.from > last {
			parent.InsertBefore(parent, t, ast.NewTextSegment(text.NewSegment(seg.Start+last, seg.Start+c.from)))
		}
		s := ast.NewString([]byte(nbsp))
		s.SetCode(true)
		parent.InsertBefore(parent, t, s)
		last = c.to
	}
	// t keeps the rest, and its line break.
	t.Segment = seg.WithStart(seg.Start + last)
}

// typographer wraps goldmark's typographer. goldmark scans a whole run of
// quotes at each quote of the run, so a line of 500,000 '"' would take
// minutes; a run of two or more of the same quote is left as written,
// taken in one step.
type typographer struct {
	parser.InlineParser
}

// newTypographer returns goldmark's typographer with French substitutions,
// wrapped.
func newTypographer() typographer {
	return typographer{extension.NewTypographerParser(frenchTypography())}
}

// Parse takes a run of quotes as text, and passes anything else on.
func (t typographer) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	line, seg := block.PeekLine()
	if len(line) > 1 && (line[0] == '"' || line[0] == '\'') && line[1] == line[0] {
		n := 2
		for n < len(line) && line[n] == line[0] {
			n++
		}
		block.Advance(n)
		return ast.NewTextSegment(text.NewSegment(seg.Start, seg.Start+n))
	}
	return t.InlineParser.Parse(parent, block, pc)
}
