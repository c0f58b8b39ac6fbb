package wiki

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/wiki/antispam"
)

type historyPage struct {
	Slug      string
	Title     string
	Page      *Page
	Revisions []Revision
	CanEdit   bool
	Staff     bool
}

// URL returns the page's path.
func (h historyPage) URL() string { return pageURL(h.Slug) }

func (w *Wiki) history(rw http.ResponseWriter, r *http.Request) {
	slug, p, ok := w.historyOf(rw, r)
	if !ok {
		return
	}
	revs, err := w.store.revisions(slug)
	if err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	a, _ := w.access(r, p)
	user := web.UserFrom(r.Context())
	data := historyPage{Slug: slug, Title: p.Title, Page: p, Revisions: revs, CanEdit: a != accessNo, Staff: user.Staff()}
	w.shell.RenderNoIndex(rw, r, http.StatusOK, w.pages, "history.html", data)
}

type diffPage struct {
	Slug     string
	Title    string
	From, To *Revision
	Diff     diffView
}

// URL returns the page's path.
func (d diffPage) URL() string { return pageURL(d.Slug) }

func (w *Wiki) diff(rw http.ResponseWriter, r *http.Request) {
	slug, p, ok := w.historyOf(rw, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	to := p.Rev
	if q.Has("to") {
		to = atoi(q.Get("to"))
	}
	from := to - 1
	if q.Has("from") {
		from = atoi(q.Get("from"))
	}
	if from > to {
		from, to = to, from
	}
	data := diffPage{Slug: slug, Title: p.Title}
	var err error
	if data.To, err = w.store.revision(slug, to); err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	oldSrc := ""
	if from > 0 {
		if data.From, err = w.store.revision(slug, from); err != nil {
			w.shell.Error(rw, r, err)
			return
		}
		oldSrc = data.From.Source
	}
	data.Diff = lineDiff(oldSrc, data.To.Source)
	w.shell.RenderNoIndex(rw, r, http.StatusOK, w.pages, "diff.html", data)
}

type restorePage struct {
	Slug      string
	Title     string
	Rev       *Revision
	Summary   string
	Pseudonym string
	Anonymous bool
	Guard     template.HTML
	Error     string
}

// URL returns the page's path.
func (rp restorePage) URL() string { return pageURL(rp.Slug) }

func (w *Wiki) restoreForm(rw http.ResponseWriter, r *http.Request) {
	slug, p, ok := w.historyOf(rw, r)
	if !ok {
		return
	}
	if a, _ := w.access(r, p); a != accessEdit {
		w.refuse(rw, r, a)
		return
	}
	rv, err := w.store.revision(slug, atoi(r.URL.Query().Get("rev")))
	if err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	user := web.UserFrom(r.Context())
	data := restorePage{Slug: slug, Title: p.Title, Rev: rv, Anonymous: user == nil, Pseudonym: w.pseudonym(r),
		Guard: w.guardHTML(r, w.guard.Form(rw, r, user, slug))}
	w.shell.RenderNoIndex(rw, r, http.StatusOK, w.pages, "restore.html", data)
}

func (w *Wiki) restore(rw http.ResponseWriter, r *http.Request) {
	slug, p, ok := w.historyOf(rw, r)
	if !ok {
		return
	}
	if a, _ := w.access(r, p); a != accessEdit {
		w.refuse(rw, r, a)
		return
	}
	rv, err := w.store.revision(slug, atoi(r.PostFormValue("rev")))
	if err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	user := web.UserFrom(r.Context())
	data := restorePage{Slug: slug, Title: p.Title, Rev: rv, Anonymous: user == nil,
		Summary: strings.ToValidUTF8(strings.TrimSpace(r.PostFormValue("summary")), "\uFFFD"), Pseudonym: strings.ToValidUTF8(r.PostFormValue("pseudonym"), "")}
	old, err := w.store.source(p)
	if err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	v := w.guard.Check(r.Context(), rw, r, antispam.Edit{Slug: slug, Create: !p.Live(), User: user, Old: old, New: rv.Source, Summary: data.Summary, Pseudonym: cleanPseudonym(data.Pseudonym)})
	if !v.OK {
		data.Error = v.Reason
		data.Guard = w.guardHTML(r, v.Form)
		w.shell.RenderNoIndex(rw, r, statusOfReason(v.Reason), w.pages, "restore.html", data)
		return
	}
	summary := data.Summary
	if summary == "" {
		summary = w.shell.Printer(r).T("wiki.restore.summary", rv.Rev)
	}
	wr := w.writer(r, data.Pseudonym)
	if err := w.restoreRev(slug, rv, wr, summary); err != nil && !errors.Is(err, ErrUnchanged) {
		w.shell.Error(rw, r, err)
		return
	}
	web.Redirect(rw, r, pageURL(slug)+"?saved")
}

// restoreRev makes a new revision of slug with the text of rv.
func (w *Wiki) restoreRev(slug string, rv *Revision, wr Writer, summary string) error {
	res, err := w.render(slug, rv.Source)
	if err != nil {
		return fmt.Errorf("render revision %d of %q: %w", rv.Rev, slug, err)
	}
	_, txr, err := w.store.save(saveReq{Slug: slug, Base: -1, Source: rv.Source, Result: res, Title: rv.Title, Writer: wr, Summary: summary, Kind: "restore", Now: w.now()})
	w.afterWrite(txr)
	return err
}

// protect protects a page from edits by others than staff, or lifts it.
func (w *Wiki) protect(rw http.ResponseWriter, r *http.Request) {
	slug, ok := w.slugOf(rw, r)
	if !ok {
		return
	}
	on := r.PostFormValue("protect") == "1"
	if err := w.store.setProtected(slug, on, w.writer(r, ""), w.now()); err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	w.invalidate(slug)
	web.Redirect(rw, r, pageURL(slug))
}

// historyOf returns the slug of r and its page, which has a history: a
// page that exists or existed, not a redirect left by a rename. Otherwise
// it answers 404 (or a redirect to the canonical slug) and ok is false.
func (w *Wiki) historyOf(rw http.ResponseWriter, r *http.Request) (string, *Page, bool) {
	slug, ok := w.slugOf(rw, r)
	if !ok {
		return "", nil, false
	}
	p := w.store.page(slug)
	if p == nil || p.Redirect != "" {
		w.shell.NotFound(rw, r)
		return "", nil, false
	}
	return slug, p, true
}
