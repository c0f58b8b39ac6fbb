package mailinglist

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/web/webtest"

	"codeberg.org/placette/placette/internal/store/storetest"
	"codeberg.org/placette/placette/internal/web"
)

// testUsers is a web.UserSource over a fixed map.
type testUsers map[string]*web.User

func (u testUsers) LookupUser(ctx context.Context, login string) (*web.User, error) {
	return u[login], nil
}

// noDNS answers every lookup with "no such host", at once.
type noDNS struct{}

func (noDNS) LookupTXT(ctx context.Context, name string) ([]string, error) {
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (noDNS) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (noDNS) LookupHost(ctx context.Context, host string) ([]string, error) {
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// syncLog is a log destination safe for the server's goroutines.
type syncLog struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testSite is the lists' pages served by a real shell over a temporary
// database, with three accounts: alice (administrator), mo (moderator)
// and bob (neither).
type testSite struct {
	dir   string // the data folder
	svc   *Service
	shell *web.Shell
	srv   *httptest.Server
	log   *syncLog
}

const testDomain = "example.org"

func newTestSite(t testing.TB) *testSite {
	t.Helper()
	db := storetest.Open(t)
	log := &syncLog{}
	logger := slog.New(slog.NewTextHandler(log, nil))
	shell, err := web.NewShell(db, web.Config{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	shell.SetUsers(testUsers{
		"alice": {Login: "alice", Admin: true},
		"mo":    {Login: "mo", Moderator: true},
		"bob":   {Login: "bob"},
	})
	dir := t.TempDir()
	svc, err := New(Config{
		DB: db, Shell: shell, Logger: logger,
		DataDir: dir, MailDomain: testDomain, BaseURL: "http://127.0.0.1",
		DNS: noDNS{},
		Now: func() time.Time { return time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	web.NewHandler(shell, db).Routes(mux)
	svc.Routes(mux)
	srv := httptest.NewServer(shell.Wrap(mux))
	t.Cleanup(srv.Close)
	return &testSite{dir: dir, svc: svc, shell: shell, srv: srv, log: log}
}

// storeReady skips the test while the store is still the API skeleton
// (its methods answer errors.ErrUnsupported).
func storeReady(t testing.TB, s *testSite) {
	t.Helper()
	err := s.svc.CreateList(List{Name: "probe-store", Title: "probe", Policy: PolicyMembers})
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip("the lists' store is not implemented yet")
	}
	if err != nil {
		t.Fatalf("create a list: %v", err)
	}
	if err := s.svc.DeleteList("probe-store"); err != nil {
		t.Fatalf("delete a list: %v", err)
	}
}

// client returns a client with its own cookies that does not follow
// redirects; login "" is anonymous.
func (s *testSite) client(t *testing.T, login string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if login != "" {
		rec := httptest.NewRecorder()
		if err := s.shell.StartSession(rec, httptest.NewRequest("POST", "/login", nil), login); err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(s.srv.URL)
		jar.SetCookies(u, rec.Result().Cookies())
	}
	return c
}

// response is what a test reads of an answer.
type response struct {
	status int
	header http.Header
	body   string
}

// doRequest sends req with c and reads the whole answer.
func doRequest(t *testing.T, c *http.Client, req *http.Request) response {
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

// get fetches path in lang ("" for the default).
func (s *testSite) get(t *testing.T, c *http.Client, path, lang string) response {
	t.Helper()
	req, err := http.NewRequest("GET", s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	return doRequest(t, c, req)
}

// post sends form to path with header pairs.
func (s *testSite) post(t *testing.T, c *http.Client, path string, form url.Values, header ...string) response {
	t.Helper()
	req, err := http.NewRequest("POST", s.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return doRequest(t, c, req)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// submit fetches page for the CSRF token of its forms and posts form with
// it to action, as a browser does.
func (s *testSite) submit(t *testing.T, c *http.Client, page, action string, form url.Values) response {
	t.Helper()
	r := s.get(t, c, page, "")
	m := csrfInput.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("GET %s: %d, no CSRF token:\n%s", page, r.status, r.body)
	}
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("csrf", m[1])
	return s.post(t, c, action, f)
}

var (
	rawKey = regexp.MustCompile(`\b(list|form|error|admin)\.[a-z_]+(\.[a-z_\-]+)*\b`)
)

// checkPage checks a page is in lang, shows no raw catalog key, and gets
// right what assistive technologies need: one h1, headings in order,
// every control labelled, ids unique, aria references that resolve.
func checkPage(t *testing.T, body, lang string) {
	t.Helper()
	if !strings.Contains(body, `<html lang="`+lang+`"`) {
		t.Errorf("page not in %s", lang)
	}
	// Addresses and paths contain dots; keys are what follows a space,
	// a tag or a quote.
	text := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body, " ")
	for _, m := range rawKey.FindAllString(text, -1) {
		if !strings.Contains(m, "example.org") && !strings.HasSuffix(m, ".csv") {
			t.Errorf("raw catalog key %q in the page", m)
		}
	}
	webtest.CheckAccessible(t, body)
}
