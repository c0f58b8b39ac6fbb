package mailinglist

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/smtp"
	"net/url"
	"strings"
	"testing"
)

func TestAdminAccess(t *testing.T) {
	s := newTestSite(t)
	tests := []struct {
		path  string
		login string
		want  int
	}{
		{"/admin/lists", "", http.StatusSeeOther},
		{"/admin/lists", "bob", http.StatusForbidden},
		{"/admin/lists", "mo", http.StatusForbidden},
		{"/admin/lists", "alice", http.StatusOK},
		{"/admin/mail", "", http.StatusSeeOther},
		{"/admin/mail", "mo", http.StatusForbidden},
		{"/admin/mail", "alice", http.StatusOK},
		{"/admin/moderation", "", http.StatusSeeOther},
		{"/admin/moderation", "bob", http.StatusForbidden},
		{"/admin/moderation", "mo", http.StatusOK},
		{"/admin/moderation", "alice", http.StatusOK},
		{"/admin/lists/x/members", "mo", http.StatusForbidden},
		{"/admin/lists/x/members.csv", "", http.StatusSeeOther},
		{"/admin/lists/x/members.csv", "mo", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.path+"/"+tt.login, func(t *testing.T) {
			r := s.get(t, s.client(t, tt.login), tt.path, "")
			if r.status != tt.want {
				t.Fatalf("status %d, want %d", r.status, tt.want)
			}
			if tt.want == http.StatusSeeOther && !strings.HasPrefix(r.header.Get("Location"), "/login?next=") {
				t.Errorf("redirect to %q, want the login page", r.header.Get("Location"))
			}
		})
	}
	t.Run("POST as moderator", func(t *testing.T) {
		c := s.client(t, "mo")
		r := s.submit(t, c, "/admin/moderation", "/admin/lists", url.Values{"name": {"pirate"}, "policy": {"anyone"}})
		if r.status != http.StatusForbidden {
			t.Errorf("status %d, want 403", r.status)
		}
	})
}

// listFormValues is a complete creation form.
func listFormValues(name string) url.Values {
	return url.Values{
		"name": {name}, "title": {"Entraide numérique"}, "description": {"Pour s’entraider.\nEntre médiateurs."},
		"domain": {"listes.example.org"}, "policy": {"moderated"}, "private": {"1"}, "self_copy": {"1"},
		"reply_to": {"list"}, "subject_tag": {"[entraide]"}, "max_kb": {"2048"},
	}
}

