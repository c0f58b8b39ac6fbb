package wiki

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"codeberg.org/placette/placette/internal/control"
	"codeberg.org/placette/placette/internal/store"
	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/wiki/antispam"
	"codeberg.org/placette/placette/wiki/markup"
)

//go:embed templates locales
var embedded embed.FS

// Default limits.
const (
	// DefaultMaxFileBytes is the largest attachment accepted by default.
	DefaultMaxFileBytes = 8 << 20
	// DefaultCacheBytes bounds the memory of the rendering caches.
	DefaultCacheBytes = 16 << 20
	// noIndexFor is how long a page changed by an anonymous writer asks
	// search engines not to index it.
	noIndexFor = 7 * 24 * time.Hour
)

// Config is what the wiki is built from.
type Config struct {
	DB     *store.DB
	Shell  *web.Shell
	Logger *slog.Logger
	// Now is the clock; can be nil (time.Now).
	Now func() time.Time
	// Indexer is told of every changed page inside its write transaction;
	// can be nil (no search index).
	Indexer Indexer
	// MaxFileBytes limits an attachment's size; 0 means
	// DefaultMaxFileBytes.
	MaxFileBytes int64
	// CacheBytes bounds the memory of the rendering caches; 0 means
	// DefaultCacheBytes.
	CacheBytes int
}

// Wiki is placette's open-write wiki: its store, its pages and its
// commands. It is safe for concurrent use.
type Wiki struct {
	cfg    Config
	shell  *web.Shell
	logger *slog.Logger
	store  *pageStore
	guard  *antispam.Guard
	pages  *web.Templates
	now    func() time.Time

	results   *lru // slug -> *rendered: the markup of current revisions
	responses *lru // slug + "\x00" + lang -> *cachedPage: whole anonymous pages
}

// New builds the wiki over cfg.DB, running its migrations, and registers
// its navigation and administration entries with cfg.Shell.
func New(cfg Config) (*Wiki, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = DefaultMaxFileBytes
	}
	if cfg.CacheBytes <= 0 {
		cfg.CacheBytes = DefaultCacheBytes
	}
	st, err := openStore(cfg.DB, cfg.Indexer)
	if err != nil {
		return nil, fmt.Errorf("open the wiki: %w", err)
	}
	guard, err := antispam.New(cfg.DB, cfg.Shell)
	if err != nil {
		return nil, fmt.Errorf("open the wiki's defences: %w", err)
	}
	locales, err := fs.Sub(embedded, "locales")
	if err != nil {
		return nil, err
	}
	if err := cfg.Shell.AddCatalog(locales); err != nil {
		return nil, fmt.Errorf("wiki catalog: %w", err)
	}
	pages, err := cfg.Shell.Parse(embedded, "templates/*.html")
	if err != nil {
		return nil, err
	}
	cfg.Shell.AddNav(web.NavLink{Path: "/wiki/", TitleKey: "wiki.nav"})
	cfg.Shell.AddAdminLink(web.AdminLink{Path: "/wiki/-/recent", TitleKey: "wiki.admin.title", TextKey: "wiki.admin.summary"})
	return &Wiki{
		cfg:       cfg,
		shell:     cfg.Shell,
		logger:    cfg.Logger,
		store:     st,
		guard:     guard,
		pages:     pages,
		now:       cfg.Now,
		results:   newLRU(cfg.CacheBytes / 4),
		responses: newLRU(cfg.CacheBytes - cfg.CacheBytes/4),
	}, nil
}

// Run does the wiki's housekeeping until ctx is done.
func (w *Wiki) Run(ctx context.Context) { <-ctx.Done() }

