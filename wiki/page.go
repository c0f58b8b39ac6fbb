package wiki

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"

	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/wiki/markup"
)

// ficheKeys are the front matter keys of a fiche atelier, in the order of
// its summary card; each has a label "wiki.field.KEY" in the catalogs.
var ficheKeys = []string{"public", "duree", "niveau", "materiel", "objectifs"}

// cardField is a line of a page's summary card.
type cardField struct {
	Key      string // the front matter key
	LabelKey string // catalog key of its label; "" for a key of the writer's own
	Values   []string
}

// pageLink is a link to a page, by title.
type pageLink struct {
	Slug, Title string
}

// URL returns the page's path.
func (l pageLink) URL() string { return pageURL(l.Slug) }

type viewPage struct {
	Page      *Page
	Body      template.HTML
	Card      []cardField
	TOC       []markup.Heading
	Backlinks []pageLink
	Files     []File
	Merged    string // author whose edit this one was merged with
	Merge     bool
	Saved     bool
	From      string // the slug a redirect came from
	CanEdit   bool
	Staff     bool
}

// URL returns the page's path.
func (v viewPage) URL() string { return pageURL(v.Page.Slug) }

type missingPage struct {
	Slug     string
	Title    string
	Deleted  bool
	CanEdit  bool
	EditPath string
}

func (w *Wiki) view(rw http.ResponseWriter, r *http.Request) {
	slug, ok := w.slugOf(rw, r)
	if !ok {
		return
	}
	p := w.store.page(slug)
	if p != nil && p.Redirect != "" {
		if r.URL.Query().Has("from") {
			// A redirect to a redirect goes no further.
			w.shell.NotFound(rw, r)
			return
		}
		http.Redirect(rw, r, pageURL(p.Redirect)+"?from="+url.QueryEscape(slug), http.StatusFound)
		return
	}
	if !p.Live() {
		a, _ := w.access(r, p)
		data := missingPage{Slug: slug, Title: slug, Deleted: p != nil, CanEdit: a != accessNo, EditPath: pageURL(slug) + "/edit"}
		w.shell.RenderNoIndex(rw, r, http.StatusNotFound, w.pages, "missing.html", data)
		return
	}
	user := web.UserFrom(r.Context())
	lang := w.shell.Printer(r).Lang()
	cacheable := user == nil && r.URL.RawQuery == ""
	if cacheable && w.serveCached(rw, r, p, lang) {
		return
	}
	res, err := w.rendering(p)
	if err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	data := viewPage{Page: p, Body: res.HTML, Staff: user.Staff()}
	a, _ := w.access(r, p)
	data.CanEdit = a != accessNo
	for _, k := range ficheKeys {
		if v := p.Get(k); len(v) > 0 {
			data.Card = append(data.Card, cardField{Key: k, LabelKey: "wiki.field." + k, Values: v})
		}
	}
	for _, f := range p.Fields {
		if f.Key == "title" || f.Key == "tags" || slices.Contains(ficheKeys, f.Key) || len(f.Values) == 0 {
			continue
		}
		data.Card = append(data.Card, cardField{Key: f.Key, Values: f.Values})
	}
	var toc []markup.Heading
	for _, h := range res.Headings {
		if h.Level >= 2 && h.Level <= 3 {
			toc = append(toc, h)
		}
	}
	if len(toc) >= 3 {
		data.TOC = toc
	}
	bl, err := w.store.backlinks(slug)
	if err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	for _, s := range bl {
		if q := w.store.page(s); q.Live() {
			data.Backlinks = append(data.Backlinks, pageLink{Slug: s, Title: q.Title})
		}
	}
	if data.Files, err = w.store.files(slug); err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	q := r.URL.Query()
	data.Merge = q.Has("merged")
	data.Merged = cleanPseudonym(q.Get("merged"))
	data.Saved = q.Has("saved")
	if from := q.Get("from"); validSlug(from) {
		data.From = from
	}
	noIndex := !p.LastAnon.IsZero() && w.now().Sub(p.LastAnon) < noIndexFor
	if cacheable {
		w.renderCached(rw, r, p, lang, noIndex, data)
		return
	}
	if noIndex {
		w.shell.RenderNoIndex(rw, r, http.StatusOK, w.pages, "page.html", data)
		return
	}
	w.shell.Render(rw, r, http.StatusOK, w.pages, "page.html", data)
}

// raw serves a page's markdown, or one revision's with ?rev=N.
func (w *Wiki) raw(rw http.ResponseWriter, r *http.Request) {
	slug, ok := w.slugOf(rw, r)
	if !ok {
		return
	}
	p := w.store.page(slug)
	rev := 0
	if p != nil {
		rev = p.Rev
	}
	if v := r.URL.Query().Get("rev"); v != "" {
		rev = atoi(v)
	} else if !p.Live() {
		w.shell.NotFound(rw, r)
		return
	}
	rv, err := w.store.revision(slug, rev)
	if err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", "text/markdown; charset=utf-8")
	h.Set("Content-Disposition", contentDisposition("inline", slug+".md"))
	rw.Write([]byte(rv.Source))
}
