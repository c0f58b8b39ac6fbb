package mailinglist

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/web"
)

// newListSite is a test site with the store ready and the list
// "entraide", whose one member is ana@example.org.
func newListSite(t *testing.T) *testSite {
	t.Helper()
	s := newTestSite(t)
	storeReady(t, s)
	if err := s.svc.CreateList(List{Name: "entraide", Title: "Entraide", Policy: PolicyMembers}); err != nil {
		t.Fatal(err)
	}
	if err := s.svc.AddMember("entraide", Member{Addr: "ana@example.org", Name: "Ana"}); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSubscribeRefusals(t *testing.T) {
	s := newListSite(t)
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   string // in the page
	}{
		{"honeypot", url.Values{"addr": {"bot@example.org"}, "name": {"Bot"}, honeypotField: {"http://spam.example"}}, http.StatusBadRequest, "hidden field must stay empty"},
		{"no address", url.Values{"addr": {""}, "name": {"Zoé"}}, http.StatusBadRequest, "not an email address"},
		{"bad address", url.Values{"addr": {"zoé at example.org"}, "name": {"Zoé"}}, http.StatusBadRequest, "not an email address"},
		{"name too long", url.Values{"addr": {"zoe@example.org"}, "name": {strings.Repeat("z", 300)}}, http.StatusBadRequest, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := s.client(t, "")
			r := s.submitLang(t, c, "/lists/entraide/subscribe", tt.form, "en")
			if r.status != tt.status {
				t.Fatalf("status %d, want %d:\n%s", r.status, tt.status, r.body)
			}
			if !strings.Contains(r.body, tt.want) {
				t.Errorf("the page does not say %q:\n%s", tt.want, r.body)
			}
			// What was typed is kept.
			if a := tt.form.Get("addr"); a != "" && !strings.Contains(r.body, `value="`+a+`"`) {
				t.Errorf("the address typed is lost")
			}
			checkPage(t, r.body, "en")
		})
	}
	if strings.Contains(s.log.String(), "subscription requested") {
		t.Error("a refused form asked for a subscription")
	}
}

// submitLang is submit with an Accept-Language header on both requests.
func (s *testSite) submitLang(t *testing.T, c *http.Client, path string, form url.Values, lang string) response {
	t.Helper()
	r := s.get(t, c, path, lang)
	m := csrfInput.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("GET %s: %d, no CSRF token", path, r.status)
	}
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("csrf", m[1])
	return s.post(t, c, path, f, "Accept-Language", lang)
}

func TestSubscribeRateLimit(t *testing.T) {
	s := newListSite(t)
	c := s.client(t, "")
	for i := range clientBurst + 1 {
		addr := "p" + string(rune('a'+i)) + "@example.org"
		r := s.submitLang(t, c, "/lists/entraide/subscribe", url.Values{"addr": {addr}}, "fr")
		if i < clientBurst {
			if r.status != http.StatusOK {
				t.Fatalf("request %d: status %d:\n%s", i, r.status, r.body)
			}
			continue
		}
		if r.status != http.StatusTooManyRequests {
			t.Fatalf("request %d: status %d, want 429", i, r.status)
		}
		if r.header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
		if !strings.Contains(r.body, "Trop de demandes") || !strings.Contains(r.body, `value="`+addr+`"`) {
			t.Errorf("the 429 page does not explain or lost the address:\n%s", r.body)
		}
		checkPage(t, r.body, "fr")
	}
}

func TestSubscribeTargetRateLimit(t *testing.T) {
	s := newListSite(t)
	// From many networks, one address: its mailbox is protected. (The
	// test's requests all come from 127.0.0.1: lift the per-network limit.)
	s.svc.web.byClient = web.NewLimiter(clientEvery, 100)
	var last response
	for i := range targetBurst + 1 {
		c := s.client(t, "")
		req := url.Values{"addr": {"victim@example.org"}}
		last = s.submitLang(t, c, "/lists/entraide/subscribe", req, "en")
		if i < targetBurst && last.status != http.StatusOK {
			t.Fatalf("request %d: status %d", i, last.status)
		}
	}
	if last.status != http.StatusTooManyRequests {
		t.Errorf("status %d, want 429", last.status)
	}
}

