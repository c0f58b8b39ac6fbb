package wiki_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"html"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/app"
	"codeberg.org/placette/placette/internal/app/apptest"
	"codeberg.org/placette/placette/internal/control"
	"codeberg.org/placette/placette/wiki/markup"
)

// markupReady reports whether the markdown renderer is the real one: a
// stub leaves titles as they are.
func markupReady() bool { return markup.Slug("A B") == "a-b" }

func needMarkup(t *testing.T) {
	t.Helper()
	if !markupReady() {
		t.Skip("the markup package is still a stub")
	}
}

// answers are the answers to the guard's default questions, by id.
var answers = map[string]string{"d1": "5", "d2": "bleu", "d3": "mardi", "d4": "4", "d5": "blanc"}

var (
	reCSRF     = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	reToken    = regexp.MustCompile(`name="ts" value="([^"]*)"`)
	reQuestion = regexp.MustCompile(`name="question" value="([^"]*)"`)
	reTextarea = regexp.MustCompile(`(?s)<textarea[^>]*name="text"[^>]*>(.*?)</textarea>`)
	reBase     = regexp.MustCompile(`name="base" value="(\d+)"`)
)

// wiki is a running placette with an administrator, whose anti-spam
// minimum delay is lifted so that tests need not wait.
type wiki struct {
	*apptest.Instance
	admin *http.Client
}

func start(t *testing.T) *wiki {
	t.Helper()
	in := apptest.Start(t)
	admin := in.CreateAdmin(t, "admin", "un mot de passe solide")
	resp, body := in.Submit(t, admin, "/admin/wiki/antispam", "/admin/wiki/antispam/limits", url.Values{
		"min_seconds": {"0"}, "max_hours": {"24"}, "max_new_links": {"3"}, "creates_per_day": {"100"}, "addr_edits": {"1000"}, "page_edits": {"1000"},
	})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set the limits: %d\n%s", resp.StatusCode, body)
	}
	return &wiki{Instance: in, admin: admin}
}

// get fetches path and returns the response and its body.
func (w *wiki) get(t *testing.T, c *http.Client, path string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(w.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// formFields reads the hidden fields of a form page and answers its
// question.
func formFields(t *testing.T, body string) url.Values {
	t.Helper()
	v := url.Values{}
	m := reCSRF.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in\n%s", body)
	}
	v.Set("csrf", html.UnescapeString(m[1]))
	if m := reToken.FindStringSubmatch(body); m != nil {
		v.Set("ts", html.UnescapeString(m[1]))
	}
	if m := reQuestion.FindStringSubmatch(body); m != nil {
		v.Set("question", m[1])
		a, ok := answers[m[1]]
		if !ok {
			t.Logf("unknown question %q", m[1])
		}
		v.Set("answer", a)
	}
	if m := reBase.FindStringSubmatch(body); m != nil {
		v.Set("base", m[1])
	}
	return v
}

// fill fetches the form at page, sets fields over its hidden ones and
// posts it to action.
func (w *wiki) fill(t *testing.T, c *http.Client, page, action string, fields url.Values) (*http.Response, string) {
	t.Helper()
	resp, body := w.get(t, c, page)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", page, resp.StatusCode, body)
	}
	v := formFields(t, body)
	for k, vs := range fields {
		v[k] = vs
	}
	return w.Post(t, c, action, v)
}

