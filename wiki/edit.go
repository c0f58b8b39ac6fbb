package wiki

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/wiki/antispam"
	"codeberg.org/placette/placette/wiki/markup"
)

// editPage is the edit form, fresh or shown again.
type editPage struct {
	Slug       string
	Title      string
	Source     string
	Summary    string
	Pseudonym  string
	Base       int
	Create     bool
	Anonymous  bool
	Guard      template.HTML
	Error      string // catalog key of what went wrong; "" for none
	Conflict   *diffView
	ConflictBy string
	Preview    template.HTML
}

// Action returns the path the form posts to.
func (e editPage) Action() string { return pageURL(e.Slug) + "/edit" }

// URL returns the page's path.
func (e editPage) URL() string { return pageURL(e.Slug) }

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 1<<30 {
		return 0
	}
	return n
}

func (w *Wiki) editForm(rw http.ResponseWriter, r *http.Request) {
	slug, ok := w.slugOf(rw, r)
	if !ok {
		return
	}
	p := w.store.page(slug)
	if a, _ := w.access(r, p); a != accessEdit {
		w.refuse(rw, r, a)
		return
	}
	user := web.UserFrom(r.Context())
	data := editPage{Slug: slug, Anonymous: user == nil, Pseudonym: w.pseudonym(r)}
	if p.Live() {
		src, err := w.store.source(p)
		if err != nil {
			w.shell.Error(rw, r, err)
			return
		}
		data.Source, data.Base, data.Title = src, p.Rev, p.Title
	} else {
		data.Create = true
		q := r.URL.Query()
		title := strings.TrimSpace(strings.ToValidUTF8(q.Get("title"), ""))
		if title == "" {
			title = slug
		}
		data.Title = title
		src, err := w.templateText(q.Get("template"), title)
		if err != nil {
			w.shell.Error(rw, r, err)
			return
		}
		data.Source = src
	}
	data.Guard = w.guardHTML(r, w.guard.Form(rw, r, user, slug))
	w.shell.RenderNoIndex(rw, r, http.StatusOK, w.pages, "edit.html", data)
}

