package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	urlAttr     = regexp.MustCompile(`\s(?:src|href|action|srcset|poster|data)="([^"]*)"`)
	stylesheet  = regexp.MustCompile(`<link rel="stylesheet" href="(/static/style\.[0-9a-f]{10}\.css)">`)
	skipLink    = regexp.MustCompile(`<a class="skip" href="#main">`)
	searchLabel = regexp.MustCompile(`<label for="home-search">`)
	searchInput = regexp.MustCompile(`<input type="search" id="home-search" name="q"`)
)

// TestHome checks the home page's structure, language and links.
func TestHome(t *testing.T) {
	s := newSite(t, Config{})
	c := s.client(t)
	tests := []struct {
		name   string
		header []string
		cookie string
		lang   string
		text   string // a sentence of the page in its language
	}{
		{"anonymous", nil, "", "fr", "Aller au contenu"},
		{"accept-language", []string{"Accept-Language", "en"}, "", "en", "Skip to content"},
		{"accept-language german", []string{"Accept-Language", "de-DE,de;q=0.9"}, "", "fr", "Dernières discussions"},
		{"cookie", []string{"Accept-Language", "fr"}, "en", "en", "Recent discussions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if tt.cookie != "" {
				h = append(h, "Cookie", LangCookie+"="+tt.cookie)
			}
			r := s.get(t, c, "/", h...)
			if r.status != http.StatusOK {
				t.Fatalf("status %d", r.status)
			}
			b := r.body
			for _, want := range []string{
				`<html lang="` + tt.lang + `">`, `<main id="main"`, `<header`, `<nav aria-label=`, `<footer`,
				`href="/terms"`, `href="/privacy"`, `href="` + DefaultSourceURL + `"`,
				`<a href="/" aria-current="page">`, tt.text,
			} {
				if !strings.Contains(b, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if n := strings.Count(b, "<h1"); n != 1 {
				t.Errorf("%d <h1>, want 1", n)
			}
			if !skipLink.MatchString(b) {
				t.Error("no skip link to #main")
			}
			if !searchLabel.MatchString(b) || !searchInput.MatchString(b) {
				t.Error("the home search input has no label tied to it")
			}
			checkPage(t, b)
			checkNoForeignOrigin(t, b, DefaultSourceURL)
			if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if !strings.Contains(r.header.Get("Vary"), "Accept-Language") {
				t.Errorf("Vary %q lacks Accept-Language", r.header.Get("Vary"))
			}
			checkSecurityHeaders(t, r.header)
		})
	}
}

// checkNoForeignOrigin checks that the page loads and links to nothing
// outside the site, except the URLs allowed, and has no script.
func checkNoForeignOrigin(t *testing.T, body string, allowed ...string) {
	t.Helper()
	if strings.Contains(strings.ToLower(body), "<script") {
		t.Error("the page has a <script>")
	}
	for _, m := range urlAttr.FindAllStringSubmatch(body, -1) {
		u := m[1]
		if slices.Contains(allowed, u) {
			continue
		}
		if !(strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") || strings.HasPrefix(u, "#")) {
			t.Errorf("URL %q is not on this site", u)
		}
	}
	for _, u := range regexp.MustCompile(`https?://[^"'\s<>]+`).FindAllString(body, -1) {
		if !slices.Contains(allowed, u) {
			t.Errorf("the page names %q", u)
		}
	}
}

func checkSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if v := h.Get("X-Content-Type-Options"); v != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", v)
	}
	if v := h.Get("X-Frame-Options"); v != "DENY" {
		t.Errorf("X-Frame-Options %q", v)
	}
}

// fakeRecent is a Recent with fixed answers.
type fakeRecent struct {
	items []RecentItem
	err   error
}

func (f fakeRecent) Recent(ctx context.Context, viewer *User, n int) ([]RecentItem, error) {
	return f.items, f.err
}