// Recent returns the newest changes for the home page.
func (w *Wiki) Recent(ctx context.Context, viewer *web.User, n int) ([]web.RecentItem, error) {
	seen := map[string]bool{}
	chs, err := w.store.changes(4*n, time.Time{}, func(c *Change) bool {
		if seen[c.Slug] {
			return false
		}
		seen[c.Slug] = true
		p := w.store.page(c.Slug)
		return p.Live()
	})
	if err != nil {
		return nil, err
	}
	var out []web.RecentItem
	for _, c := range chs {
		if len(out) == n {
			break
		}
		p := w.store.page(c.Slug)
		out = append(out, web.RecentItem{Title: p.Title, URL: pageURL(c.Slug), Who: c.Author, When: c.Time})
	}
	return out, nil
}

var _ web.Recent = (*Wiki)(nil)

// ServeCall runs the "wiki" command of the control socket: Args[0] is
// "import" (a zip archive of markdown files on Stdin) or "export" (a zip
// archive written to Stdout), progress on Stderr.
func (w *Wiki) ServeCall(ctx context.Context, c *control.Call) error {
	if len(c.Args) == 0 {
		return errors.New("wiki: say import or export")
	}
	switch c.Args[0] {
	case "import":
		if len(c.Args) != 1 {
			return errors.New("wiki import: the archive comes on the input")
		}
		_, err := w.Import(ctx, c.Stdin, c.Stderr)
		return err
	case "export":
		if len(c.Args) != 1 {
			return errors.New("wiki export takes no argument")
		}
		return w.Export(ctx, c.Stdout, c.Stderr)
	}
	return fmt.Errorf("wiki: unknown command %q", c.Args[0])
}

var _ control.Handler = (*Wiki)(nil)

// pageURL returns the path of the page slug.
func pageURL(slug string) string { return "/wiki/" + url.PathEscape(slug) }

// validSlug reports whether s can name a page.
func validSlug(s string) bool {
	return s != "" && s != "-" && len(s) <= 200 && utf8.ValidString(s) &&
		!strings.ContainsAny(s, "/\\\x00") && s[0] != '-' && s != "." && s != ".."
}

// slugOf returns the slug of the request's {slug} and whether it names a
// page; a slug that is not in its canonical form is answered with a
// redirect to the canonical one.
func (w *Wiki) slugOf(rw http.ResponseWriter, r *http.Request) (string, bool) {
	slug := r.PathValue("slug")
	if !validSlug(slug) {
		w.shell.NotFound(rw, r)
		return "", false
	}
	if c := markup.Slug(slug); c != slug && validSlug(c) && r.Method == http.MethodGet {
		u := *r.URL
		u.Path = strings.Replace(u.Path, "/wiki/"+slug, "/wiki/"+c, 1)
		u.RawPath = ""
		http.Redirect(rw, r, u.RequestURI(), http.StatusMovedPermanently)
		return "", false
	}
	return slug, true
}

// writer returns who is behind r, for a revision.
func (w *Wiki) writer(r *http.Request, pseudonym string) Writer {
	// The same keyed hash as the guard's log of refused edits, so that
	// moderators can match them.
	addr := w.guard.AddrHash(r)
	if u := web.UserFrom(r.Context()); u != nil {
		return Writer{Author: u.Login, Addr: addr}
	}
	return Writer{Author: cleanPseudonym(pseudonym), Anonymous: true, Addr: addr}
}

// cleanPseudonym keeps at most 40 printable characters of what a writer
// chose to be called.
func cleanPseudonym(s string) string {
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	n := 0
	for _, c := range strings.TrimSpace(s) {
		if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '<' || c == '>' {
			continue
		}
		if n == 40 {
			break
		}
		b.WriteRune(c)
		n++
	}
	return strings.TrimSpace(b.String())
}

// pseudoCookie remembers the pseudonym an anonymous writer chose.
const pseudoCookie = "wiki_pseudo"

func (w *Wiki) pseudonym(r *http.Request) string {
	if c, err := r.Cookie(pseudoCookie); err == nil {
		if v, err := url.QueryUnescape(c.Value); err == nil {
			return cleanPseudonym(v)
		}
	}
	return ""
}