func TestAdminCreateEditDeleteList(t *testing.T) {
	s := newTestSite(t)
	storeReady(t, s)
	c := s.client(t, "alice")

	t.Run("refused forms keep what was typed", func(t *testing.T) {
		for _, tt := range []struct {
			field, value, want string
		}{
			{"name", "Pas Bon!", "lower-case letters"},
			{"name", "", "required"},
			{"max_kb", "beaucoup", "whole number"},
			{"domain", "pas un domaine", "not a domain"},
			{"policy", "everyone", "choose who may post"},
		} {
			t.Run(tt.field+"="+tt.value, func(t *testing.T) {
				f := listFormValues("entraide")
				f.Set(tt.field, tt.value)
				r := s.submitLang(t, c, "/admin/lists", f, "en")
				if r.status != http.StatusBadRequest {
					t.Fatalf("status %d:\n%s", r.status, r.body)
				}
				if !strings.Contains(r.body, tt.want) || !strings.Contains(r.body, `id="err-`+tt.field+`"`) {
					t.Errorf("no error next to %s:\n%s", tt.field, r.body)
				}
				if !strings.Contains(r.body, "Entraide numérique") || !strings.Contains(r.body, "[entraide]") {
					t.Error("the form lost what was typed")
				}
				checkPage(t, r.body, "en")
			})
		}
	})

	r := s.submit(t, c, "/admin/lists", "/admin/lists", listFormValues("entraide"))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/lists/entraide?done=created" {
		t.Fatalf("create: status %d, location %q:\n%s", r.status, r.header.Get("Location"), r.body)
	}
	l, err := s.svc.List("entraide")
	if err != nil {
		t.Fatal(err)
	}
	want := List{Name: "entraide", Title: "Entraide numérique", Description: "Pour s’entraider.\nEntre médiateurs.", Domain: "listes.example.org",
		Private: true, Policy: PolicyModerated, SelfCopy: true, ReplyToList: true, SubjectTag: "[entraide]", MaxBytes: 2048 * 1024}
	if l.Name != want.Name || l.Title != want.Title || l.Description != want.Description || l.Domain != want.Domain ||
		l.Private != want.Private || l.Policy != want.Policy || l.SelfCopy != want.SelfCopy || l.ReplyToList != want.ReplyToList ||
		l.SubjectTag != want.SubjectTag || l.MaxBytes != want.MaxBytes {
		t.Errorf("created\n%+v\nwant\n%+v", *l, want)
	}

	t.Run("duplicate", func(t *testing.T) {
		r := s.submitLang(t, c, "/admin/lists", listFormValues("entraide"), "en")
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "has this name already") {
			t.Errorf("status %d:\n%s", r.status, r.body)
		}
	})

	t.Run("default domain", func(t *testing.T) {
		r := s.get(t, c, "/admin/lists", "")
		if !strings.Contains(r.body, `name="domain" value="listes.example.org"`) {
			t.Errorf("the new list's domain is not the existing lists':\n%s", r.body)
		}
	})

	t.Run("edit", func(t *testing.T) {
		f := listFormValues("ignored")
		f.Set("title", "Entraide")
		f.Del("private")
		f.Set("reply_to", "author")
		f.Set("policy", "members")
		f.Set("max_kb", "")
		r := s.submit(t, c, "/admin/lists/entraide", "/admin/lists/entraide", f)
		if r.status != http.StatusSeeOther {
			t.Fatalf("status %d:\n%s", r.status, r.body)
		}
		l, err := s.svc.List("entraide")
		if err != nil || l.Title != "Entraide" || l.Private || l.ReplyToList || l.Policy != PolicyMembers {
			t.Errorf("after edit: %+v, %v", l, err)
		}
		if _, err := s.svc.List("ignored"); err == nil {
			t.Error("the edit form renamed or created a list")
		}
	})

	t.Run("delete needs the name", func(t *testing.T) {
		r := s.submitTo(t, c, "/admin/lists/entraide", "/admin/lists/entraide/delete", url.Values{"confirm": {"autre"}}, "en")
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="err-confirm"`) {
			t.Fatalf("status %d:\n%s", r.status, r.body)
		}
		checkPage(t, r.body, "en")
		if _, err := s.svc.List("entraide"); err != nil {
			t.Fatal("deleted without confirmation")
		}
		r = s.submit(t, c, "/admin/lists/entraide", "/admin/lists/entraide/delete", url.Values{"confirm": {"entraide"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("status %d:\n%s", r.status, r.body)
		}
		if _, err := s.svc.List("entraide"); err == nil {
			t.Fatal("not deleted")
		}
	})
}

// submitTo posts form to action with the token of page, in lang.
func (s *testSite) submitTo(t *testing.T, c *http.Client, page, action string, form url.Values, lang string) response {
	t.Helper()
	r := s.get(t, c, page, lang)
	m := csrfInput.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("GET %s: %d, no CSRF token", page, r.status)
	}
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("csrf", m[1])
	return s.post(t, c, action, f, "Accept-Language", lang)
}

func TestAdminMembers(t *testing.T) {
	s := newListSite(t)
	c := s.client(t, "alice")
	page := "/admin/lists/entraide/members"

	r := s.submit(t, c, page, page+"/add", url.Values{"addr": {" Bea@Example.org "}, "name": {"Béa"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("add: status %d:\n%s", r.status, r.body)
	}
	if m, err := s.svc.Member("entraide", "bea@example.org"); err != nil || m.Name != "Béa" || m.Mode != ModeEach {
		t.Fatalf("added %+v, %v", m, err)
	}
	for _, tt := range []struct{ addr, want string }{
		{"bea@example.org", "subscribed already"},
		{"pas une adresse", "not an email address"},
	} {
		r := s.submitTo(t, c, page, page+"/add", url.Values{"addr": {tt.addr}, "name": {"X"}}, "en")
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, tt.want) || !strings.Contains(r.body, `value="`+tt.addr+`"`) {
			t.Errorf("add %q: status %d:\n%s", tt.addr, r.status, r.body)
		}
		checkPage(t, r.body, "en")
	}

	r = s.submit(t, c, page, page+"/mode", url.Values{"addr": {"bea@example.org"}, "mode": {"digest"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("mode: status %d", r.status)
	}
	if m, _ := s.svc.Member("entraide", "bea@example.org"); m == nil || m.Mode != ModeDigest {
		t.Errorf("mode not changed: %+v", m)
	}

	t.Run("search and pages", func(t *testing.T) {
		var csv strings.Builder
		for i := range membersPerPage + 5 {
			fmt.Fprintf(&csv, "m%03d@example.net\n", i)
		}
		if added, bad, err := s.svc.ImportMembers("entraide", strings.NewReader(csv.String())); err != nil || added != membersPerPage+5 || len(bad) > 0 {
			t.Fatalf("import: %d, %q, %v", added, bad, err)
		}
		r := s.get(t, c, page, "en")
		if !strings.Contains(r.body, `rel="next"`) || strings.Contains(r.body, "m054@example.net") {
			t.Errorf("the first page is not paged")
		}
		r = s.get(t, c, page+"?page=2", "en")
		if !strings.Contains(r.body, `rel="prev"`) || !strings.Contains(r.body, "m054@example.net") {
			t.Errorf("the second page misses the last members")
		}
		r = s.get(t, c, page+"?q=B%C3%A9A", "en")
		if !strings.Contains(r.body, "bea@example.org") || strings.Contains(r.body, "m001@example.net") || !strings.Contains(r.body, "1 person found") {
			t.Errorf("search by name:\n%s", r.body)
		}
		checkPage(t, r.body, "en")
	})

	r = s.submit(t, c, page, page+"/remove", url.Values{"addr": {"bea@example.org"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("remove: status %d", r.status)
	}
	if _, err := s.svc.Member("entraide", "bea@example.org"); err == nil {
		t.Error("not removed")
	}
}

// upload posts a CSV file to the import form as a browser does.
func (s *testSite) upload(t *testing.T, c *http.Client, page, action, csv, lang string) response {
	t.Helper()
	r := s.get(t, c, page, lang)
	m := csrfInput.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no CSRF token in %s", page)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("csrf", m[1])
	if csv != "" {
		f, _ := w.CreateFormFile("file", "membres.csv")
		f.Write([]byte(csv))
	}
	w.Close()
	req, _ := http.NewRequest("POST", s.srv.URL+action, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Accept-Language", lang)
	return doRequest(t, c, req)
}

func TestAdminImportExport(t *testing.T) {
	s := newListSite(t)
	c := s.client(t, "alice")
	page := "/admin/lists/entraide/members"
	csv := "bea@example.org,Béa\nnot an address,X\ncyd@example.org\nana@example.org,Ana again\n<script>@x,<b>\n"
	r := s.upload(t, c, page, page+"/import", csv, "en")
	if r.status != http.StatusOK {
		t.Fatalf("import: status %d:\n%s", r.status, r.body)
	}
	checkPage(t, r.body, "en")
	if !strings.Contains(r.body, "2 people added") {
		t.Errorf("the count of added members is missing:\n%s", r.body)
	}
	if !strings.Contains(r.body, "not an address") || !strings.Contains(r.body, "&lt;script&gt;") {
		t.Errorf("the bad lines are not reported, escaped:\n%s", r.body)
	}
	for _, a := range []string{"bea@example.org", "cyd@example.org"} {
		if _, err := s.svc.Member("entraide", a); err != nil {
			t.Errorf("%s not imported: %v", a, err)
		}
	}
	t.Run("no file", func(t *testing.T) {
		r := s.upload(t, c, page, page+"/import", "", "en")
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="err-file"`) {
			t.Errorf("status %d:\n%s", r.status, r.body)
		}
	})
	t.Run("export", func(t *testing.T) {
		r := s.get(t, c, page+".csv", "")
		if r.status != http.StatusOK {
			t.Fatalf("status %d", r.status)
		}
		if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "entraide-members.csv") {
			t.Errorf("Content-Disposition %q", cd)
		}
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
			t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
		}
		for _, a := range []string{"ana@example.org", "bea@example.org", "cyd@example.org"} {
			if !strings.Contains(r.body, a) {
				t.Errorf("%s missing from the export:\n%s", a, r.body)
			}
		}
	})
}

