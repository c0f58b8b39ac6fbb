package mailinglist

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestMemberPage(t *testing.T) {
	s := newListSite(t)
	token := s.svc.MemberToken("entraide", "ana@example.org")
	page := memberPath("entraide", token)
	c := s.client(t, "")
	for _, lang := range []string{"fr", "en"} {
		r := s.get(t, c, page, lang)
		if r.status != http.StatusOK || !strings.Contains(r.body, "ana@example.org") {
			t.Fatalf("%s: status %d:\n%s", lang, r.status, r.body)
		}
		checkPage(t, r.body, lang)
	}
	for _, mode := range []Mode{ModeDigest, ModePaused, ModeEach} {
		r := s.submit(t, c, page, page, url.Values{"mode": {string(mode)}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("set %s: status %d:\n%s", mode, r.status, r.body)
		}
		m, err := s.svc.Member("entraide", "ana@example.org")
		if err != nil || m.Mode != mode {
			t.Fatalf("mode %+v, %v; want %s", m, err, mode)
		}
	}
	t.Run("bad mode", func(t *testing.T) {
		r := s.submit(t, c, page, page, url.Values{"mode": {"bouncing"}})
		if r.status != http.StatusBadRequest {
			t.Errorf("status %d, want 400", r.status)
		}
		checkPage(t, r.body, "fr")
	})
	t.Run("no CSRF token", func(t *testing.T) {
		r := s.post(t, s.client(t, ""), page, url.Values{"mode": {"paused"}})
		if r.status != http.StatusForbidden {
			t.Errorf("status %d, want 403", r.status)
		}
	})
	t.Run("bad links", func(t *testing.T) {
		for _, p := range []string{
			memberPath("entraide", "nope"),
			memberPath("entraide", token+"x"),
			memberPath("autre", token), // another list's path
			unsubscribePath("entraide", "nope"),
		} {
			r := s.get(t, c, p, "fr")
			if r.status != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", p, r.status)
			}
		}
	})
}

func TestOneClickUnsubscribe(t *testing.T) {
	s := newListSite(t)
	for _, a := range []string{"bea@example.org", "cyd@example.org"} {
		if err := s.svc.AddMember("entraide", Member{Addr: a}); err != nil {
			t.Fatal(err)
		}
	}
	path := func(addr string) string { return unsubscribePath("entraide", s.svc.MemberToken("entraide", addr)) }

	t.Run("GET changes nothing", func(t *testing.T) {
		for _, lang := range []string{"fr", "en"} {
			r := s.get(t, s.client(t, ""), path("ana@example.org"), lang)
			if r.status != http.StatusOK {
				t.Fatalf("status %d", r.status)
			}
			checkPage(t, r.body, lang)
		}
		if _, err := s.svc.Member("entraide", "ana@example.org"); err != nil {
			t.Fatalf("a GET unsubscribed: %v", err)
		}
	})
	t.Run("RFC 8058 POST from a mail provider", func(t *testing.T) {
		// No cookie, no CSRF token, another origin.
		r := s.post(t, s.client(t, ""), path("bea@example.org"), url.Values{"List-Unsubscribe": {"One-Click"}},
			"Origin", "https://mail.example", "Sec-Fetch-Site", "cross-site")
		if r.status != http.StatusOK {
			t.Fatalf("status %d:\n%s", r.status, r.body)
		}
		if _, err := s.svc.Member("entraide", "bea@example.org"); err == nil {
			t.Fatal("still a member")
		}
		// Providers may send it twice.
		if r := s.post(t, s.client(t, ""), path("bea@example.org"), url.Values{"List-Unsubscribe": {"One-Click"}}, "Origin", "https://mail.example"); r.status >= 500 {
			t.Errorf("second POST: status %d", r.status)
		}
	})
	t.Run("the page's button", func(t *testing.T) {
		r := s.submit(t, s.client(t, ""), path("cyd@example.org"), path("cyd@example.org"), nil)
		if r.status != http.StatusOK {
			t.Fatalf("status %d", r.status)
		}
		checkPage(t, r.body, "fr")
		if _, err := s.svc.Member("entraide", "cyd@example.org"); err == nil {
			t.Fatal("still a member")
		}
	})
	t.Run("a forged link", func(t *testing.T) {
		r := s.post(t, s.client(t, ""), unsubscribePath("entraide", "forged"), url.Values{"List-Unsubscribe": {"One-Click"}}, "Origin", "https://mail.example")
		if r.status != http.StatusNotFound {
			t.Errorf("status %d, want 404", r.status)
		}
		if _, err := s.svc.Member("entraide", "ana@example.org"); err != nil {
			t.Errorf("ana was unsubscribed: %v", err)
		}
	})
}

// TestOtherPostsNeedCSRF checks the exemption of the one-click endpoint
// covers nothing else: every other form of the lists refuses a POST from
// another origin without token.
func TestOtherPostsNeedCSRF(t *testing.T) {
	s := newListSite(t)
	token := s.svc.MemberToken("entraide", "ana@example.org")
	for _, p := range []string{
		"/lists/entraide/subscribe",
		"/lists/entraide/confirm/abc",
		memberPath("entraide", token),
		"/admin/lists",
		"/admin/lists/entraide",
		"/admin/lists/entraide/delete",
		"/admin/lists/entraide/members/add",
		"/admin/lists/entraide/members/remove",
		"/admin/mail",
		"/admin/moderation/entraide/1",
	} {
		t.Run(p, func(t *testing.T) {
			r := s.post(t, s.client(t, "alice"), p, url.Values{"addr": {"ana@example.org"}, "confirm": {"entraide"}, "List-Unsubscribe": {"One-Click"}}, "Origin", "https://mail.example")
			if r.status != http.StatusForbidden {
				t.Errorf("status %d, want 403", r.status)
			}
		})
	}
	if _, err := s.svc.Member("entraide", "ana@example.org"); err != nil {
		t.Errorf("ana was unsubscribed: %v", err)
	}
	if _, err := s.svc.List("entraide"); err != nil {
		t.Errorf("the list was deleted: %v", err)
	}
}
