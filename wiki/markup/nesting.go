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