func (w *Wiki) rememberPseudonym(rw http.ResponseWriter, r *http.Request, p string) {
	if web.UserFrom(r.Context()) != nil || p == w.pseudonym(r) {
		return
	}
	c := &http.Cookie{Name: pseudoCookie, Value: url.QueryEscape(p), Path: "/wiki/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: w.shell.Secure(), MaxAge: 365 * 24 * 3600}
	if p == "" {
		c.MaxAge = -1
	}
	http.SetCookie(rw, c)
}

// access is what the person behind r may do to a page.
type access int

const (
	accessEdit  access = iota // may edit
	accessLogin               // must log in first
	accessNo                  // may not (read-only wiki or protected page)
)

// access tells whether the person behind r may edit p (nil: a new page),
// and if not, the catalog key of why.
func (w *Wiki) access(r *http.Request, p *Page) (access, string) {
	u := web.UserFrom(r.Context())
	if u.Staff() {
		return accessEdit, ""
	}
	switch w.guard.Mode() {
	case antispam.ModeReadOnly:
		return accessNo, "wiki.error.readonly"
	case antispam.ModeAccounts:
		if u == nil {
			return accessLogin, ""
		}
	}
	if p != nil && p.Live() && p.Protected {
		return accessNo, "wiki.error.protected"
	}
	return accessEdit, ""
}

// refuse answers a person who may not edit: to the login page, or a 403.
func (w *Wiki) refuse(rw http.ResponseWriter, r *http.Request, a access) {
	if a == accessLogin {
		next := r.URL.RequestURI()
		if r.Method != http.MethodGet {
			next = r.URL.Path
		}
		http.Redirect(rw, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	w.shell.Error(rw, r, web.ErrForbidden)
}

// guardHTML renders the guard's hidden fields and question for a form.
func (w *Wiki) guardHTML(r *http.Request, f antispam.Form) template.HTML {
	p := w.shell.Printer(r)
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<input type="hidden" name="%s" value="%s">`, antispam.FieldToken, esc(f.Token))
	fmt.Fprintf(&b, "\n"+`<div class="hp" aria-hidden="true"><label for="wiki-hp">%s</label> <input id="wiki-hp" name="%s" type="text" value="" tabindex="-1" autocomplete="off"></div>`,
		esc(p.T("wiki.guard.honeypot")), antispam.FieldHoneypot)
	if q := f.Question; q != nil {
		fmt.Fprintf(&b, "\n"+`<input type="hidden" name="%s" value="%s">`, antispam.FieldQuestion, esc(q.ID))
		fmt.Fprintf(&b, "\n"+`<p class="question"><label for="wiki-answer">%s</label> <span class="hint" id="wiki-answer-hint">%s</span></p>`+"\n"+`<input id="wiki-answer" name="%s" required autocomplete="off" aria-describedby="wiki-answer-hint">`,
			esc(q.Text), esc(p.T("wiki.guard.hint")), antispam.FieldAnswer)
	}
	return template.HTML(b.String())
}

// invalidate drops the cached renderings of the pages slugs.
func (w *Wiki) invalidate(slugs ...string) {
	langs := w.shell.Catalog().Langs()
	for _, s := range slugs {
		w.results.drop(s)
		for _, l := range langs {
			w.responses.drop(s + "\x00" + l)
		}
	}
}

// afterWrite drops what a committed write made stale.
func (w *Wiki) afterWrite(res *txResult) {
	if res != nil {
		w.invalidate(res.changed...)
	}
}

// IndexDocs calls fn with the search document of every live page, for a
// rebuild of the search index, and stops at the first error fn returns.
func (w *Wiki) IndexDocs(ctx context.Context, fn func(*IndexDoc) error) error {
	for _, p := range w.store.all() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !p.Live() {
			continue
		}
		src, err := w.store.source(p)
		if err != nil {
			return fmt.Errorf("page %q: %w", p.Slug, err)
		}
		if err := fn(&IndexDoc{Slug: p.Slug, Title: p.Title, Tags: p.Tags, Source: src, Updated: p.Updated}); err != nil {
			return err
		}
	}
	return nil
}
