package wiki

import (
	"errors"
	"html/template"
	"net/http"
	"strings"
	"unicode/utf8"

	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/wiki/antispam"
	"codeberg.org/placette/placette/wiki/markup"
)

type renamePage struct {
	Slug      string
	Title     string // the page's title now
	NewTitle  string
	Rewrite   bool
	Linking   int // pages linking to it
	Pseudonym string
	Anonymous bool
	Guard     template.HTML
	Error     string
}

// URL returns the page's path.
func (rp renamePage) URL() string { return pageURL(rp.Slug) }

func (w *Wiki) renamePage(rw http.ResponseWriter, r *http.Request) (string, *Page, bool) {
	slug, ok := w.slugOf(rw, r)
	if !ok {
		return "", nil, false
	}
	p := w.store.page(slug)
	if !p.Live() {
		w.shell.NotFound(rw, r)
		return "", nil, false
	}
	if a, _ := w.access(r, p); a != accessEdit {
		w.refuse(rw, r, a)
		return "", nil, false
	}
	return slug, p, true
}

func (w *Wiki) linking(slug string) []string {
	bl, _ := w.store.backlinks(slug)
	var out []string
	for _, s := range bl {
		if w.store.page(s).Live() && s != slug {
			out = append(out, s)
		}
	}
	return out
}

func (w *Wiki) renameForm(rw http.ResponseWriter, r *http.Request) {
	slug, p, ok := w.renamePage(rw, r)
	if !ok {
		return
	}
	user := web.UserFrom(r.Context())
	data := renamePage{Slug: slug, Title: p.Title, NewTitle: p.Title, Rewrite: true, Linking: len(w.linking(slug)),
		Anonymous: user == nil, Pseudonym: w.pseudonym(r), Guard: w.guardHTML(r, w.guard.Form(rw, r, user, slug))}
	w.shell.RenderNoIndex(rw, r, http.StatusOK, w.pages, "rename.html", data)
}

func (w *Wiki) rename(rw http.ResponseWriter, r *http.Request) {
	slug, p, ok := w.renamePage(rw, r)
	if !ok {
		return
	}
	user := web.UserFrom(r.Context())
	data := renamePage{Slug: slug, Title: p.Title, NewTitle: strings.TrimSpace(r.PostFormValue("title")),
		Rewrite: r.PostFormValue("rewrite") == "1", Linking: len(w.linking(slug)), Anonymous: user == nil,
		Pseudonym: strings.ToValidUTF8(r.PostFormValue("pseudonym"), "")}
	again := func(status int, key string, f *antispam.Form) {
		data.NewTitle = strings.ToValidUTF8(data.NewTitle, "\uFFFD")
		data.Error = key
		if f == nil {
			g := w.guard.Form(rw, r, user, slug)
			f = &g
		}
		data.Guard = w.guardHTML(r, *f)
		w.shell.RenderNoIndex(rw, r, status, w.pages, "rename.html", data)
	}
	if !utf8.ValidString(data.NewTitle) {
		again(http.StatusBadRequest, "wiki.error.encoding", nil)
		return
	}
	to := markup.Slug(data.NewTitle)
	if data.NewTitle == "" || len(data.NewTitle) > 200 || !validSlug(to) {
		again(http.StatusUnprocessableEntity, "wiki.error.title", nil)
		return
	}
	if to == slug {
		again(http.StatusUnprocessableEntity, "wiki.error.same_name", nil)
		return
	}
	if q := w.store.page(to); q != nil && !(q.Redirect == slug) {
		again(http.StatusConflict, "wiki.error.exists", nil)
		return
	}
	v := w.guard.Check(r.Context(), rw, r, antispam.Edit{Slug: slug, User: user, Summary: data.NewTitle, Pseudonym: cleanPseudonym(data.Pseudonym)})
	if !v.OK {
		f := v.Form
		again(statusOfReason(v.Reason), v.Reason, &f)
		return
	}
	wr := w.writer(r, data.Pseudonym)
	linking := w.linking(slug)
	txr, err := w.store.rename(slug, to, data.NewTitle, func(src string) (*markup.Result, error) { return w.render(to, src) }, wr, w.now())
	if errors.Is(err, ErrExists) {
		again(http.StatusConflict, "wiki.error.exists", nil)
		return
	}
	if err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	w.afterWrite(txr)
	if data.Rewrite {
		summary := w.shell.Printer(r).T("wiki.rename.rewrite_summary", p.Title, data.NewTitle)
		w.rewriteLinks(linking, slug, data.NewTitle, wr, summary)
	}
	web.Redirect(rw, r, pageURL(to)+"?saved")
}

// rewriteLinks points the [[links]] of the pages slugs at the page from
// to title, each page changed as a new revision.
func (w *Wiki) rewriteLinks(slugs []string, from, title string, wr Writer, summary string) {
	for _, s := range slugs {
		if s == from {
			continue
		}
		for attempt := 0; attempt < 3; attempt++ {
			p := w.store.page(s)
			if !p.Live() {
				break
			}
			src, err := w.store.source(p)
			if err != nil {
				w.logger.Error("rewrite links", "page", s, "error", err)
				break
			}
			out, n := markup.RewriteLinks([]byte(src), from, title)
			if n == 0 {
				break
			}
			res, err := w.render(s, string(out))
			if err != nil {
				w.logger.Error("rewrite links", "page", s, "error", err)
				break
			}
			_, txr, err := w.store.save(saveReq{Slug: s, Base: p.Rev, Source: string(out), Result: res, Writer: wr, Summary: summary, Now: w.now()})
			w.afterWrite(txr)
			var ce *ConflictError
			if errors.As(err, &ce) {
				continue
			}
			if err != nil && !errors.Is(err, ErrUnchanged) {
				w.logger.Error("rewrite links", "page", s, "error", err)
			}
			break
		}
	}
}
