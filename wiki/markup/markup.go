package markup

import (
	"bytes"
	"errors"
	"html/template"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// MaxSize is the largest page source Render accepts, in bytes.
const MaxSize = 512 << 10

// ErrTooLarge is returned for a source larger than MaxSize.
var ErrTooLarge = errors.New("the page is too large")

// Resolver tells the renderer which pages exist, so that links to missing
// pages are marked and lead to creating them.
type Resolver interface {
	// Exists reports whether a page has the slug.
	Exists(slug string) bool
}

// Options are the settings of one rendering.
type Options struct {
	// Resolver tells which [[links]] lead to existing pages; can be nil
	// (every page exists).
	Resolver Resolver
	// Attachment returns the URL of a file attached to the page, for a
	// relative link or image such as ![](plan.png); can be nil (relative
	// links are left as they are). It gets the file name as written,
	// "./" and percent-encoding removed, without query or fragment; it
	// returns "" to leave the URL as written.
	Attachment func(name string) string
}

// Field is one key of a page's front matter, with its values in order
// (a YAML list gives several; a scalar one).
type Field struct {
	Key    string
	Values []string
}

// Heading is a section heading of a page, for the table of contents.
type Heading struct {
	Level int    // 1 to 6
	ID    string // its anchor, accents folded ("etape-2")
	Text  string // its plain text
}

// Link is a [[Title]] or [[Title|label]] link in a page's source.
type Link struct {
	Start, End int    // byte offsets of the whole [[…]] in the source
	Target     string // the title as written
	Label      string // the label after "|", or "" when there is none
	Slug       string // Slug(Target)
}

// Result is a rendered page.
type Result struct {
	HTML     template.HTML // the body, sanitised
	Title    string        // front matter "title", else the first level-1 heading, else ""
	Fields   []Field       // the front matter, in the order written
	Tags     []string      // front matter "tags", normalised
	Links    []string      // slugs of the [[links]], in order, each once
	External []string      // absolute http(s) and mailto URLs the page links to, each once
	Headings []Heading     // every heading, in order
}

// Get returns the values of the front matter key, or nil.
func (r *Result) Get(key string) []string {
	for _, f := range r.Fields {
		if f.Key == key {
			return f.Values
		}
	}
	return nil
}

// Renderer renders pages. It holds the markdown parser, the HTML renderer
// and the sanitiser, all built once by New; it is safe for concurrent use.
type Renderer struct {
	parser   parser.Parser
	renderer renderer.Renderer
	policy   *bluemonday.Policy
	key      parser.ContextKey // where a rendering's *state is kept in the parser context
	bufs     sync.Pool         // *bytes.Buffer for the unsanitised HTML
}

// New builds a Renderer. Building one costs far more than a rendering;
// keep it.
func New() *Renderer {
	r := &Renderer{policy: newPolicy(), key: parser.NewContextKey()}
	r.bufs.New = func() any { return new(bytes.Buffer) }

	blocks := append(parser.DefaultBlockParsers(),
		util.Prioritized(extension.NewFootnoteBlockParser(), 999),
		util.Prioritized(extension.NewDefinitionListParser(), 101),
		util.Prioritized(extension.NewDefinitionDescriptionParser(), 102),
	)
	inlines := append(parser.DefaultInlineParsers(),
		util.Prioritized(extension.NewTaskCheckBoxParser(), 0),
		util.Prioritized(extension.NewFootnoteParser(), 101),
		util.Prioritized(wikiParser{}, 199), // before goldmark's link parser (200)
		util.Prioritized(extension.NewStrikethroughParser(), 500),
		util.Prioritized(extension.NewLinkifyParser(
			extension.WithLinkifyAllowedProtocols([]string{"http:", "https:"})), 999),
		util.Prioritized(newTypographer(), 9999),
	)
	r.parser = parser.NewParser(
		parser.WithBlockParsers(limitDepth(blocks)...),
		parser.WithInlineParsers(inlines...),
		parser.WithParagraphTransformers(
			util.Prioritized(chunkedLinkRefs{parser.LinkReferenceParagraphTransformer}, 100),
			util.Prioritized(extension.NewTableParagraphTransformer(), 200)),
		parser.WithASTTransformers(
			util.Prioritized(extension.NewTableASTTransformer(), 0),
			util.Prioritized(extension.NewFootnoteASTTransformer(), 999),
			util.Prioritized(&transformer{key: r.key}, 1000),
		),
	)
	r.renderer = renderer.NewRenderer(renderer.WithNodeRenderers(
		util.Prioritized(html.NewRenderer(), 1000),
		util.Prioritized(extension.NewFootnoteHTMLRenderer(), 500),
		util.Prioritized(extension.NewDefinitionListHTMLRenderer(), 500),
		util.Prioritized(extension.NewTableHTMLRenderer(
			extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)), 500),
		util.Prioritized(extension.NewStrikethroughHTMLRenderer(), 500),
		util.Prioritized(extension.NewTaskCheckBoxHTMLRenderer(), 500),
		util.Prioritized(nodeRenderer{}, 100), // wins over the ones above
	))
	return r
}

// defaultRenderer is the Renderer of the package functions. It is built
// on first use and never changed after.
var defaultRenderer = sync.OnceValue(New)

