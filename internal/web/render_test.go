package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

// TestTemplatesOtherLanguageOnFirstUse checks that a page is parsed in a
// language other than the default only when it is first shown in it, that
// requests racing to show it first all get it, and that an unknown page
// is a 500 that is logged.
func TestTemplatesOtherLanguageOnFirstUse(t *testing.T) {
	shell, _, log := newShell(t, Config{})
	fsys := fstest.MapFS{
		"templates/hello.html": {Data: []byte(`{{define "title"}}{{t "error.notfound.title"}}{{end}}{{define "content"}}<p>{{.Data}}</p>{{end}}`)},
		"templates/other.html": {Data: []byte(`{{define "title"}}x{{end}}{{define "content"}}{{end}}`)},
	}
	pages, err := shell.Parse(fsys, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pages.pages) + len(pages.others); n != 2 || len(pages.others) != 0 {
		t.Fatalf("after Parse, %d pages are parsed, %d in other languages; want the 2 in %s only", n, len(pages.others), DefaultLang)
	}
	show := func(lang, name string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/hello", nil)
		r.AddCookie(&http.Cookie{Name: LangCookie, Value: lang})
		w := httptest.NewRecorder()
		shell.Render(w, r, http.StatusOK, pages, name, "bonjour")
		return w
	}
	fr := show("fr", "hello.html").Body.String()
	var wg sync.WaitGroup
	bodies := make([]string, 8)
	for i := range bodies {
		wg.Go(func() { bodies[i] = show("en", "hello.html").Body.String() })
	}
	wg.Wait()
	for _, b := range bodies {
		if b != bodies[0] || !strings.Contains(b, `lang="en"`) || !strings.Contains(b, "<p>bonjour</p>") {
			t.Fatalf("the page shown in English differs or is not English:\n%s\nthen\n%s", bodies[0], b)
		}
	}
	if fr == bodies[0] || !strings.Contains(fr, `lang="fr"`) {
		t.Errorf("the French page is not French or is the English one:\n%s", fr)
	}
	if n := len(pages.pages) + len(pages.others); n != 3 {
		t.Errorf("after showing one page in English, %d pages are parsed, want 3", n)
	}
	if w := show("en", "missing.html"); w.Code != http.StatusInternalServerError || !strings.Contains(log.String(), "missing.html") {
		t.Errorf("an unknown page: status %d, log %q", w.Code, log.String())
	}
}