// TestSubscribeSameAnswer checks the page after a subscription request
// tells nothing of whether the address is a member already.
func TestSubscribeSameAnswer(t *testing.T) {
	s := newListSite(t)
	ask := func(addr string) response {
		r := s.submitLang(t, s.client(t, ""), "/lists/entraide/subscribe", url.Values{"addr": {addr}, "name": {"X"}}, "fr")
		if r.status != http.StatusOK {
			t.Fatalf("%s: status %d:\n%s", addr, r.status, r.body)
		}
		r.body = strings.ReplaceAll(r.body, addr, "ADDR")
		return r
	}
	member, stranger := ask("ana@example.org"), ask("zoe@example.org")
	if member.body != stranger.body {
		t.Errorf("the pages differ:\nmember:\n%s\nstranger:\n%s", member.body, stranger.body)
	}
	checkPage(t, member.body, "fr")
	if _, err := s.svc.Member("entraide", "zoe@example.org"); err == nil {
		t.Error("subscribed before confirmation")
	}
}

var confirmLink = regexp.MustCompile(`/lists/entraide/confirm/([a-zA-Z0-9_-]+)`)

// confirmationToken runs the delivery queue until the confirmation mail
// for addr is in the outbox, and returns the token of its link.
func (s *testSite) confirmationToken(t *testing.T, addr string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.svc.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for range 500 {
		files, _ := filepath.Glob(filepath.Join(s.dir, "outbox", "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil || !strings.Contains(string(b), addr) {
				continue
			}
			// Undo quoted-printable's soft line breaks.
			text := strings.NewReplacer("=\r\n", "", "=\n", "").Replace(string(b))
			if m := confirmLink.FindStringSubmatch(text); m != nil {
				return m[1]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no confirmation mail for %s in the outbox", addr)
	return ""
}

func TestConfirmNeedsPost(t *testing.T) {
	s := newListSite(t)
	c := s.client(t, "")
	if r := s.submitLang(t, c, "/lists/entraide/subscribe", url.Values{"addr": {"Zoe@Example.org"}, "name": {"Zoé"}}, "fr"); r.status != http.StatusOK {
		t.Fatalf("subscribe: %d", r.status)
	}
	token := s.confirmationToken(t, "zoe@example.org")
	page := "/lists/entraide/confirm/" + token

	// A mail scanner follows the link: nothing happens.
	for range 2 {
		if r := s.get(t, s.client(t, ""), page, "fr"); r.status != http.StatusOK {
			t.Fatalf("GET: status %d", r.status)
		}
	}
	if _, err := s.svc.Member("entraide", "zoe@example.org"); err == nil {
		t.Fatal("a GET subscribed")
	}
	// A POST without token is refused.
	if r := s.post(t, s.client(t, ""), page, url.Values{}); r.status != http.StatusForbidden {
		t.Fatalf("POST without CSRF: status %d, want 403", r.status)
	}
	r := s.submitLang(t, c, page, nil, "fr")
	if r.status != http.StatusOK || !strings.Contains(r.body, "Bienvenue") {
		t.Fatalf("confirm: status %d:\n%s", r.status, r.body)
	}
	checkPage(t, r.body, "fr")
	m, err := s.svc.Member("entraide", "zoe@example.org")
	if err != nil || m.Name != "Zoé" {
		t.Fatalf("member after confirmation: %+v, %v", m, err)
	}
	if !strings.Contains(r.body, memberPath("entraide", s.svc.MemberToken("entraide", "zoe@example.org"))) {
		t.Error("the welcome page has no link to manage the subscription")
	}
	// The link serves once.
	if r := s.submitLang(t, c, page, nil, "fr"); r.status != http.StatusNotFound {
		t.Errorf("second confirmation: status %d, want 404", r.status)
	}
}