// holdMessage sends a message from a stranger to the list over SMTP, which
// the members-only policy holds for moderation.
func (s *testSite) holdMessage(t *testing.T, subject, body string) Held {
	t.Helper()
	before, _ := s.svc.HeldMessages("entraide")
	s.sendMessage(t, subject, body)
	held, err := s.svc.HeldMessages("entraide")
	if err != nil || len(held) != len(before)+1 {
		t.Fatalf("held %d messages, %v; want %d", len(held), err, len(before)+1)
	}
	return held[len(held)-1]
}

var sent int // messages sent by sendMessage, for unique Message-IDs

// sendMessage sends a message from stranger@example.net to the list over
// SMTP.
func (s *testSite) sendMessage(t *testing.T, subject, body string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.svc.ServeSMTP(ctx, ln) }()
	defer func() { cancel(); <-done }()
	sent++
	msg := "From: Stranger <stranger@example.net>\r\nTo: entraide@example.org\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + fmt.Sprint(sent) + "-held@example.net>\r\nDate: Sat, 14 Mar 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n"
	if err := smtp.SendMail(ln.Addr().String(), nil, "stranger@example.net", []string{"entraide@example.org"}, []byte(msg)); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func TestModeration(t *testing.T) {
	s := newListSite(t)
	c := s.client(t, "mo")
	h := s.holdMessage(t, "Bonjour à tous", "Un message <script>alert(1)</script> à modérer.")

	r := s.get(t, c, "/admin/moderation", "fr")
	if r.status != http.StatusOK || !strings.Contains(r.body, "Bonjour à tous") || !strings.Contains(r.body, "stranger@example.net") {
		t.Fatalf("the queue does not show the message:\n%s", r.body)
	}
	checkPage(t, r.body, "fr")
	msgPage := fmt.Sprintf("/admin/moderation/entraide/%d", h.ID)
	for _, lang := range []string{"fr", "en"} {
		r = s.get(t, c, msgPage, lang)
		if r.status != http.StatusOK {
			t.Fatalf("status %d", r.status)
		}
		if strings.Contains(r.body, "<script>alert") || !strings.Contains(r.body, "&lt;script&gt;alert(1)") {
			t.Errorf("the raw message is not shown escaped:\n%s", r.body)
		}
		checkPage(t, r.body, lang)
	}

	t.Run("bad action", func(t *testing.T) {
		r := s.submitTo(t, c, msgPage, msgPage, url.Values{"action": {"publish"}, "reason": {"gardé"}}, "en")
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "gardé") {
			t.Errorf("status %d:\n%s", r.status, r.body)
		}
	})
	t.Run("unknown message", func(t *testing.T) {
		if r := s.get(t, c, "/admin/moderation/entraide/999999", ""); r.status != http.StatusNotFound {
			t.Errorf("status %d, want 404", r.status)
		}
		if r := s.get(t, c, "/admin/moderation/entraide/x", ""); r.status != http.StatusNotFound {
			t.Errorf("status %d, want 404", r.status)
		}
	})

	for _, a := range []Action{Reject, Discard, Approve, ApproveAlways} {
		t.Run(string(a), func(t *testing.T) {
			h := s.holdMessage(t, "Sujet "+string(a), "Texte.")
			p := fmt.Sprintf("/admin/moderation/entraide/%d", h.ID)
			r := s.submit(t, c, p, p, url.Values{"action": {string(a)}, "reason": {"Hors sujet."}})
			if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/moderation?done="+string(a) {
				t.Fatalf("status %d, location %q:\n%s", r.status, r.header.Get("Location"), r.body)
			}
			held, _ := s.svc.HeldMessages("entraide")
			for _, x := range held {
				if x.ID == h.ID {
					t.Fatal("still held")
				}
			}
			r = s.get(t, c, r.header.Get("Location"), "en")
			checkPage(t, r.body, "en")
			// A second moderator, a moment late.
			r = s.post(t, c, p, url.Values{"action": {"approve"}, "csrf": {csrfInput.FindStringSubmatch(r.body)[1]}})
			if r.status != http.StatusNotFound && r.status != http.StatusSeeOther {
				t.Errorf("late decision: status %d", r.status)
			}
		})
	}
	// Approved always: the stranger's next message is not held.
	before, _ := s.svc.HeldMessages("entraide")
	s.sendMessage(t, "Encore", "Texte.")
	if after, _ := s.svc.HeldMessages("entraide"); len(after) != len(before) {
		t.Errorf("a message of a sender approved always was held")
	}
}

