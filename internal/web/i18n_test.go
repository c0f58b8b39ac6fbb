package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func loadCatalog(t testing.TB) *Catalog {
	t.Helper()
	locales, err := fs.Sub(embedded, "locales")
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadCatalog(locales)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// loadAllCatalogs returns the shell's catalog with the catalog of every
// package of the repository added: a folder holding fr.json inside a
// folder named "locales" (locales/, or locales/mail/ for a package with
// several catalogs).
func loadAllCatalogs(t testing.TB) *Catalog {
	t.Helper()
	c := loadCatalog(t)
	root := filepath.Join("..", "..")
	own := filepath.Join("internal", "web", "locales")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() || p == root {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(root, p)
		if rel == own || !slices.Contains(strings.Split(filepath.ToSlash(rel), "/"), "locales") {
			return nil
		}
		if _, err := os.Stat(filepath.Join(p, DefaultLang+".json")); err != nil {
			return nil
		}
		if err := c.Add(os.DirFS(p)); err != nil {
			t.Errorf("%s: %v", rel, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCatalogAdd(t *testing.T) {
	c := loadCatalog(t)
	err := c.Add(fstest.MapFS{
		"fr.json": {Data: []byte(`{"zz.test": "essai"}`)},
		"en.json": {Data: []byte(`{"zz.test": "test"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Printer("fr").T("zz.test"); got != "essai" {
		t.Errorf("added key in French = %q, want essai", got)
	}
	for name, files := range map[string]fstest.MapFS{
		"duplicate key": {"fr.json": {Data: []byte(`{"zz.test": "encore"}`)}},
		"unknown language": {
			"fr.json": {Data: []byte(`{"zz.other": "autre"}`)},
			"de.json": {Data: []byte(`{"zz.other": "andere"}`)},
		},
		"no French": {"en.json": {Data: []byte(`{"zz.x": "x"}`)}},
		"broken":    {"fr.json": {Data: []byte(`{"zz.x": `)}},
	} {
		if err := c.Add(files); err == nil {
			t.Errorf("%s: Add succeeded, want an error", name)
		}
	}
}

// fmtVerb matches one fmt verb ("%s", "%[2]d", "%02d"), not "%%".
var fmtVerb = regexp.MustCompile(`%(?:%|(?:\[\d+\])?[-+# 0]*\d*(?:\.\d+)?(?:\[\d+\])?[a-zA-Z])`)

func countVerbs(s string) int {
	n := 0
	for _, v := range fmtVerb.FindAllString(s, -1) {
		if v != "%%" {
			n++
		}
	}
	return n
}

func TestCatalogsMatch(t *testing.T) {
	c := loadAllCatalogs(t)
	if got := c.Langs(); !slices.Equal(got, []string{"fr", "en"}) {
		t.Fatalf("Langs() = %v, want [fr en]", got)
	}
	fr, en := c.msgs["fr"], c.msgs["en"]
	for _, k := range c.Keys("fr") {
		if _, ok := en[k]; !ok {
			t.Errorf("key %q is in fr.json, not in en.json", k)
		}
	}
	for _, k := range c.Keys("en") {
		if _, ok := fr[k]; !ok {
			t.Errorf("key %q is in en.json, not in fr.json", k)
		}
	}
	for _, lang := range c.Langs() {
		for k, v := range c.msgs[lang] {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s.json: %q is empty", lang, k)
			}
		}
	}
	for k, f := range fr {
		e, ok := en[k]
		if !ok {
			continue
		}
		if nf, ne := countVerbs(f), countVerbs(e); nf != ne {
			t.Errorf("%q: %d fmt verbs in French (%q), %d in English (%q)", k, nf, f, ne, e)
		}
	}
}

// templateKey finds the literal keys given to t and n in templates:
// {{t "key"}}, (t "key" …), {{- n "key" …}}.
var templateKey = regexp.MustCompile(`(?:\{\{-?\s*|\(\s*)(t|n)\s+"([^"]+)"`)

// TestTemplateKeysExist checks that every key the templates of the whole
// repository name, and every key the code builds, is in every catalog.
func TestTemplateKeysExist(t *testing.T) {
	c := loadAllCatalogs(t)
	var keys []string
	var files int
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if filepath.Ext(p) != ".html" || !slices.Contains(strings.Split(filepath.ToSlash(p), "/"), "templates") {
			return nil
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range templateKey.FindAllStringSubmatch(string(b), -1) {
			if m[1] == "n" {
				keys = append(keys, m[2]+".one", m[2]+".other")
			} else {
				keys = append(keys, m[2])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 6 || len(keys) < 50 {
		t.Fatalf("found %d keys in %d templates: the walk missed them", len(keys), files)
	}

	// Keys the templates build with print, or that the code passes.
	for _, k := range []string{"internal", "expired_form", "not_found", "bad_request", "forbidden", "conflict", "too_large", "too_many"} {
		keys = append(keys, "error."+k+".title", "error."+k+".text")
	}
	for _, kind := range []string{"terms", "privacy"} {
		keys = append(keys, "text."+kind+".title", "text."+kind+".default")
	}
	for _, l := range c.Langs() {
		keys = append(keys, "lang."+l)
	}
	for m := 1; m <= 12; m++ {
		keys = append(keys, "month."+strconv.Itoa(m))
	}
	keys = append(keys, "date.format", "date.day.1", "datetime.format")
	for _, f := range []string{"name", "description", "hoster", "hoster_url", "contact", "source_url", "terms", "privacy"} {
		keys = append(keys, "admin.settings."+f)
	}
	for _, k := range []string{"encoding", "too_long", "required", "url"} {
		keys = append(keys, "form.error."+k)
	}
	shell, db, _ := newShell(t, Config{})
	NewHandler(shell, db)
	for _, l := range shell.adminLinks(&User{Admin: true}) {
		keys = append(keys, l.TitleKey, l.TextKey)
	}

	for _, lang := range c.Langs() {
		for _, k := range keys {
			if _, ok := c.msgs[lang][k]; !ok {
				t.Errorf("key %q is missing from %s.json", k, lang)
			}
		}
	}
}

// TestErrorPagesTranslated renders the page of every error Error maps and
// checks no catalog key shows raw.
func TestErrorPagesTranslated(t *testing.T) {
	shell, _, _ := newShell(t, Config{})
	errs := []error{ErrNotFound, ErrBadRequest, ErrForbidden, ErrConflict, ErrTooLarge, ErrTooManyRequests, ErrBusy, ErrExpiredForm, &http.MaxBytesError{Limit: 1}, os.ErrClosed}
	for _, lang := range []string{"fr", "en"} {
		for _, e := range errs {
			t.Run(lang+"/"+e.Error(), func(t *testing.T) {
				r := httptest.NewRequest("GET", "/x", nil)
				r.AddCookie(&http.Cookie{Name: LangCookie, Value: lang})
				w := httptest.NewRecorder()
				shell.Error(w, r, e)
				body := w.Body.String()
				if w.Code != Status(e) {
					t.Errorf("status %d, want %d", w.Code, Status(e))
				}
				if strings.Contains(body, "error.") || !strings.Contains(body, `lang="`+lang+`"`) {
					t.Errorf("untranslated error page:\n%s", body)
				}
				checkPage(t, body)
			})
		}
	}
}

func TestMatch(t *testing.T) {
	c := loadCatalog(t)
	tests := []struct {
		name, cookie, accept, want string
	}{
		{"nothing", "", "", "fr"},
		{"english", "", "en-GB,en;q=0.9", "en"},
		{"french first", "", "fr-CA,en;q=0.5", "fr"},
		{"english preferred", "", "de;q=1, en;q=0.8, fr;q=0.5", "en"},
		{"german", "", "de", "fr"},
		{"garbage", "", ";;;,,q=x=*", "fr"},
		{"binary", "", "\x00\xff\xfe", "fr"},
		{"huge", "", "en," + strings.Repeat("xx-YY;q=0.1,", 200), "fr"},
		{"cookie wins", "en", "fr", "en"},
		{"cookie fr wins", "fr", "en", "fr"},
		{"unknown cookie ignored", "de", "en", "en"},
		{"empty cookie ignored", "", "en", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: LangCookie, Value: tt.cookie})
			}
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			if got := c.Match(r); got != tt.want {
				t.Errorf("Match = %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzMatch(f *testing.F) {
	c := loadCatalog(f)
	for _, s := range []string{"", "en", "en-GB,en;q=0.9", "de", "fr-CA;q=0.1", "*", "en;q=2", "x-klingon", "zh-Hant-TW;q=0.3, en-US", "en;q=0.5;q=0.1", strings.Repeat("a", 600)} {
		f.Add(s, "")
	}
	f.Add("de", "en")
	f.Fuzz(func(t *testing.T, accept, cookie string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Language", accept)
		if cookie != "" {
			r.Header.Set("Cookie", LangCookie+"="+cookie)
		}
		if got := c.Match(r); !c.Supports(got) {
			t.Fatalf("Match(%q, cookie %q) = %q, not a supported language", accept, cookie, got)
		}
	})
}

func TestPrinter(t *testing.T) {
	c, err := LoadCatalog(fstest.MapFS{
		"fr.json": {Data: []byte(`{"page.one": "%d page", "page.other": "%d pages", "in.one": "%d page dans %s", "in.other": "%d pages dans %s", "only.fr": "seulement"}`)},
		"en.json": {Data: []byte(`{"page.one": "%d page", "page.other": "%d pages", "in.one": "%d page in %s", "in.other": "%d pages in %s"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	fr, en := c.Printer("fr"), c.Printer("en")
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"fr 0", fr.N("page", 0), "0 page"},
		{"fr 1", fr.N("page", 1), "1 page"},
		{"fr 2", fr.N("page", 2), "2 pages"},
		{"fr 1000", fr.N("page", 1000), "1000 pages"},
		{"fr args", fr.N("in", 3, "le wiki"), "3 pages dans le wiki"},
		{"en 0", en.N("page", 0), "0 pages"},
		{"en 1", en.N("page", 1), "1 page"},
		{"en 2", en.N("page", 2), "2 pages"},
		{"en args", en.N("in", 1, "the wiki"), "1 page in the wiki"},
		{"missing key shows", en.T("no.such.key"), "no.such.key"},
		{"fallback to French", en.T("only.fr"), "seulement"},
		{"unknown language", c.Printer("de").Lang(), "fr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestDate(t *testing.T) {
	c := loadCatalog(t)
	fr, en := c.Printer("fr"), c.Printer("en")
	nov := time.Date(2026, time.November, 23, 14, 5, 0, 0, time.UTC)
	dec1 := time.Date(2026, time.December, 1, 9, 30, 0, 0, time.UTC)
	aug := time.Date(2027, time.August, 15, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"fr", fr.Date(nov), "23 novembre 2026"},
		{"fr first of the month", fr.Date(dec1), "1er décembre 2026"},
		{"fr accents", fr.Date(aug), "15 août 2027"},
		{"en", en.Date(nov), "November 23, 2026"},
		{"en first of the month", en.Date(dec1), "December 1, 2026"},
		{"fr time", fr.DateTime(nov), "23 novembre 2026 à 14 h 05"},
		{"en time", en.DateTime(dec1), "December 1, 2026 at 09:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
