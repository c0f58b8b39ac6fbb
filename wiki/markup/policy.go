package markup

import (
	"regexp"

	"github.com/microcosm-cc/bluemonday"
)

// newPolicy returns the sanitiser run on every rendered page, a second
// line behind the renderer: it lets through exactly the elements and
// attributes the renderer writes, and nothing else (no style, no script,
// no event handler, no URL scheme but http, https, mailto and tel). A
// bluemonday policy is safe for concurrent use once built; it is built
// once per Renderer and never changed.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(true)
	p.AllowURLSchemes("http", "https", "mailto", "tel")

	p.AllowElements("p", "br", "hr", "blockquote", "pre", "em", "strong", "del", "sup", "sub",
		"ul", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "div")

	headingID := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	p.AllowAttrs("id").Matching(headingID).OnElements("h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowElements("h1", "h2", "h3", "h4", "h5", "h6")

	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("title").OnElements("a", "img")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^(new|footnote-ref|footnote-backref)$`)).OnElements("a")
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^(nofollow ugc noopener|nofollow)$`)).OnElements("a")
	p.AllowAttrs("role").Matching(regexp.MustCompile(`^(doc-noteref|doc-backlink)$`)).OnElements("a")
	p.AllowAttrs("src", "alt").OnElements("img")
	p.AllowAttrs("loading").Matching(regexp.MustCompile(`^lazy$`)).OnElements("img")

	// Footnotes: <sup id="fnref:1"><a href="#fn:1" …>, <li id="fn:1">,
	// <div class="footnotes" role="doc-endnotes">.
	footnoteID := regexp.MustCompile(`^fn(ref[0-9]*)?:[0-9]+$`)
	p.AllowAttrs("id").Matching(footnoteID).OnElements("sup", "li")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^footnotes$`)).OnElements("div")
	p.AllowAttrs("role").Matching(regexp.MustCompile(`^doc-endnotes$`)).OnElements("div")

	p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]{1,9}$`)).OnElements("ol")
	p.AllowElements("ol")
	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(left|center|right)$`)).OnElements("th", "td")
	p.AllowElements("th", "td")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[A-Za-z0-9_+#.-]{1,40}$`)).OnElements("code")
	p.AllowElements("code")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^raw-html$`)).OnElements("pre")

	// Task lists: <input checked="" disabled="" type="checkbox">.
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^checkbox$`)).OnElements("input")
	p.AllowAttrs("checked", "disabled").Matching(regexp.MustCompile(`^$`)).OnElements("input")
	return p
}