// edit saves text as the page slug with c.
func (w *wiki) edit(t *testing.T, c *http.Client, slug, text string) {
	t.Helper()
	resp, body := w.fill(t, c, "/wiki/"+slug+"/edit", "/wiki/"+slug+"/edit", url.Values{"text": {text}, "summary": {"test"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save %s: %d\n%s", slug, resp.StatusCode, body)
	}
}

func textarea(t *testing.T, body string) string {
	t.Helper()
	m := reTextarea.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no textarea in\n%s", body)
	}
	return html.UnescapeString(m[1])
}

func TestCreateFromTemplateAnonymously(t *testing.T) {
	w := start(t)
	c := w.Client(t)
	resp, body := w.fill(t, c, "/wiki/-/new", "/wiki/-/new", url.Values{"title": {"Atelier smartphone"}, "template": {"-fiche"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("new: %d\n%s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	if !strings.Contains(loc, "/edit?") {
		t.Fatalf("new sends to %q", loc)
	}
	resp, body = w.get(t, c, loc)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "## Déroulé") || !strings.Contains(body, "Pour aller plus loin") {
		t.Fatalf("edit form of a new fiche: %d\n%s", resp.StatusCode, body)
	}
	if !reQuestion.MatchString(body) {
		t.Errorf("an anonymous writer's first edit has no question")
	}
	if !strings.Contains(body, `class="hp" aria-hidden="true"`) {
		t.Errorf("no honeypot in the form")
	}
	text := strings.Replace(textarea(t, body), "public: ", "public: adultes", 1)
	v := formFields(t, body)
	v.Set("text", text)
	v.Set("pseudonym", "Clémence")
	v.Set("title", "Atelier smartphone")
	action := strings.SplitN(loc, "?", 2)[0]
	resp, body = w.Post(t, c, action, v)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", resp.StatusCode, body)
	}
	page := strings.SplitN(resp.Header.Get("Location"), "?", 2)[0]
	resp, body = w.get(t, c, page)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Déroulé") || !strings.Contains(body, "Clémence") {
		t.Fatalf("page: %d\n%s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Robots-Tag") != "noindex" {
		t.Errorf("a page just changed by an anonymous writer is not noindex")
	}
	// The second edit asks no question: the answer is remembered.
	resp, body = w.get(t, c, page+"/edit")
	if reQuestion.MatchString(body) {
		t.Errorf("the question is asked again")
	}
	if !strings.Contains(body, `value="Clémence"`) {
		t.Errorf("the pseudonym is not remembered")
	}
	v = formFields(t, body)
	v.Set("text", textarea(t, body)+"\nUne ligne de plus.\n")
	resp, body = w.Post(t, c, page+"/edit", v)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second save: %d\n%s", resp.StatusCode, body)
	}
	if markupReady() {
		_, body = w.get(t, c, page)
		for _, want := range []string{`class="fiche-card"`, "Public", "adultes"} {
			if !strings.Contains(body, want) {
				t.Errorf("the fiche has no %q", want)
			}
		}
		_, body = w.get(t, c, "/wiki/-/fiches?public=adultes")
		if !strings.Contains(body, "Atelier smartphone") {
			t.Errorf("the catalogue does not find the fiche:\n%s", body)
		}
		_, body = w.get(t, c, "/wiki/-/fiches?public=enfants")
		if strings.Contains(body, ">Atelier smartphone<") {
			t.Errorf("the catalogue's filter lets the fiche through")
		}
	}
}

func TestConflicts(t *testing.T) {
	w := start(t)
	a, b := w.admin, w.Client(t)
	base := "ligne 1\nligne 2\nligne 3\nligne 4\nligne 5\nligne 6\nligne 7\nligne 8\n"
	w.edit(t, a, "conflit", base)

	t.Run("merged", func(t *testing.T) {
		_, formA := w.get(t, a, "/wiki/conflit/edit")
		_, formB := w.get(t, b, "/wiki/conflit/edit")
		va, vb := formFields(t, formA), formFields(t, formB)
		cur := textarea(t, formA)
		va.Set("text", strings.Replace(cur, "ligne 1\n", "ligne 1 par A\n", 1))
		vb.Set("text", strings.Replace(cur, "ligne 8\n", "ligne 8 par B\n", 1))
		if resp, body := w.Post(t, a, "/wiki/conflit/edit", va); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("A: %d\n%s", resp.StatusCode, body)
		}
		resp, body := w.Post(t, b, "/wiki/conflit/edit", vb)
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "merged=admin") {
			t.Fatalf("B: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		_, raw := w.get(t, b, "/wiki/conflit/raw")
		if !strings.Contains(raw, "ligne 1 par A") || !strings.Contains(raw, "ligne 8 par B") {
			t.Errorf("merged text:\n%s", raw)
		}
	})
	t.Run("kept", func(t *testing.T) {
		_, formA := w.get(t, a, "/wiki/conflit/edit")
		_, formB := w.get(t, b, "/wiki/conflit/edit")
		va, vb := formFields(t, formA), formFields(t, formB)
		cur := textarea(t, formA)
		va.Set("text", strings.Replace(cur, "ligne 4\n", "ligne 4 selon A\n", 1))
		mine := strings.Replace(cur, "ligne 4\n", "ligne 4 selon B\n", 1)
		vb.Set("text", mine)
		if resp, body := w.Post(t, a, "/wiki/conflit/edit", va); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("A: %d\n%s", resp.StatusCode, body)
		}
		resp, body := w.Post(t, b, "/wiki/conflit/edit", vb)
		if resp.StatusCode != http.StatusConflict {
			t.Fatalf("B: %d, want 409\n%s", resp.StatusCode, body)
		}
		if got := textarea(t, body); got != mine {
			t.Errorf("B's text is not kept:\n%q\nwant\n%q", got, mine)
		}
		if !strings.Contains(body, "<ins>") || !strings.Contains(body, "selon A") {
			t.Errorf("the other edit is not shown")
		}
		// Sending again saves B's text.
		v := formFields(t, body)
		v.Set("text", mine)
		resp, body = w.Post(t, b, "/wiki/conflit/edit", v)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("B again: %d\n%s", resp.StatusCode, body)
		}
		_, raw := w.get(t, b, "/wiki/conflit/raw")
		if raw != mine {
			t.Errorf("saved %q, want %q", raw, mine)
		}
	})
}