// normalizeText turns CRLF and CR line endings into LF.
func normalizeText(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// statusOfReason chooses the status of a refusal by the guard: 429 for
// rate limits, 422 for the rest.
func statusOfReason(reason string) int {
	switch reason {
	case antispam.ReasonRateAddr, antispam.ReasonRatePage, antispam.ReasonCreates:
		return http.StatusTooManyRequests
	}
	return http.StatusUnprocessableEntity
}

func (w *Wiki) save(rw http.ResponseWriter, r *http.Request) {
	slug, ok := w.slugOf(rw, r)
	if !ok {
		return
	}
	p := w.store.page(slug)
	if a, _ := w.access(r, p); a != accessEdit {
		w.refuse(rw, r, a)
		return
	}
	user := web.UserFrom(r.Context())
	data := editPage{
		Slug:      slug,
		Source:    normalizeText(r.PostFormValue("text")),
		Summary:   strings.TrimSpace(r.PostFormValue("summary")),
		Pseudonym: r.PostFormValue("pseudonym"),
		Base:      atoi(r.PostFormValue("base")),
		Anonymous: user == nil,
		Title:     strings.TrimSpace(r.PostFormValue("title")),
	}
	data.Create = !p.Live()
	again := func(status int, key string, f *antispam.Form) {
		// The form comes back with everything typed kept; bytes that
		// are not UTF-8 show as U+FFFD, so that the page stays valid.
		for _, s := range []*string{&data.Source, &data.Summary, &data.Pseudonym, &data.Title} {
			*s = strings.ToValidUTF8(*s, "\uFFFD")
		}
		data.Error = key
		if f == nil {
			g := w.guard.Form(rw, r, user, slug)
			f = &g
		}
		data.Guard = w.guardHTML(r, *f)
		if status == http.StatusTooManyRequests {
			rw.Header().Set("Retry-After", "60")
		}
		w.shell.RenderNoIndex(rw, r, status, w.pages, "edit.html", data)
	}
	if !utf8.ValidString(data.Source) || !utf8.ValidString(data.Summary) || !utf8.ValidString(data.Pseudonym) || !utf8.ValidString(data.Title) {
		again(http.StatusBadRequest, "wiki.error.encoding", nil)
		return
	}
	if len(data.Summary) > 500 {
		again(http.StatusBadRequest, "wiki.error.summary", nil)
		return
	}
	if len(data.Source) > markup.MaxSize {
		again(http.StatusRequestEntityTooLarge, "wiki.error.too_large", nil)
		return
	}
	if strings.TrimSpace(data.Source) == "" {
		again(http.StatusUnprocessableEntity, "wiki.error.empty", nil)
		return
	}
	res, err := w.render(slug, data.Source)
	if err != nil {
		if errors.Is(err, markup.ErrTooLarge) {
			again(http.StatusRequestEntityTooLarge, "wiki.error.too_large", nil)
			return
		}
		again(http.StatusUnprocessableEntity, "wiki.error.front_matter", nil)
		return
	}
	if r.PostFormValue("preview") != "" {
		data.Preview = res.HTML
		again(http.StatusOK, "", nil)
		return
	}
	old := ""
	if p.Live() {
		if old, err = w.store.source(p); err != nil {
			w.shell.Error(rw, r, err)
			return
		}
	}
	v := w.guard.Check(r.Context(), rw, r, antispam.Edit{Slug: slug, Create: !p.Live(), User: user, Old: old, New: data.Source, Summary: data.Summary, Pseudonym: cleanPseudonym(data.Pseudonym)})
	if !v.OK {
		f := v.Form
		again(statusOfReason(v.Reason), v.Reason, &f)
		return
	}
	wr := w.writer(r, data.Pseudonym)
	w.rememberPseudonym(rw, r, wr.Author)
	req := saveReq{Slug: slug, Base: data.Base, Source: data.Source, Result: res, Title: data.Title, Writer: wr, Summary: data.Summary, Now: w.now()}
	mergedWith := ""
	merged := false
	for attempt := 0; ; attempt++ {
		_, txr, err := w.store.save(req)
		if err == nil || errors.Is(err, ErrUnchanged) {
			w.afterWrite(txr)
			to := pageURL(slug)
			if merged {
				to += "?merged=" + url.QueryEscape(mergedWith)
			} else if err == nil {
				to += "?saved"
			}
			web.Redirect(rw, r, to)
			return
		}
		var ce *ConflictError
		if !errors.As(err, &ce) || attempt == 3 {
			w.shell.Error(rw, r, err)
			return
		}
		cur := ce.Current
		curRev, theirs, by := 0, "", ""
		if cur.Live() {
			curRev, by = cur.Rev, cur.Author
			if theirs, err = w.store.source(cur); err != nil {
				w.shell.Error(rw, r, err)
				return
			}
		}
		base := ""
		if req.Base > 0 {
			rv, err := w.store.revision(slug, req.Base)
			if err != nil {
				w.shell.Error(rw, r, err)
				return
			}
			base = rv.Source
		}
		out, clean := merge3(base, theirs, req.Source)
		if req.Base == 0 || curRev == 0 || !clean {
			// Overlapping edits: the writer's text comes back, beside the
			// other edit, based on the current revision so that sending
			// it again saves it.
			data.Base = curRev
			data.Create = curRev == 0
			d := lineDiff(base, theirs)
			data.Conflict = &d
			data.ConflictBy = by
			again(http.StatusConflict, "wiki.error.conflict", nil)
			return
		}
		res, err := w.render(slug, out)
		if err != nil {
			again(http.StatusUnprocessableEntity, "wiki.error.front_matter", nil)
			return
		}
		req.Source, req.Result, req.Base = out, res, curRev
		merged, mergedWith = true, by
	}
}
