package wiki

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"codeberg.org/placette/placette/internal/web"
)

// recentSize is how many changes the recent changes show.
const recentSize = 100

type recentPage struct {
	Changes  []Change
	Author   string
	Addr     string
	Staff    bool
	Since    string // the revert form's default date, YYYY-MM-DD
	Done     []revertOutcome
	Reverted bool
}

// URL returns the path of the page of c.
func (recentPage) URL(c Change) string { return pageURL(c.Slug) }

// filterChanges returns the filter of recent changes by author and
// address; "" matches everyone.
func filterChanges(author, addr string) func(*Change) bool {
	return func(c *Change) bool {
		return (author == "" || c.Author == author) && (addr == "" || c.Addr == addr)
	}
}

func (w *Wiki) recent(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := recentPage{
		Author: strings.ToValidUTF8(q.Get("author"), ""),
		Addr:   strings.ToValidUTF8(q.Get("addr"), ""),
		Staff:  web.UserFrom(r.Context()).Staff(),
		Since:  w.now().AddDate(0, 0, -1).Format("2006-01-02T15:04:05"),
	}
	var err error
	data.Changes, err = w.store.changes(recentSize, time.Time{}, filterChanges(data.Author, data.Addr))
	if err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	if !data.Staff {
		// Hashed addresses are for moderators only.
		data.Addr = ""
		for i := range data.Changes {
			data.Changes[i].Addr = ""
		}
	}
	w.shell.RenderNoIndex(rw, r, http.StatusOK, w.pages, "recent.html", data)
}