func TestHomeRecent(t *testing.T) {
	s := newSite(t, Config{}, func(s *site) {
		s.h.Wiki = fakeRecent{items: []RecentItem{{Title: "Atelier <smartphone>", URL: "/wiki/atelier-smartphone", Who: "Clémence", When: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}}}
		s.h.Lists = fakeRecent{err: errors.New("index down")}
	})
	r := s.get(t, s.client(t), "/")
	for _, want := range []string{
		`<a href="/wiki/atelier-smartphone">Atelier &lt;smartphone&gt;</a>`,
		`Clémence, <time datetime="2026-12-01T10:00:00Z">1er décembre 2026</time>`,
		"Cette liste n’a pas pu être chargée",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if !strings.Contains(s.log.String(), "index down") {
		t.Error("the failing list was not logged")
	}
	checkPage(t, r.body)
}

// TestPageBudget checks the design's budget: a page as sent, HTML and CSS,
// is at most 30 KB.
func TestPageBudget(t *testing.T) {
	s := newSite(t, Config{})
	c := s.client(t)
	home := s.get(t, c, "/")
	m := stylesheet.FindStringSubmatch(home.body)
	if m == nil {
		t.Fatal("no stylesheet link in the home page")
	}
	css := s.get(t, c, m[1])
	if n := len(home.body) + len(css.body); n > 30<<10 {
		t.Errorf("home page and stylesheet weigh %d bytes, budget 30 KB", n)
	}
}

func TestTextPages(t *testing.T) {
	s := newSite(t, Config{})
	c := s.client(t)
	r := s.get(t, c, "/privacy")
	if r.status != http.StatusOK || !strings.Contains(r.body, "des cookies techniques seulement") {
		t.Errorf("default privacy page: %d\n%s", r.status, r.body)
	}
	checkPage(t, r.body)
	st := s.shell.Settings()
	st.Terms = "Premier <paragraphe>.\r\n\r\n\r\nSecond."
	st.Hoster = "Le Chaton d’ici"
	if err := s.shell.SaveSettings(st); err != nil {
		t.Fatal(err)
	}
	r = s.get(t, c, "/terms")
	for _, want := range []string{`<p class="prose">Premier &lt;paragraphe&gt;.</p>`, `<p class="prose">Second.</p>`, "Ce site est hébergé par Le Chaton d’ici."} {
		if !strings.Contains(r.body, want) {
			t.Errorf("terms page lacks %q:\n%s", want, r.body)
		}
	}
}

func TestSetLang(t *testing.T) {
	s := newSite(t, Config{})
	tests := []struct {
		name   string
		query  string
		status int
		to     string
	}{
		{"english", "l=en&next=/terms", http.StatusSeeOther, "/terms"},
		{"french with query", "l=fr&next=" + url.QueryEscape("/search?q=a&in=wiki"), http.StatusSeeOther, "/search?q=a&in=wiki"},
		{"no next", "l=en", http.StatusSeeOther, "/"},
		{"protocol-relative", "l=en&next=//evil.example", http.StatusSeeOther, "/"},
		{"absolute", "l=en&next=https://evil.example", http.StatusSeeOther, "/"},
		{"backslash", "l=en&next=" + url.QueryEscape(`/\evil.example`), http.StatusSeeOther, "/"},
		{"tab", "l=en&next=" + url.QueryEscape("/\t/evil.example"), http.StatusSeeOther, "/"},
		{"unknown language", "l=de&next=/terms", http.StatusBadRequest, ""},
		{"no language", "next=/terms", http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.get(t, s.client(t), "/lang?"+tt.query)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d", r.status, tt.status)
			}
			if tt.status != http.StatusSeeOther {
				if !strings.Contains(r.body, "Requête incorrecte") {
					t.Errorf("no bad request page:\n%s", r.body)
				}
				return
			}
			if loc := r.header.Get("Location"); loc != tt.to {
				t.Errorf("Location %q, want %q", loc, tt.to)
			}
			var lang *http.Cookie
			for _, ck := range (&http.Response{Header: r.header}).Cookies() {
				if ck.Name == LangCookie {
					lang = ck
				}
			}
			want, _ := url.ParseQuery(tt.query)
			if lang == nil || lang.Value != want.Get("l") || lang.MaxAge < 300*24*3600 || !lang.HttpOnly {
				t.Errorf("language cookie %+v", lang)
			}
		})
	}
	// The cookie set above now chooses the language.
	c2 := s.client(t)
	s.get(t, c2, "/lang?l=en&next=/")
	if r := s.get(t, c2, "/", "Accept-Language", "fr"); !strings.Contains(r.body, `<html lang="en">`) {
		t.Error("the language cookie is not used")
	}
}