func TestHistoryDiffRestoreRaw(t *testing.T) {
	w := start(t)
	c := w.admin
	w.edit(t, c, "histoire", "Le chat dort sur le canapé.\n")
	w.edit(t, c, "histoire", "Le chat mange sur le canapé.\nUne autre ligne.\n")
	resp, body := w.get(t, c, "/wiki/histoire/history")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `/wiki/histoire/restore?rev=1`) {
		t.Fatalf("history: %d\n%s", resp.StatusCode, body)
	}
	resp, body = w.get(t, c, "/wiki/histoire/diff?from=1&to=2")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("diff: %d", resp.StatusCode)
	}
	for _, want := range []string{"dort</del>", "mange</ins>", "supprimé\u00a0:", "ajouté\u00a0:", "Une autre ligne."} {
		if !strings.Contains(body, want) {
			t.Errorf("the diff has no %q:\n%s", want, body)
		}
	}
	resp, body = w.fill(t, c, "/wiki/histoire/restore?rev=1", "/wiki/histoire/restore", url.Values{"rev": {"1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("restore: %d\n%s", resp.StatusCode, body)
	}
	resp, raw := w.get(t, c, "/wiki/histoire/raw")
	if raw != "Le chat dort sur le canapé.\n" {
		t.Errorf("restored text %q", raw)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/markdown; charset=utf-8" {
		t.Errorf("raw Content-Type %q", ct)
	}
	_, body = w.get(t, c, "/wiki/histoire/history")
	if !strings.Contains(body, "Version 1 rétablie") {
		t.Errorf("the restore is not a revision with a summary")
	}
	_, raw = w.get(t, c, "/wiki/histoire/raw?rev=2")
	if !strings.Contains(raw, "mange") {
		t.Errorf("raw of revision 2: %q", raw)
	}
}

func TestRenameRedirectRewrite(t *testing.T) {
	needMarkup(t)
	w := start(t)
	c := w.admin
	w.edit(t, c, "ancien-nom", "# Ancien nom\n\nLa page.\n")
	w.edit(t, c, "voisine", "Voir [[Ancien nom]] et [[Ancien nom|cette page]].\n")
	resp, body := w.fill(t, c, "/wiki/ancien-nom/rename", "/wiki/ancien-nom/rename", url.Values{"title": {"Nouveau nom"}, "rewrite": {"1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = w.get(t, c, "/wiki/ancien-nom")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "/wiki/nouveau-nom") {
		t.Fatalf("old name: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, raw := w.get(t, c, "/wiki/nouveau-nom/raw")
	if !strings.Contains(raw, "# Nouveau nom") {
		t.Errorf("renamed page's heading: %q", raw)
	}
	_, raw = w.get(t, c, "/wiki/voisine/raw")
	if strings.Contains(raw, "[[Ancien nom]]") || !strings.Contains(raw, "Nouveau nom") {
		t.Errorf("links not rewritten: %q", raw)
	}
	_, body = w.get(t, c, "/wiki/nouveau-nom")
	if !strings.Contains(body, "/wiki/voisine") {
		t.Errorf("no backlink from voisine")
	}
	_, body = w.get(t, c, "/wiki/nouveau-nom/history")
	if !strings.Contains(body, "La page") && !strings.Contains(body, "<td>1</td>") && !strings.Contains(body, ">1</th>") {
		t.Errorf("the history did not move with the page:\n%s", body)
	}
}

func pngBytes(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// upload posts a file to the attachments of slug.
func (w *wiki) upload(t *testing.T, c *http.Client, slug, name string, data []byte) *http.Response {
	t.Helper()
	_, page := w.get(t, c, "/wiki/"+slug+"/files")
	v := formFields(t, page)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range v {
		mw.WriteField(k, vs[0])
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", w.URL+"/wiki/"+slug+"/files", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestAttachments(t *testing.T) {
	w := start(t)
	c := w.admin
	w.edit(t, c, "plans", "![](plan.png)\n")
	pdf := []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
	tests := []struct {
		name   string
		file   string
		data   []byte
		status int
		stored string
		ctype  string
		inline bool
	}{
		{"png", "plan.png", pngBytes(t), http.StatusSeeOther, "plan.png", "image/png", true},
		{"pdf", "Fiche été.pdf", pdf, http.StatusSeeOther, "fiche-ete.pdf", "application/pdf", false},
		{"hostile name", `../../etc/<script>passwd".png`, pngBytes(t), http.StatusSeeOther, "script-passwd.png", "image/png", true},
		{"html disguised as png", "joli.png", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), http.StatusUnsupportedMediaType, "", "", false},
		{"too large", "gros.png", append(pngBytes(t), make([]byte, 8<<20)...), http.StatusRequestEntityTooLarge, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := w.upload(t, c, "plans", tt.file, tt.data)
			if resp.StatusCode != tt.status {
				t.Fatalf("upload: %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.stored == "" {
				return
			}
			resp, body := w.get(t, c, "/wiki/plans/files/"+url.PathEscape(tt.stored))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET the file: %d", resp.StatusCode)
			}
			if body != string(tt.data) {
				t.Errorf("content differs")
			}
			h := resp.Header
			if h.Get("Content-Type") != tt.ctype || h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", h)
			}
			cd := h.Get("Content-Disposition")
			if tt.inline != strings.HasPrefix(cd, "inline;") || !strings.Contains(cd, "filename*=UTF-8''") {
				t.Errorf("Content-Disposition %q", cd)
			}
		})
	}
	_, body := w.get(t, c, "/wiki/plans/files")
	if strings.Contains(body, "<script>passwd") {
		t.Errorf("a hostile name shows raw")
	}
}

func TestBadInput(t *testing.T) {
	w := start(t)
	c := w.admin
	w.edit(t, c, "bac", "Texte de départ.\n")
	huge := strings.Repeat("Une ligne de texte assez longue pour remplir la page.\n", markup.MaxSize/50)
	tests := []struct {
		name   string
		text   string
		status int
		kept   string
	}{
		{"invalid UTF-8", "Du texte \xff\xfe cassé", http.StatusBadRequest, "Du texte \uFFFD cassé"},
		{"enormous", huge, http.StatusRequestEntityTooLarge, huge[:200]},
		{"empty", "   \n", http.StatusUnprocessableEntity, "   \n"},
	}
	if markupReady() {
		tests = append(tests, struct {
			name   string
			text   string
			status int
			kept   string
		}{"bad front matter", "---\ntitle: [non fermé\n---\nTexte\n", http.StatusUnprocessableEntity, "title: [non fermé"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := w.fill(t, c, "/wiki/bac/edit", "/wiki/bac/edit", url.Values{"text": {tt.text}})
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if !strings.Contains(textarea(t, body), tt.kept) {
				t.Errorf("the text is not kept")
			}
			if !strings.Contains(body, `class="error"`) {
				t.Errorf("no error shown")
			}
		})
	}
	t.Run("raw HTML", func(t *testing.T) {
		w.edit(t, c, "bac", "<script>alert(1)</script>\n<a href=\"javascript:alert(2)\">x</a>\n")
		_, body := w.get(t, c, "/wiki/bac")
		if strings.Contains(body, "<script>alert") || strings.Contains(body, `href="javascript:`) {
			t.Errorf("raw HTML gets through:\n%s", body)
		}
	})
}

func TestProtectAndRevert(t *testing.T) {
	w := start(t)
	w.edit(t, w.admin, "cible", "Le bon texte.\n")
	w.edit(t, w.admin, "autre", "Un autre bon texte.\n")
	// The vandal's edits come in the next second: "since" has seconds.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	since := time.Now().Format("2006-01-02T15:04:05")
	vandal := w.Client(t)
	resp, body := w.fill(t, vandal, "/wiki/cible/edit", "/wiki/cible/edit", url.Values{"text": {"VANDALISME\n"}, "pseudonym": {"Vandale"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("vandal: %d\n%s", resp.StatusCode, body)
	}
	resp, body = w.fill(t, vandal, "/wiki/nouvelle/edit", "/wiki/nouvelle/edit", url.Values{"text": {"SPAM\n"}, "pseudonym": {"Vandale"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("vandal creates: %d\n%s", resp.StatusCode, body)
	}
	_, body = w.get(t, w.admin, "/wiki/-/recent?author=Vandale")
	if !strings.Contains(body, "/wiki/cible") || strings.Contains(body, ">autre<") {
		t.Errorf("filtered recent changes:\n%s", body)
	}
	resp, body = w.fill(t, w.admin, "/wiki/-/recent?author=Vandale", "/wiki/-/revert", url.Values{"author": {"Vandale"}, "since": {since}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revert: %d\n%s", resp.StatusCode, body)
	}
	if _, raw := w.get(t, vandal, "/wiki/cible/raw"); raw != "Le bon texte.\n" {
		t.Errorf("after revert: %q", raw)
	}
	if resp, _ := w.get(t, vandal, "/wiki/nouvelle"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the vandal's page is still there: %d", resp.StatusCode)
	}
	// Protection: only staff edit.
	resp, body = w.fill(t, w.admin, "/wiki/cible", "/wiki/cible/protect", url.Values{"protect": {"1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("protect: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := w.get(t, vandal, "/wiki/cible/edit"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous edit form of a protected page: %d", resp.StatusCode)
	}
}

func TestRecentAtomAndCache(t *testing.T) {
	w := start(t)
	w.edit(t, w.admin, "flux", "Premier texte.\n")
	w.edit(t, w.admin, "flux", "Second texte.\n")
	anon := w.Client(t)
	resp, body := w.get(t, anon, "/wiki/-/recent.atom")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("atom: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var feed struct {
		Entries []struct {
			Title string `xml:"title"`
			Link  struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(body), &feed); err != nil {
		t.Fatalf("parse atom: %v\n%s", err, body)
	}
	if len(feed.Entries) < 2 || !strings.HasPrefix(feed.Entries[0].Link.Href, w.URL+"/wiki/flux") {
		t.Errorf("feed entries: %+v", feed.Entries)
	}
	// The page served twice to an anonymous reader is the same, with an
	// ETag; after an edit it changes.
	r1, b1 := w.get(t, anon, "/wiki/flux")
	r2, b2 := w.get(t, anon, "/wiki/flux")
	if b1 != b2 || r1.Header.Get("ETag") == "" || r1.Header.Get("ETag") != r2.Header.Get("ETag") {
		t.Errorf("cached page differs or has no ETag")
	}
	w.edit(t, w.admin, "flux", "Troisième texte.\n")
	_, b3 := w.get(t, anon, "/wiki/flux")
	if !strings.Contains(b3, "Troisième") {
		t.Errorf("the cache was not invalidated")
	}
	_, home := w.get(t, anon, "/")
	if !strings.Contains(home, "/wiki/flux") {
		t.Errorf("the home page does not list the change")
	}
}

// zipOf makes a zip archive of files.
func zipOf(t *testing.T, files map[string][]byte) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, data := range files {
		f, _ := zw.Create(name)
		f.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func call(t *testing.T, w *wiki, args []string, in []byte) (string, string) {
	t.Helper()
	var out, errs bytes.Buffer
	err := app.Call(context.Background(), w.DataDir, &control.Call{Name: "wiki", Args: args, Stdin: bytes.NewReader(in), Stdout: &out, Stderr: &errs})
	if err != nil {
		t.Fatalf("wiki %v: %v\n%s", args, err, errs.String())
	}
	return out.String(), errs.String()
}

func TestImportExportRoundTrip(t *testing.T) {
	w := start(t)
	files := map[string][]byte{
		"accueil.md":       []byte("---\ntitle: \"Accueil\"\ntags: [asso]\n---\n# Accueil\n\nVoir [[Atelier]].\n\n![](accueil/logo.png)\n"),
		"atelier.md":       []byte("# Atelier\n\nUn atelier.\n![plan](images/plan.png)\n"),
		"images/plan.png":  pngBytes(t),
		"accueil/logo.png": pngBytes(t),
		"sans-titre.md":    []byte("Pas de titre ici.\r\n"),
		"casse.md":         []byte("\xff\xfe pas de l'UTF-8"),
		".cache/x.md":      []byte("caché"),
	}
	for i := range 120 {
		files["gen/page-"+string(rune('a'+i%26))+strings.Repeat("x", i/26)+".md"] = []byte("# Page générée\n\nTexte " + strings.Repeat("bla ", i) + "\n")
	}
	_, progress := call(t, w, []string{"import"}, zipOf(t, files))
	if !strings.Contains(progress, "casse.md: skipped") || !strings.Contains(progress, "100 pages read") {
		t.Errorf("progress:\n%s", progress)
	}
	exp1, _ := call(t, w, []string{"export"}, nil)
	// Importing the export again changes nothing.
	_, progress = call(t, w, []string{"import"}, []byte(exp1))
	if !strings.Contains(progress, "0 pages created, 0 updated, 123 unchanged, 0 files") {
		t.Errorf("second import:\n%s", progress)
	}
	exp2, _ := call(t, w, []string{"export"}, nil)
	if a, b := zipContents(t, exp1), zipContents(t, exp2); !equalMaps(a, b) {
		t.Errorf("export differs after a round trip")
	}
	got := zipContents(t, exp1)
	if got["atelier.md"] != string(files["atelier.md"]) {
		t.Errorf("atelier.md exported as %q", got["atelier.md"])
	}
	if got["atelier/plan.png"] == "" || got["accueil/logo.png"] == "" {
		var names []string
		for k := range got {
			if strings.Contains(k, "/") {
				names = append(names, k)
			}
		}
		t.Errorf("attachments not exported: %v", names)
	}
	if got["sans-titre.md"] != "Pas de titre ici.\n" {
		t.Errorf("sans-titre.md: %q", got["sans-titre.md"])
	}
	// A fresh instance imports the export into the same pages.
	w2 := start(t)
	call(t, w2, []string{"import"}, []byte(exp1))
	exp3, _ := call(t, w2, []string{"export"}, nil)
	if !equalMaps(zipContents(t, exp1), zipContents(t, exp3)) {
		t.Errorf("a fresh import of the export differs")
	}
	resp, _ := w2.get(t, w2.Client(t), "/wiki/atelier/files/plan.png")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("imported attachment: %d", resp.StatusCode)
	}
}

func zipContents(t *testing.T, data string) map[string]string {
	zr, err := zip.NewReader(strings.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = string(b)
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestLongAccentedPage saves a page just under markup.MaxSize written in
// accented letters: URL-encoded, its form is three times as large, which
// the shell's form limit must allow, or the writer would lose the text to
// a 413.
func TestLongAccentedPage(t *testing.T) {
	w := start(t)
	line := strings.Repeat("é", 99) + "\n" // 199 bytes
	text := strings.Repeat(line, (markup.MaxSize-1024)/len(line))
	w.edit(t, w.admin, "longue", text)
	_, raw := w.get(t, w.admin, "/wiki/longue/raw")
	if raw != text {
		t.Errorf("the page holds %d bytes, want the %d sent", len(raw), len(text))
	}
}