// baseURL returns the absolute URL of the site r reached (see
// web.Shell.BaseURL: forwarded headers only from a trusted proxy).
func (w *Wiki) baseURL(r *http.Request) string { return w.shell.BaseURL(r) }

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type atomEntry struct {
	Title   string     `xml:"title"`
	ID      string     `xml:"id"`
	Updated string     `xml:"updated"`
	Author  atomAuthor `xml:"author"`
	Links   []atomLink `xml:"link"`
	Summary string     `xml:"summary"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

func (w *Wiki) recentAtom(rw http.ResponseWriter, r *http.Request) {
	p := w.shell.Printer(r)
	chs, err := w.store.changes(50, time.Time{}, nil)
	if err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	base := w.baseURL(r)
	feed := atomFeed{
		Title: p.T("wiki.recent.feed_title", w.shell.Settings().Name),
		ID:    base + "/wiki/-/recent.atom",
		Links: []atomLink{{Rel: "self", Href: base + "/wiki/-/recent.atom", Type: "application/atom+xml"}, {Rel: "alternate", Href: base + "/wiki/-/recent", Type: "text/html"}},
	}
	updated := time.Unix(0, 0).UTC()
	for _, c := range chs {
		if c.Time.After(updated) {
			updated = c.Time
		}
		link := base + pageURL(c.Slug)
		if c.Rev > 1 && (c.Kind == "edit" || c.Kind == "restore") {
			link = base + pageURL(c.Slug) + "/diff?" + url.Values{"from": {fmt.Sprint(c.Rev - 1)}, "to": {fmt.Sprint(c.Rev)}}.Encode()
		}
		who := c.Author
		if who == "" {
			who = p.T("wiki.anonymous")
		}
		summary := p.T("wiki.kind."+c.Kind) + " — " + c.Summary
		feed.Entries = append(feed.Entries, atomEntry{
			Title:   c.Title,
			ID:      fmt.Sprintf("%s%s#rev-%d-%d", base, pageURL(c.Slug), c.Rev, c.Time.UnixNano()),
			Updated: c.Time.UTC().Format(time.RFC3339),
			Author:  atomAuthor{Name: who},
			Links:   []atomLink{{Href: link}},
			Summary: strings.TrimSuffix(summary, " — "),
		})
	}
	feed.Updated = updated.UTC().Format(time.RFC3339)
	out, err := xml.MarshalIndent(feed, "", " ")
	if err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	rw.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	rw.Write([]byte(xml.Header))
	rw.Write(out)
}

// revertOutcome says what reverting did to one page.
type revertOutcome struct {
	Slug   string
	Title  string
	Action string // catalog key: wiki.revert.restored, .deleted, .skipped
	Rev    int
}

// revert undoes every change by an author or an address since a date, on
// every page where all the changes since then are theirs.
func (w *Wiki) revert(rw http.ResponseWriter, r *http.Request) {
	author := strings.ToValidUTF8(r.PostFormValue("author"), "")
	addr := strings.ToValidUTF8(r.PostFormValue("addr"), "")
	since, err := parseSince(r.PostFormValue("since"))
	if err != nil || (author == "" && addr == "") {
		w.shell.Error(rw, r, web.ErrBadRequest)
		return
	}
	done, err := w.revertSince(author, addr, since, w.writer(r, ""))
	if err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	data := recentPage{Author: author, Addr: addr, Staff: true, Done: done, Reverted: true, Since: since.Format("2006-01-02")}
	if len(r.PostFormValue("since")) > 10 {
		data.Since = r.PostFormValue("since")
	}
	data.Changes, err = w.store.changes(recentSize, time.Time{}, filterChanges(author, addr))
	if err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	w.shell.RenderNoIndex(rw, r, http.StatusOK, w.pages, "recent.html", data)
}

// parseSince reads the date of the revert form: a day, or a day and a time
// of day (as <input type="datetime-local"> sends it), in local time.
func parseSince(s string) (time.Time, error) {
	var err error
	for _, layout := range []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		var t time.Time
		if t, err = time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("revert since %q: %w", s, err)
}

// revertSince is revert's work; it returns what it did to each page.
func (w *Wiki) revertSince(author, addr string, since time.Time, by Writer) ([]revertOutcome, error) {
	match := filterChanges(author, addr)
	var slugs []string
	seen := map[string]bool{}
	_, err := w.store.changes(1<<30, time.Time{}, func(c *Change) bool {
		if !c.Time.Before(since) && match(c) && !seen[c.Slug] {
			seen[c.Slug] = true
			slugs = append(slugs, c.Slug)
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	var out []revertOutcome
	for _, slug := range slugs {
		p := w.store.page(slug)
		if !p.Live() {
			continue
		}
		revs, err := w.store.revisions(slug)
		if err != nil {
			return out, err
		}
		// revs is newest first: find the newest revision before since, and
		// check that every later one is theirs.
		theirs := true
		var before *Revision
		for i := range revs {
			rv := &revs[i]
			if rv.Time.Before(since) {
				before = rv
				break
			}
			if !match(&Change{Author: rv.Author, Addr: rv.Addr}) {
				theirs = false
				break
			}
		}
		o := revertOutcome{Slug: slug, Title: p.Title}
		switch {
		case !theirs:
			o.Action = "wiki.revert.skipped"
		case before == nil:
			o.Action = "wiki.revert.deleted"
			if err := w.store.deletePage(slug, by, "revert", w.now()); err != nil && !errors.Is(err, ErrNotFound) {
				return out, err
			}
			w.invalidate(slug)
			w.invalidateLinking(slug)
		default:
			full, err := w.store.revision(slug, before.Rev)
			if err != nil {
				return out, err
			}
			o.Action, o.Rev = "wiki.revert.restored", before.Rev
			if err := w.restoreRev(slug, full, by, fmt.Sprintf("revert %s%s → %d", author, addr, before.Rev)); err != nil && !errors.Is(err, ErrUnchanged) {
				return out, err
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// invalidateLinking drops the cached renderings of the pages linking to
// slug.
func (w *Wiki) invalidateLinking(slug string) {
	bl, _ := w.store.backlinks(slug)
	w.invalidate(bl...)
}