func TestAdminMail(t *testing.T) {
	s := newListSite(t)
	c := s.client(t, "alice")
	r := s.get(t, c, "/admin/mail", "en")
	if r.status != http.StatusOK || !strings.Contains(r.body, "example.org") {
		t.Fatalf("status %d:\n%s", r.status, r.body)
	}
	if !strings.Contains(r.body, "Missing") && !strings.Contains(r.body, "Not checked") {
		t.Errorf("the DNS records are not marked in words:\n%s", r.body)
	}

	t.Run("smarthost needs a host", func(t *testing.T) {
		r := s.submitLang(t, c, "/admin/mail", url.Values{"way": {"smarthost"}, "port": {"587"}, "username": {"liste"}}, "en")
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="err-host"`) || !strings.Contains(r.body, `value="liste"`) {
			t.Errorf("status %d:\n%s", r.status, r.body)
		}
		checkPage(t, r.body, "en")
	})
	t.Run("bad port", func(t *testing.T) {
		r := s.submitLang(t, c, "/admin/mail", url.Values{"way": {"smarthost"}, "host": {"smtp.example.net"}, "port": {"2525"}}, "en")
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `id="err-port"`) {
			t.Errorf("status %d:\n%s", r.status, r.body)
		}
	})

	form := url.Values{"way": {"smarthost"}, "host": {"SMTP.example.net"}, "port": {"465"}, "username": {"liste"}, "password": {"s3cret-pass"}, "verp": {"1"}}
	r = s.submit(t, c, "/admin/mail", "/admin/mail", form)
	if r.status != http.StatusSeeOther {
		t.Fatalf("save: status %d:\n%s", r.status, r.body)
	}
	got := s.svc.Relay()
	if got.Way != "smarthost" || got.Host != "smtp.example.net" || got.Port != 465 || got.Username != "liste" || got.Password != "s3cret-pass" || !got.VERP {
		t.Errorf("relay %+v", got)
	}
	r = s.get(t, c, "/admin/mail", "en")
	if strings.Contains(r.body, "s3cret-pass") {
		t.Error("the password is shown back")
	}
	if !strings.Contains(r.body, "A password is saved") {
		t.Error("the page does not say a password is saved")
	}
	// Saving again with the password left empty keeps it.
	form.Del("password")
	form.Set("port", "587")
	if r := s.submit(t, c, "/admin/mail", "/admin/mail", form); r.status != http.StatusSeeOther {
		t.Fatalf("save again: status %d", r.status)
	}
	if got := s.svc.Relay(); got.Password != "s3cret-pass" || got.Port != 587 {
		t.Errorf("relay after saving with no password: %+v", got)
	}
}
