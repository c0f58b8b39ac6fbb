package markup

import (
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// maxBlockDepth is how many blocks deep a block may open (a list item in
// a list counts two). Beyond it, what would open a quote, a list or any
// other block is read as text. goldmark checks every open block on every
// line, so without a bound 100,000 ">" or "- " on one line take minutes.
const maxBlockDepth = 48

// depthLimited wraps a block parser so that it opens nothing deeper than
// maxBlockDepth.
type depthLimited struct {
	parser.BlockParser
}

// Open opens a block unless parent is already maxBlockDepth deep.
func (d depthLimited) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	depth := 0
	for n := parent; n != nil; n = n.Parent() {
		depth++
		if depth > maxBlockDepth {
			return nil, parser.NoChildren
		}
	}
	return d.BlockParser.Open(parent, reader, pc)
}

// SetOption passes options to the wrapped parser.
func (d depthLimited) SetOption(name parser.OptionName, value any) {
	if so, ok := d.BlockParser.(parser.SetOptioner); ok {
		so.SetOption(name, value)
	}
}

// limitDepth wraps the block parsers of ps that have triggers. Those
// without (paragraphs, indented code) are left alone: they must always be
// able to take a line, and they hold no blocks, so they add at most one
// level.
func limitDepth(ps []util.PrioritizedValue) []util.PrioritizedValue {
	out := make([]util.PrioritizedValue, len(ps))
	for i, p := range ps {
		bp := p.Value.(parser.BlockParser)
		if bp.Trigger() != nil {
			bp = depthLimited{bp}
		}
		out[i] = util.Prioritized(bp, p.Priority)
	}
	return out
}

// linkRefChunk is how many lines of a paragraph goldmark's link reference
// transformer is given at a time.
const linkRefChunk = 64

// chunkedLinkRefs wraps goldmark's link reference definition transformer
// ("[label]: url" lines at the start of a paragraph). goldmark copies the
// rest of the paragraph after each definition it finds, so 70,000
// definitions in a row take seconds; this hands it the paragraph a chunk
// of lines at a time, cut before a line that starts with "[", so that
// every definition it reads is whole.
type chunkedLinkRefs struct {
	inner parser.ParagraphTransformer
}

// Transform implements parser.ParagraphTransformer.
func (c chunkedLinkRefs) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	source := reader.Source()
	lines := node.Lines()
	start := 0 // lines before start were definitions
	for {
		cut := chunkEnd(lines, start, source)
		if cut < 0 {
			break
		}
		head := ast.NewParagraph()
		hl := text.NewSegments()
		hl.AppendAll(lines.Sliced(start, cut))
		head.SetLines(hl)
		head.SetBlankPreviousLines(start == 0 && node.HasBlankPreviousLines())
		parent := node.Parent()
		parent.InsertBefore(parent, node, head)
		c.inner.Transform(head, reader, pc)
		consumed := cut - start
		if head.Parent() != nil {
			consumed -= head.Lines().Len()
			parent.RemoveChild(parent, head)
		}
		if consumed == 0 {
			break // no definition at start: the rest is text
		}
		// A definition cut by the chunk's end is read whole on the next
		// turn, which starts with it.
		start += consumed
	}
	if start > 0 {
		rest := text.NewSegments()
		rest.AppendAll(lines.Sliced(start, lines.Len()))
		node.SetLines(rest)
		node.SetBlankPreviousLines(false)
		if rest.Len() == 0 {
			node.Parent().RemoveChild(node.Parent(), node)
			return
		}
	}
	c.inner.Transform(node, reader, pc)
}

// chunkEnd returns the first line from start+linkRefChunk on that starts
// with "[" (after up to three spaces), or -1.
func chunkEnd(lines *text.Segments, start int, source []byte) int {
	for i := start + linkRefChunk; i < lines.Len(); i++ {
		seg := lines.At(i)
		line := seg.Value(source)
		j := 0
		for j < 3 && j < len(line) && line[j] == ' ' {
			j++
		}
		if j < len(line) && line[j] == '[' {
			return i
		}
	}
	return -1
}
