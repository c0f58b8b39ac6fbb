package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"codeberg.org/placette/placette/internal/store"
	"codeberg.org/placette/placette/internal/store/storetest"
	"codeberg.org/placette/placette/internal/web/webtest"
)

// fakeUsers is a UserSource over a map, safe for concurrent use.
type fakeUsers struct {
	mu    sync.Mutex // guards users
	users map[string]*User
}

func (f *fakeUsers) LookupUser(ctx context.Context, login string) (*User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.users[login], nil
}

func (f *fakeUsers) remove(login string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.users, login)
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines to log to.
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

// site is a shell with its handler, served by an httptest server.
type site struct {
	db    *store.DB
	shell *Shell
	h     *Handler
	mux   *http.ServeMux
	srv   *httptest.Server
	users *fakeUsers
	log   *syncBuffer
}

// newShell opens a database in a temporary folder and builds a shell on it.
func newShell(t testing.TB, cfg Config) (*Shell, *store.DB, *syncBuffer) {
	t.Helper()
	db := storetest.Open(t)
	log := &syncBuffer{}
	shell, err := NewShell(db, cfg, slog.New(slog.NewTextHandler(log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return shell, db, log
}

// newSite starts a site with three accounts: alice (admin), mo (moderator)
// and bob (neither). extra functions register test-only routes.
func newSite(t *testing.T, cfg Config, extra ...func(s *site)) *site {
	t.Helper()
	shell, db, log := newShell(t, cfg)
	users := &fakeUsers{users: map[string]*User{
		"alice": {Login: "alice", Admin: true},
		"mo":    {Login: "mo", Moderator: true},
		"bob":   {Login: "bob"},
	}}
	shell.SetUsers(users)
	s := &site{db: db, shell: shell, h: NewHandler(shell, db), mux: http.NewServeMux(), users: users, log: log}
	s.h.Routes(s.mux)
	for _, f := range extra {
		f(s)
	}
	s.srv = httptest.NewServer(shell.Wrap(s.mux))
	t.Cleanup(s.srv.Close)
	return s
}

// client returns a client with its own cookie jar that does not follow
// redirects.
func (s *site) client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// login starts a session for login and puts its cookie in c's jar.
func (s *site) login(t *testing.T, c *http.Client, login string) {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := s.shell.StartSession(rec, httptest.NewRequest("POST", "/login", nil), login); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(s.srv.URL)
	c.Jar.SetCookies(u, rec.Result().Cookies())
}

// response is what a test reads of an answer.
type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// get fetches path with optional header pairs ("Accept-Language", "en").
func (s *site) get(t *testing.T, c *http.Client, path string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest("GET", s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, c, req)
}

// post sends form to path with optional header pairs.
func (s *site) post(t *testing.T, c *http.Client, path string, form url.Values, header ...string) response {
	t.Helper()
	req, err := http.NewRequest("POST", s.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, c, req)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfFrom returns the CSRF token of the first form of a page.
func csrfFrom(t *testing.T, body string) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field in page:\n%s", body)
	}
	return m[1]
}

// settingsForm returns the settings form's current values and token, as a
// browser would send them back, for c logged in as an administrator.
func (s *site) settingsForm(t *testing.T, c *http.Client) url.Values {
	t.Helper()
	r := s.get(t, c, "/admin/settings")
	if r.status != http.StatusOK {
		t.Fatalf("GET /admin/settings: %d", r.status)
	}
	st := s.shell.Settings()
	return url.Values{
		"csrf":        {csrfFrom(t, r.body)},
		"name":        {st.Name},
		"description": {st.Description},
		"hoster":      {st.Hoster},
		"hoster_url":  {st.HosterURL},
		"contact":     {st.Contact},
		"terms":       {st.Terms},
		"privacy":     {st.Privacy},
		"source_url":  {st.SourceURL},
	}
}

// checkPage checks what every HTML page must get right for assistive
// technologies (see webtest.CheckAccessible).
func checkPage(t *testing.T, body string) {
	t.Helper()
	webtest.CheckAccessible(t, body)
}
