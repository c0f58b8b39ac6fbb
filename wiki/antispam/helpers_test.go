package antispam

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"codeberg.org/placette/placette/internal/store"
	"codeberg.org/placette/placette/internal/web"
)

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeUsers is a UserSource over a fixed map.
type fakeUsers map[string]*web.User

func (f fakeUsers) LookupUser(ctx context.Context, login string) (*web.User, error) {
	return f[login], nil
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// editTemplate is an edit form as the wiki shows it, for the tests: the
// guard's fields, the text, and the refusal.
const editTemplate = `{{define "title"}}edit{{end}}
{{define "content"}}<h1>edit</h1>{{with .Data}}
{{if .Reason}}<p class="error" role="alert">{{t .Reason}}</p><p id="reason">{{.Reason}}</p>{{end}}
<form method="post" action="/edit/{{.Slug}}">
<input type="hidden" name="csrf" value="{{$.CSRF}}">
<input type="hidden" name="ts" value="{{.Form.Token}}">
<p class="hp" aria-hidden="true"><label for="hp">{{t "antispam.form.honeypot"}}</label><input id="hp" name="website" tabindex="-1" autocomplete="off"></p>
{{with .Form.Question}}<input type="hidden" name="question" value="{{.ID}}">
<label for="answer">{{.Text}}</label><input id="answer" name="answer">{{end}}
<label for="text">text</label><textarea id="text" name="text">{{.Text}}</textarea>
</form>{{end}}{{end}}
`

type editPage struct {
	Slug   string
	Text   string
	Reason string
	Form   Form
}

// site is a shell, a guard and a toy wiki that calls it, served by an
// httptest server that trusts X-Forwarded-For from 127.0.0.1, so that
// each test client can have its own address.
type site struct {
	t     testing.TB
	db    *store.DB
	shell *web.Shell
	guard *Guard
	clock *clock
	srv   *httptest.Server
	log   *syncBuffer

	mu    sync.Mutex // guards pages
	pages map[string]string
}

func newSite(t testing.TB) *site {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "placette.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	log := &syncBuffer{}
	shell, err := web.NewShell(db, web.Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, slog.New(slog.NewTextHandler(log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	shell.SetUsers(fakeUsers{
		"alice": {Login: "alice", Admin: true},
		"mo":    {Login: "mo", Moderator: true},
		"bob":   {Login: "bob"},
	})
	clk := &clock{t: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	g, err := NewWith(db, shell, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	edit, err := shell.Parse(fstest.MapFS{"templates/edit.html": {Data: []byte(editTemplate)}}, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	s := &site{t: t, db: db, shell: shell, guard: g, clock: clk, log: log, pages: map[string]string{}}
	mux := http.NewServeMux()
	g.Routes(mux)
	mux.HandleFunc("GET /edit/{slug}", func(w http.ResponseWriter, r *http.Request) {
		slug := r.PathValue("slug")
		user := web.UserFrom(r.Context())
		s.mu.Lock()
		text := s.pages[slug]
		s.mu.Unlock()
		shell.Render(w, r, http.StatusOK, edit, "edit.html", editPage{Slug: slug, Text: text, Form: g.Form(w, r, user, slug)})
	})
	mux.HandleFunc("POST /edit/{slug}", func(w http.ResponseWriter, r *http.Request) {
		slug := r.PathValue("slug")
		s.mu.Lock()
		old, exists := s.pages[slug]
		s.mu.Unlock()
		e := Edit{Slug: slug, Create: !exists, User: web.UserFrom(r.Context()), Old: old, New: r.PostFormValue("text"), Summary: r.PostFormValue("summary"), Pseudonym: r.PostFormValue("name")}
		v := g.Check(r.Context(), w, r, e)
		if !v.OK {
			shell.Render(w, r, http.StatusBadRequest, edit, "edit.html", editPage{Slug: slug, Text: e.New, Reason: v.Reason, Form: v.Form})
			return
		}
		s.mu.Lock()
		s.pages[slug] = e.New
		s.mu.Unlock()
		web.Redirect(w, r, "/edit/"+slug)
	})
	s.srv = httptest.NewServer(shell.Wrap(mux))
	t.Cleanup(s.srv.Close)
	return s
}

// forwardFor sends every request as coming from addr through the trusted
// proxy.
type forwardFor struct{ addr string }

func (f forwardFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.addr)
	return http.DefaultTransport.RoundTrip(r)
}

// person is a browser at an address, maybe logged in.
type person struct {
	s *site
	c *http.Client
}

func (s *site) person(addr, login string) *person {
	s.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	c := &http.Client{
		Jar:           jar,
		Transport:     forwardFor{addr},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if login != "" {
		rec := httptest.NewRecorder()
		if err := s.shell.StartSession(rec, httptest.NewRequest("POST", "/login", nil), login); err != nil {
			s.t.Fatal(err)
		}
		u, _ := url.Parse(s.srv.URL)
		jar.SetCookies(u, rec.Result().Cookies())
	}
	return &person{s: s, c: c}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (p *person) do(req *http.Request) response {
	p.s.t.Helper()
	resp, err := p.c.Do(req)
	if err != nil {
		p.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		p.s.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (p *person) get(path string) response {
	p.s.t.Helper()
	req, err := http.NewRequest("GET", p.s.srv.URL+path, nil)
	if err != nil {
		p.s.t.Fatal(err)
	}
	return p.do(req)
}

func (p *person) post(path string, form url.Values) response {
	p.s.t.Helper()
	req, err := http.NewRequest("POST", p.s.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		p.s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return p.do(req)
}

var (
	inputValue = regexp.MustCompile(`<input[^>]*\sname="([^"]+)"[^>]*\svalue="([^"]*)"`)
	answerFor  = regexp.MustCompile(`<label for="answer">([^<]*)</label>`)
	reasonIn   = regexp.MustCompile(`<p id="reason">([^<]*)</p>`)
)

// fields returns the values of the inputs with a value in body.
func fields(body string) url.Values {
	v := url.Values{}
	for _, m := range inputValue.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], htmlUnescape(m[2]))
	}
	return v
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&#43;", "+", "&amp;", "&", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// answers gives the right answer to each default question.
var answers = map[string]string{
	"Combien font deux plus trois\u00a0?":                 "Cinq",
	"De quelle couleur est le ciel par beau temps\u00a0?": "BLEU !",
	"Quel jour de la semaine vient après lundi\u00a0?":    "mardi",
	"Combien un chat a-t-il de pattes\u00a0?":             "4",
	"De quelle couleur est la neige\u00a0?":               "Blanche.",
}

// reasonOf returns the refusal reason a page shows, or "".
func reasonOf(body string) string {
	if m := reasonIn.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// questionOf returns the question a page asks, or "".
func questionOf(body string) string {
	if m := answerFor.FindStringSubmatch(body); m != nil {
		return htmlUnescape(m[1])
	}
	return ""
}

// save opens the edit form of slug, waits as a person would, fills in text
// (and the answer when right is true and a question is asked, or a wrong
// one when it is false) and sends it. extra fields are set last.
func (p *person) save(slug, text string, right bool, extra url.Values) response {
	p.s.t.Helper()
	form := p.get("/edit/" + slug)
	if form.status != http.StatusOK {
		p.s.t.Fatalf("GET /edit/%s: %d\n%s", slug, form.status, form.body)
	}
	return p.resend(form.body, text, right, extra)
}

// resend sends again the form in body (a form shown after a refusal).
func (p *person) resend(body, text string, right bool, extra url.Values) response {
	p.s.t.Helper()
	v := fields(body)
	v.Set("text", text)
	if q := questionOf(body); q != "" {
		if right {
			a, ok := answers[q]
			if !ok {
				p.s.t.Fatalf("no answer known for %q", q)
			}
			v.Set("answer", a)
		} else {
			v.Set("answer", "je ne sais pas")
		}
	}
	for k, vs := range extra {
		v[k] = vs
	}
	p.s.clock.Add(10 * time.Second)
	action := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindStringSubmatch(body)
	if action == nil {
		p.s.t.Fatalf("no form in:\n%s", body)
	}
	return p.post(action[1], v)
}

var (
	webUserBob = web.User{Login: "bob"}
	webUserMo  = web.User{Login: "mo", Moderator: true}
)

// sampleBlocklist mixes the two formats, as pasted from public lists.
const sampleBlocklist = `# wordblock.conf (DokuWiki)
casino
viagra                  # pharmacy spam
(buy|cheap)-?(pills|meds)
\bpoker\s*online\b

## SpamBlacklist (MediaWiki): URL fragments
\bspam-domain\.example\b
\.xyz/promo
bit\.ly/[a-z0-9]{6}
`