// Render renders src with a Renderer shared by the package. It fails on a
// source larger than MaxSize (ErrTooLarge) and on front matter that is not
// a YAML mapping (an error wrapping ErrFrontMatter; see Renderer.Render).
func Render(src []byte, opt Options) (*Result, error) {
	return defaultRenderer().Render(src, opt)
}

// Render renders src: front matter, then markdown to sanitised HTML.
//
// It fails only on a source larger than MaxSize (ErrTooLarge, no Result)
// and on front matter that is not a YAML mapping: then it returns a
// *FrontMatterError (wrapping ErrFrontMatter) AND a Result, whose body
// shows the front matter as a code block above the page, so a stored page
// whose front matter broke can still be read. Anything else renders:
// invalid UTF-8 becomes U+FFFD, raw HTML is shown as text, dangerous URLs
// are dropped, nesting is bounded.
func (r *Renderer) Render(src []byte, opt Options) (*Result, error) {
	if len(src) > MaxSize {
		return nil, ErrTooLarge
	}
	src = validUTF8(src)
	fm, body, hasFM := splitFrontMatter(src)
	res := &Result{}
	var err error
	if hasFM {
		res.Fields, err = parseFrontMatter(fm)
		if err != nil {
			body = fenceFrontMatter(fm, body)
		}
	}
	if t := res.Get("title"); len(t) > 0 {
		res.Title = t[0]
	}
	res.Tags = normaliseTags(res.Get("tags"))

	st := &state{opt: opt, res: res}
	pc := parser.NewContext()
	pc.Set(r.key, st)
	doc := r.parser.Parse(text.NewReader(body), parser.WithContext(pc))
	if res.Title == "" {
		res.Title = st.firstH1
	}

	buf := r.bufs.Get().(*bytes.Buffer)
	defer r.putBuf(buf)
	if rerr := r.renderer.Render(buf, body, doc); rerr != nil {
		// goldmark's renderers fail only when the writer does, and a
		// bytes.Buffer does not.
		return nil, rerr
	}
	var out strings.Builder
	out.Grow(buf.Len() + buf.Len()/8)
	if serr := r.policy.SanitizeReaderToWriter(buf, &out); serr != nil {
		return nil, serr
	}
	res.HTML = template.HTML(out.String())
	return res, err
}

// putBuf returns buf to the pool unless a huge page made it huge.
func (r *Renderer) putBuf(buf *bytes.Buffer) {
	if buf.Cap() > 4*MaxSize {
		return
	}
	buf.Reset()
	r.bufs.Put(buf)
}

// validUTF8 returns src with invalid UTF-8 and NUL bytes replaced by
// U+FFFD, or src itself when there are none.
func validUTF8(src []byte) []byte {
	if utf8.Valid(src) && bytes.IndexByte(src, 0) < 0 {
		return src
	}
	src = bytes.ToValidUTF8(src, []byte("\uFFFD"))
	return bytes.ReplaceAll(src, []byte{0}, []byte("\uFFFD"))
}

// fenceFrontMatter puts front matter that did not parse back above the
// body, as a fenced code block.
func fenceFrontMatter(fm, body []byte) []byte {
	longest, run := 0, 0
	for _, c := range fm {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	var b bytes.Buffer
	b.Grow(len(fm) + len(body) + 2*len(fence) + 16)
	b.WriteString(fence + "yaml\n")
	b.Write(fm)
	if len(fm) > 0 && fm[len(fm)-1] != '\n' {
		b.WriteByte('\n')
	}
	b.WriteString(fence + "\n\n")
	b.Write(body)
	return b.Bytes()
}

// state is what one rendering gathers; the transformer finds it in the
// parser context.
type state struct {
	opt      Options
	res      *Result
	firstH1  string
	exists   map[string]bool // Resolver answers, by slug
	ids      map[string]bool // heading ids given
	idNext   map[string]int  // the last suffix given to a base id
	links    map[string]bool // slugs in res.Links
	external map[string]bool // URLs in res.External
}

// pageExists asks the Resolver once per slug.
func (st *state) pageExists(slug string) bool {
	if st.opt.Resolver == nil {
		return true
	}
	if e, ok := st.exists[slug]; ok {
		return e
	}
	if st.exists == nil {
		st.exists = make(map[string]bool)
	}
	e := st.opt.Resolver.Exists(slug)
	st.exists[slug] = e
	return e
}

// addLink records a [[link]]'s slug.
func (st *state) addLink(slug string) {
	if st.links[slug] {
		return
	}
	if st.links == nil {
		st.links = make(map[string]bool)
	}
	st.links[slug] = true
	st.res.Links = append(st.res.Links, slug)
}

// addExternal records an external URL.
func (st *state) addExternal(u string) {
	if st.external[u] {
		return
	}
	if st.external == nil {
		st.external = make(map[string]bool)
	}
	st.external[u] = true
	st.res.External = append(st.res.External, u)
}

// headingID returns a free id for a heading whose text slugs to base:
// base, else base-1, base-2…
func (st *state) headingID(base string) string {
	if base == "" {
		base = "section"
	}
	if st.ids == nil {
		st.ids = make(map[string]bool)
		st.idNext = make(map[string]int)
	}
	id := base
	if st.ids[id] {
		// Start after the last suffix given to base: a thousand headings
		// with the same text must not cost a million tries.
		i := st.idNext[base]
		for {
			i++
			id = base + "-" + strconv.Itoa(i)
			if !st.ids[id] {
				break
			}
		}
		st.idNext[base] = i
	}
	st.ids[id] = true
	return id
}
