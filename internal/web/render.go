package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// Templates is a set of pages parsed with the shared layout, in the
// default language at start: a template that does not parse stops
// placette before it serves anything. A page is parsed in another language
// the first time it is shown in it: most sites are read in French only,
// and a copy of every page per language doubled the memory the templates
// hold (6.5 of the 9 MB of heap a server keeps at rest).
type Templates struct {
	shell *Shell
	fsys  fs.FS
	files map[string]string             // page name -> its file in fsys
	pages map[string]*template.Template // page name -> layout+page in DefaultLang; never changes after Parse

	mu     sync.RWMutex
	others map[string]*template.Template // lang + "/" + page name -> layout+page, parsed on first use
}

// layoutFiles are the templates every page is parsed with.
const layoutGlob = "templates/layout/*.html"

// Parse parses every page matching glob in fsys (for example
// "templates/*.html"), each together with the shell's layout. A page file
// defines "title" and "content"; it may define "head".
func (s *Shell) Parse(fsys fs.FS, glob string) (*Templates, error) {
	names, err := fs.Glob(fsys, glob)
	if err != nil {
		return nil, fmt.Errorf("list templates %s: %w", glob, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no template matches %s", glob)
	}
	t := &Templates{shell: s, fsys: fsys, files: map[string]string{}, pages: map[string]*template.Template{}, others: map[string]*template.Template{}}
	for _, name := range names {
		page, err := s.parsePage(fsys, name, DefaultLang)
		if err != nil {
			return nil, err
		}
		t.files[path.Base(name)] = name
		t.pages[path.Base(name)] = page
	}
	return t, nil
}

// parsePage parses the page file name of fsys with the layout, its
// functions speaking lang.
func (s *Shell) parsePage(fsys fs.FS, name, lang string) (*template.Template, error) {
	page := template.New(path.Base(name)).Funcs(s.funcs(s.catalog.Printer(lang)))
	if _, err := page.ParseFS(embedded, layoutGlob); err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	if _, err := page.ParseFS(fsys, name); err != nil {
		return nil, fmt.Errorf("parse template %s: %w", name, err)
	}
	return page, nil
}

// page returns the page name in lang, a language of the catalog, parsing
// it if it is the first time it is shown in lang.
func (t *Templates) page(lang, name string) (*template.Template, error) {
	if lang == DefaultLang {
		// Read without a lock: most pages served are in it.
		if page, ok := t.pages[name]; ok {
			return page, nil
		}
		return nil, fmt.Errorf("unknown template %s", name)
	}
	key := lang + "/" + name
	t.mu.RLock()
	page, ok := t.others[key]
	t.mu.RUnlock()
	if ok {
		return page, nil
	}
	file, ok := t.files[name]
	if !ok {
		return nil, fmt.Errorf("unknown template %s", name)
	}
	// It parsed in the default language at start: the files are
	// embedded, so only a bug of the catalog's functions could fail here.
	page, err := t.shell.parsePage(t.fsys, file, lang)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if first, ok := t.others[key]; ok {
		return first, nil // parsed meanwhile by another request
	}
	t.others[key] = page
	return page, nil
}

func (s *Shell) funcs(p *Printer) template.FuncMap {
	return template.FuncMap{
		"t":        p.T,
		"n":        p.N,
		"date":     p.Date,
		"datetime": p.DateTime,
		"asset":    s.assets.URL,
		"isodate":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}
}

// View is what a page template receives: the request's context for the
// layout, and the page's own Data.
type View struct {
	Lang    string      // the page's language, for <html lang>
	Path    string      // the request path, for the language switch
	User    *User       // the person logged in; can be nil
	Site    Settings    // the site's name, hoster, terms…
	Langs   []string    // the languages to switch to
	Nav     []NavLink   // the packages' entries of the navigation
	Admin   []AdminLink // the administration's index, for staff
	NoIndex bool        // ask search engines not to index the page
	Now     time.Time   // the time the page is made
	Data    any         // the page's own data

	shell *Shell
	w     http.ResponseWriter
	r     *http.Request
	csrf  string
}

// CSRF returns the token a form of this page must carry in its "csrf"
// field. It sets the CSRF cookie when the browser has none yet.
func (v *View) CSRF() string {
	if v.csrf == "" {
		v.csrf = v.shell.csrfToken(v.w, v.r)
	}
	return v.csrf
}

// Current returns the aria-current value of a navigation link to p: "page"
// on that very page, "true" inside the section that p, ending in "/", heads
// ("/wiki/" on "/wiki/x"), else "" (no attribute).
func (v *View) Current(p string) string {
	cur := v.r.URL.Path
	switch {
	case cur == p:
		return "page"
	case p != "/" && strings.HasSuffix(p, "/") && strings.HasPrefix(cur, p):
		return "true"
	}
	return ""
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Render executes page name of t in the request's language with data, and
// writes it with status. The page is rendered to a buffer first, so that a
// template error becomes a clean 500 page.
func (s *Shell) Render(w http.ResponseWriter, r *http.Request, status int, t *Templates, name string, data any) {
	s.render(w, r, status, t, name, data, false)
}

// RenderNoIndex is Render for a page that search engines should not index.
func (s *Shell) RenderNoIndex(w http.ResponseWriter, r *http.Request, status int, t *Templates, name string, data any) {
	s.render(w, r, status, t, name, data, true)
}

func (s *Shell) render(w http.ResponseWriter, r *http.Request, status int, t *Templates, name string, data any, noIndex bool) {
	p := s.Printer(r)
	tmpl, err := t.page(p.Lang(), name)
	if err != nil {
		s.logger.Error("template not shown", "template", name, "lang", p.Lang(), "error", err)
		s.serverError(w, r)
		return
	}
	user := UserFrom(r.Context())
	v := &View{
		Lang:    p.Lang(),
		Path:    r.URL.RequestURI(),
		User:    user,
		Site:    s.Settings(),
		Langs:   s.catalog.Langs(),
		Nav:     s.navLinks(),
		NoIndex: noIndex,
		Now:     s.now(),
		Data:    data,
		shell:   s,
		w:       w,
		r:       r,
	}
	if user != nil && user.Staff() {
		v.Admin = s.adminLinks(user)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := tmpl.ExecuteTemplate(buf, "layout", v); err != nil {
		s.logger.Error("render page", "template", name, "error", err)
		s.serverError(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if user != nil || v.csrf != "" {
		// A page made for one person, or carrying a token, is not for shared caches.
		h.Set("Cache-Control", "private, no-cache")
	}
	if noIndex {
		h.Set("X-Robots-Tag", "noindex")
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