func TestStatic(t *testing.T) {
	s := newSite(t, Config{})
	c := s.client(t)
	home := s.get(t, c, "/")
	m := stylesheet.FindStringSubmatch(home.body)
	if m == nil {
		t.Fatal("no stylesheet link in the home page")
	}
	r := s.get(t, c, m[1])
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d", m[1], r.status)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := r.header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control %q", cc)
	}
	if v := r.header.Get("Vary"); v != "" {
		t.Errorf("Vary %q on an asset the same for everyone", v)
	}
	if !strings.Contains(r.body, ":root") {
		t.Error("not the stylesheet")
	}
	for _, p := range []string{"/static/style.0000000000.css", "/static/style.css", "/static/", "/static/..%2fshell.go"} {
		if r := s.get(t, c, p); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, r.status)
		}
	}
}

func TestErrors(t *testing.T) {
	s := newSite(t, Config{}, func(s *site) {
		s.mux.HandleFunc("GET /save", func(w http.ResponseWriter, r *http.Request) {
			s.shell.Error(w, r, fmt.Errorf("save page %q: %w", "x", ErrConflict))
		})
		s.mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
			s.shell.Error(w, r, fmt.Errorf("read /var/lib/placette: %w", os.ErrPermission))
		})
		s.mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
			panic("secret panic detail 42")
		})
	})
	c := s.client(t)
	tests := []struct {
		path    string
		status  int
		text    string
		secrets []string
	}{
		{"/no/such/page", http.StatusNotFound, "Page introuvable", []string{"404 page not found"}},
		{"/save", http.StatusConflict, "Quelqu’un a modifié la même chose en même temps", []string{"save page", "conflict"}},
		{"/fail", http.StatusInternalServerError, "Une erreur est survenue", []string{"/var/lib/placette", "permission"}},
		{"/panic", http.StatusInternalServerError, "Une erreur est survenue", []string{"secret panic detail", "goroutine", ".go:"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := s.get(t, c, tt.path)
			if r.status != tt.status {
				t.Errorf("status %d, want %d", r.status, tt.status)
			}
			if !strings.Contains(r.body, tt.text) {
				t.Errorf("page lacks %q:\n%s", tt.text, r.body)
			}
			for _, secret := range tt.secrets {
				if strings.Contains(r.body, secret) {
					t.Errorf("page shows %q:\n%s", secret, r.body)
				}
			}
			checkSecurityHeaders(t, r.header)
		})
	}
	log := s.log.String()
	for _, want := range []string{"secret panic detail 42", "read /var/lib/placette", "path=/panic"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "/no/such/page") {
		t.Error("a 404 was logged as an error")
	}
	if r := s.get(t, c, "/no/such/page"); !strings.Contains(r.body, `<html lang="fr">`) || !strings.Contains(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("404 is not a French HTML page: %q", r.header.Get("Content-Type"))
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 200},
		{ErrNotFound, 404},
		{fmt.Errorf("page %q: %w", "x", ErrNotFound), 404},
		{ErrBadRequest, 400},
		{ErrForbidden, 403},
		{ErrExpiredForm, 403},
		{ErrConflict, 409},
		{ErrTooLarge, 413},
		{fmt.Errorf("read form: %w", &http.MaxBytesError{Limit: 10}), 413},
		{ErrTooManyRequests, 429},
		{ErrBusy, 503},
		{errors.New("disk full"), 500},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.err), func(t *testing.T) {
			if got := Status(tt.err); got != tt.want {
				t.Errorf("Status = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestCSRF(t *testing.T) {
	var hooked bool
	s := newSite(t, Config{MaxFormBytes: 2048, MaxUploadBytes: 4096}, func(s *site) {
		s.shell.BypassCSRF("POST /hook")
		s.mux.HandleFunc("POST /hook", func(w http.ResponseWriter, r *http.Request) {
			hooked = true
			w.Write([]byte("hooked"))
		})
	})
	admin := s.client(t)
	s.login(t, admin, "alice")
	other := s.client(t)
	s.login(t, other, "alice")

	t.Run("valid token", func(t *testing.T) {
		form := s.settingsForm(t, admin)
		form.Set("name", "La placette du quartier")
		r := s.post(t, admin, "/admin/settings", form)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/settings?saved" {
			t.Fatalf("status %d, Location %q:\n%s", r.status, r.header.Get("Location"), r.body)
		}
		if got := s.shell.Settings().Name; got != "La placette du quartier" {
			t.Errorf("name %q after saving", got)
		}
		if r := s.get(t, admin, "/admin/settings?saved"); !strings.Contains(r.body, "Réglages enregistrés.") {
			t.Error("no notice after saving")
		}
		if r := s.get(t, s.client(t), "/"); !strings.Contains(r.body, "<h1>La placette du quartier</h1>") {
			t.Error("the home page does not show the new name")
		}
	})

	valid := s.settingsForm(t, admin)
	otherForm := s.settingsForm(t, other) // gives other a CSRF cookie of its own
	if otherForm.Get("csrf") == valid.Get("csrf") {
		t.Fatal("two browsers got the same CSRF token")
	}
	noToken := s.settingsForm(t, admin)
	noToken.Del("csrf")
	wrong := s.settingsForm(t, admin)
	wrong.Set("csrf", valid.Get("csrf")[:10]+"AAAAAAAAAA"+valid.Get("csrf")[20:])
	tests := []struct {
		name   string
		client *http.Client
		form   url.Values
		header []string
		status int
		text   string
	}{
		{"no token", admin, noToken, nil, http.StatusForbidden, "Formulaire expiré"},
		{"wrong token", admin, wrong, nil, http.StatusForbidden, "Formulaire expiré"},
		{"token of another browser", other, valid, nil, http.StatusForbidden, "Formulaire expiré"},
		{"cross-site", admin, valid, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden, "Accès refusé"},
		{"foreign origin", admin, valid, []string{"Origin", "https://evil.example"}, http.StatusForbidden, "Accès refusé"},
		{"too large", admin, url.Values{"csrf": {valid.Get("csrf")}, "name": {"x"}, "terms": {strings.Repeat("a", 3000)}}, nil, http.StatusRequestEntityTooLarge, "Envoi trop volumineux"},
		{"same origin", admin, valid, []string{"Sec-Fetch-Site", "same-origin"}, http.StatusSeeOther, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.shell.Settings().Name
			form := url.Values{}
			for k, v := range tt.form {
				form[k] = v
			}
			if tt.status != http.StatusSeeOther {
				form.Set("name", "Piratée")
			}
			r := s.post(t, tt.client, "/admin/settings", form, tt.header...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d:\n%s", r.status, tt.status, r.body)
			}
			if !strings.Contains(r.body, tt.text) {
				t.Errorf("page lacks %q:\n%s", tt.text, r.body)
			}
			if tt.status != http.StatusSeeOther && s.shell.Settings().Name != before {
				t.Error("the refused form changed the settings")
			}
		})
	}

	t.Run("bypassed route", func(t *testing.T) {
		r := s.post(t, s.client(t), "/hook", url.Values{"List-Unsubscribe": {"One-Click"}}, "Sec-Fetch-Site", "cross-site", "Origin", "https://mail.example")
		if r.status != http.StatusOK || r.body != "hooked" || !hooked {
			t.Errorf("status %d, body %q", r.status, r.body)
		}
		// Only the pattern given is exempt.
		if r := s.post(t, s.client(t), "/admin/settings", url.Values{}, "Sec-Fetch-Site", "cross-site"); r.status != http.StatusForbidden {
			t.Errorf("POST /admin/settings cross-site: %d", r.status)
		}
	})

	for _, tt := range []struct {
		name   string
		size   int
		status int
	}{
		{"multipart within MaxUploadBytes", 3000, http.StatusBadRequest}, // the form lacks a name
		{"multipart over MaxUploadBytes", 5000, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			mw.WriteField("csrf", valid.Get("csrf"))
			fw, _ := mw.CreateFormFile("file", "big.bin")
			fw.Write(bytes.Repeat([]byte("x"), tt.size))
			mw.Close()
			req, _ := http.NewRequest("POST", s.srv.URL+"/admin/settings", &buf)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			if r := do(t, admin, req); r.status != tt.status {
				t.Errorf("status %d, want %d:\n%s", r.status, tt.status, r.body)
			}
		})
	}
}

