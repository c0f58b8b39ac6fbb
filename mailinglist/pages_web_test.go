package mailinglist

import (
	"net/http"
	"strings"
	"testing"
)

// TestPagesTranslated renders every page of the lists in French and in
// English, and checks each for raw catalog keys and accessibility.
func TestPagesTranslated(t *testing.T) {
	s := newTestSite(t)
	pages := []struct {
		path  string
		login string
		store bool // needs the store's lists
	}{
		{"/lists/", "", false},
		{"/lists/", "alice", false},
		{"/admin/lists", "alice", false},
		{"/admin/moderation", "mo", false},
		{"/admin/mail", "alice", false},
		{"/lists/entraide/", "", true},
		{"/lists/entraide/subscribe", "", true},
		{"/lists/entraide/confirm/some-token", "", true},
		{"/admin/lists/entraide", "alice", true},
		{"/admin/lists/entraide/members", "alice", true},
		{"/admin/lists/entraide/members?q=zzz", "alice", true},
	}
	ready := false
	for _, p := range pages {
		if p.store && !ready {
			storeReady(t, s)
			ready = true
			if err := s.svc.CreateList(List{Name: "entraide", Title: "Entraide", Description: "Pour s’entraider.", Policy: PolicyMembers}); err != nil {
				t.Fatal(err)
			}
			if err := s.svc.AddMember("entraide", Member{Addr: "ana@example.org", Name: "Ana"}); err != nil {
				t.Fatal(err)
			}
		}
		for _, lang := range []string{"fr", "en"} {
			t.Run(lang+p.path+"/"+p.login, func(t *testing.T) {
				r := s.get(t, s.client(t, p.login), p.path, lang)
				if r.status != http.StatusOK {
					t.Fatalf("status %d:\n%s", r.status, r.body)
				}
				checkPage(t, r.body, lang)
			})
		}
	}
}

// TestDirectoryHidesPrivateCounts checks the size of a private list shows
// to staff only.
func TestDirectoryHidesPrivateCounts(t *testing.T) {
	s := newTestSite(t)
	storeReady(t, s)
	for _, l := range []List{
		{Name: "ouverte", Title: "Ouverte", Policy: PolicyMembers},
		{Name: "secrete", Title: "Secrète", Policy: PolicyMembers, Private: true},
	} {
		if err := s.svc.CreateList(l); err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{"a@example.org", "b@example.org", "c@example.org"} {
			if err := s.svc.AddMember(l.Name, Member{Addr: a}); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		login string
		want  int // how many "3 members" the page shows
	}{
		{"", 1}, {"bob", 1}, {"mo", 2}, {"alice", 2},
	}
	for _, tt := range tests {
		t.Run("login="+tt.login, func(t *testing.T) {
			r := s.get(t, s.client(t, tt.login), "/lists/", "en")
			if got := strings.Count(r.body, "3 members"); got != tt.want {
				t.Errorf("%d counts shown, want %d:\n%s", got, tt.want, r.body)
			}
			if !strings.Contains(r.body, "secrete@example.org") || !strings.Contains(r.body, "/lists/secrete/subscribe") {
				t.Error("the private list is not in the directory")
			}
		})
	}
}

// TestUnknownList checks every page of a list that does not exist is a
// 404.
func TestUnknownList(t *testing.T) {
	s := newTestSite(t)
	for _, p := range []string{"/lists/nope/", "/lists/nope/subscribe", "/admin/lists/nope", "/admin/lists/nope/members", "/admin/lists/nope/members.csv"} {
		t.Run(p, func(t *testing.T) {
			if r := s.get(t, s.client(t, "alice"), p, ""); r.status != http.StatusNotFound {
				t.Errorf("status %d, want 404", r.status)
			}
		})
	}
}