// TestMultipartTempFilesRemoved checks that the files a multipart form is
// spooled to are removed once the request is served.
func TestMultipartTempFilesRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var got int64
	s := newSite(t, Config{}, func(s *site) {
		s.mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
			f, h, err := r.FormFile("file")
			if err != nil {
				s.shell.Error(w, r, err)
				return
			}
			f.Close()
			got = h.Size
			w.Write([]byte("ok"))
		})
	})
	c := s.client(t)
	token := csrfFrom(t, func() string { s.login(t, c, "alice"); return s.get(t, c, "/admin/settings").body }())
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", token)
	fw, _ := mw.CreateFormFile("file", "big.bin")
	fw.Write(bytes.Repeat([]byte("x"), 3<<20/2)) // more than kept in memory
	mw.Close()
	req, _ := http.NewRequest("POST", s.srv.URL+"/upload", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if r := do(t, c, req); r.status != http.StatusOK {
		t.Fatalf("status %d:\n%s", r.status, r.body)
	}
	if got != 3<<20/2 {
		t.Errorf("file of %d bytes received", got)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		if strings.HasPrefix(e.Name(), "multipart-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestAdminAccess(t *testing.T) {
	s := newSite(t, Config{})
	tests := []struct {
		who      string // "" for anonymous
		path     string
		status   int
		location string
		text     string
	}{
		{"", "/admin/", http.StatusSeeOther, "/login?next=%2Fadmin%2F", ""},
		{"", "/admin/settings", http.StatusSeeOther, "/login?next=%2Fadmin%2Fsettings", ""},
		{"bob", "/admin/", http.StatusForbidden, "", "Accès refusé"},
		{"mo", "/admin/", http.StatusOK, "", "Rien à administrer pour vous ici."},
		{"mo", "/admin/settings", http.StatusForbidden, "", "Accès refusé"},
		{"alice", "/admin/", http.StatusOK, "", `<a href="/admin/settings">Réglages du site</a>`},
		{"alice", "/admin/settings", http.StatusOK, "", `<input id="s-name" name="name" value="placette"`},
	}
	for _, tt := range tests {
		t.Run(tt.who+tt.path, func(t *testing.T) {
			c := s.client(t)
			if tt.who != "" {
				s.login(t, c, tt.who)
			}
			r := s.get(t, c, tt.path)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d", r.status, tt.status)
			}
			if loc := r.header.Get("Location"); loc != tt.location {
				t.Errorf("Location %q, want %q", loc, tt.location)
			}
			if !strings.Contains(r.body, tt.text) {
				t.Errorf("page lacks %q:\n%s", tt.text, r.body)
			}
			if tt.status == http.StatusOK {
				checkPage(t, r.body)
				if cc := r.header.Get("Cache-Control"); cc != "private, no-cache" {
					t.Errorf("Cache-Control %q on a page for one person", cc)
				}
				if r.header.Get("X-Robots-Tag") != "noindex" {
					t.Error("admin page without X-Robots-Tag")
				}
				if !strings.Contains(r.body, `<a href="/admin/" aria-current=`) {
					t.Error("the navigation does not mark the administration as current")
				}
			}
		})
	}
}

func TestSettingsValidation(t *testing.T) {
	s := newSite(t, Config{})
	c := s.client(t)
	s.login(t, c, "alice")
	long := strings.Repeat("é", 201)
	tests := []struct {
		name  string
		field string // the form field set to value
		value string
		shown string // what the form must show again
		error string
	}{
		{"empty name", "name", "   ", `id="s-name" name="name" value="   "`, "ce champ est obligatoire"},
		{"invalid URL", "hoster_url", "ftp://chatons.example", `value="ftp://chatons.example"`, "ce n’est pas une adresse web"},
		{"script URL", "source_url", "javascript:alert(1)", `value="javascript:alert(1)"`, "ce n’est pas une adresse web"},
		{"URL without host", "hoster_url", "https://", `value="https://"`, "ce n’est pas une adresse web"},
		{"too long", "name", long, `value="` + long + `"`, "le texte est trop long"},
		{"too long text", "terms", strings.Repeat("a", 50001), strings.Repeat("a", 50001) + "</textarea>", "le texte est trop long"},
		{"invalid UTF-8", "description", "ateliers\xff\xfenumériques", `value="ateliers` + "\uFFFD" + `numériques"`, "le texte contient des caractères invalides"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.shell.Settings()
			form := s.settingsForm(t, c)
			form.Set("contact", "contact@chatons.example")
			form.Set(tt.field, tt.value)
			r := s.post(t, c, "/admin/settings", form)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", r.status)
			}
			for _, want := range []string{tt.shown, tt.error, `value="contact@chatons.example"`, `role="alert"`, `aria-invalid="true"`} {
				if !strings.Contains(r.body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if s.shell.Settings() != before {
				t.Error("refused settings were saved")
			}
			checkPage(t, r.body)
		})
	}
}

func TestSettingsNormalize(t *testing.T) {
	st := Settings{Name: "  Ma placette \r\n", Terms: "a\r\n\r\nb", HosterURL: "https://chatons.example/"}
	if err := st.Normalize(); err != nil {
		t.Fatal(err)
	}
	want := Settings{Name: "Ma placette", Terms: "a\n\nb", HosterURL: "https://chatons.example/", SourceURL: DefaultSourceURL}
	if st != want {
		t.Errorf("got %+v, want %+v", st, want)
	}
}

func TestHealthz(t *testing.T) {
	s := newSite(t, Config{})
	r := s.get(t, s.client(t), "/healthz")
	if r.status != http.StatusOK || r.body != "ok\n" {
		t.Errorf("status %d, body %q", r.status, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
	}
}

func TestLogoutFormInNavigation(t *testing.T) {
	s := newSite(t, Config{})
	c := s.client(t)
	s.login(t, c, "bob")
	r := s.get(t, c, "/")
	if !strings.Contains(r.body, "Se déconnecter (bob)") || csrfFrom(t, r.body) == "" {
		t.Errorf("no logout form for bob:\n%s", r.body)
	}
	if strings.Contains(r.body, `href="/admin/"`) {
		t.Error("bob, who is not staff, is offered the administration")
	}
	if r.header.Get("Cache-Control") != "private, no-cache" {
		t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
	}
}
