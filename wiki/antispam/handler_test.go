package antispam

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"codeberg.org/placette/placette/internal/web/webtest"
)

// checkPage checks what the shell's tests check of every page: labelled
// controls, existing ids, one h1, headings in order, no raw catalog key.
func checkPage(t *testing.T, body string) {
	t.Helper()
	webtest.CheckAccessible(t, body)
	if m := regexp.MustCompile(`antispam\.[a-z_.]+`).FindString(body); m != "" {
		t.Errorf("raw catalog key %q in the page", m)
	}
}

func TestAdminAccess(t *testing.T) {
	s := newSite(t)
	anon := s.person("198.51.100.1", "")
	bob := s.person("198.51.100.2", "bob")
	mo := s.person("198.51.100.3", "mo")
	alice := s.person("198.51.100.4", "alice")
	for _, path := range []string{"/admin/wiki/antispam", "/admin/wiki/refused"} {
		if r := anon.get(path); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
			t.Errorf("anonymous GET %s: %d %s", path, r.status, r.header.Get("Location"))
		}
		if r := bob.get(path); r.status != http.StatusForbidden {
			t.Errorf("bob GET %s: %d", path, r.status)
		}
	}
	for _, lang := range []string{"fr", "en"} {
		t.Run(lang, func(t *testing.T) {
			lc := &http.Cookie{Name: "lang", Value: lang}
			u, _ := url.Parse(s.srv.URL)
			mo.c.Jar.SetCookies(u, []*http.Cookie{lc})
			alice.c.Jar.SetCookies(u, []*http.Cookie{lc})
			r := mo.get("/admin/wiki/antispam")
			if r.status != http.StatusOK || !strings.Contains(r.body, `name="mode"`) || strings.Contains(r.body, `name="blocklist"`) {
				t.Fatalf("moderator's page: %d\n%s", r.status, r.body)
			}
			checkPage(t, r.body)
			r = alice.get("/admin/wiki/antispam")
			for _, want := range []string{`name="mode"`, `name="q0-text"`, `name="blocklist"`, `name="max_new_links"`, "Combien font deux plus trois"} {
				if !strings.Contains(r.body, want) {
					t.Errorf("admin's page lacks %s", want)
				}
			}
			checkPage(t, r.body)
			r = mo.get("/admin/wiki/refused")
			if r.status != http.StatusOK {
				t.Fatalf("refused log: %d", r.status)
			}
			checkPage(t, r.body)
		})
	}
	// Moderators change the mode, not the rest.
	csrf := fields(mo.get("/admin/wiki/antispam").body).Get("csrf")
	for _, path := range []string{"questions", "blocklist", "limits"} {
		if r := mo.post("/admin/wiki/antispam/"+path, url.Values{"csrf": {csrf}}); r.status != http.StatusForbidden {
			t.Errorf("moderator POST %s: %d", path, r.status)
		}
	}
	// Without the CSRF token, nothing changes.
	if r := alice.post("/admin/wiki/antispam/mode", url.Values{"mode": {"readonly"}}); r.status != http.StatusForbidden || s.guard.Mode() != ModeOpen {
		t.Errorf("POST without CSRF: %d, mode %s", r.status, s.guard.Mode())
	}
}

func TestAdminMode(t *testing.T) {
	s := newSite(t)
	mo := s.person("198.51.100.3", "mo")
	csrf := fields(mo.get("/admin/wiki/antispam").body).Get("csrf")
	r := mo.post("/admin/wiki/antispam/mode", url.Values{"csrf": {csrf}, "mode": {"nonsense"}})
	if r.status != http.StatusBadRequest || s.guard.Mode() != ModeOpen {
		t.Fatalf("bad mode: %d, mode %s", r.status, s.guard.Mode())
	}
	checkPage(t, r.body)
	r = mo.post("/admin/wiki/antispam/mode", url.Values{"csrf": {csrf}, "mode": {"readonly"}})
	if r.status != http.StatusSeeOther || s.guard.Mode() != ModeReadOnly {
		t.Fatalf("set read-only: %d, mode %s", r.status, s.guard.Mode())
	}
	if st, err := load(s.db); err != nil || st.settings.Mode != ModeReadOnly {
		t.Fatalf("stored mode %q, %v", st.settings.Mode, err)
	}
	r = mo.get("/admin/wiki/antispam?done=mode")
	if !strings.Contains(r.body, `id="mode-readonly" name="mode" value="readonly" checked`) {
		t.Errorf("the page does not show the mode:\n%s", r.body)
	}
}

func TestAdminQuestions(t *testing.T) {
	s := newSite(t)
	alice := s.person("198.51.100.4", "alice")
	page := alice.get("/admin/wiki/antispam")
	v := fields(page.body)
	before := s.guard.st.Load().questions
	if v.Get("count") != fmt.Sprint(len(before)) {
		t.Fatalf("count = %q, want %d", v.Get("count"), len(before))
	}
	// Keep the first, change the second, delete the others, add one.
	form := url.Values{"csrf": {v.Get("csrf")}, "count": {v.Get("count")}}
	for i, q := range before {
		p := fmt.Sprintf("q%d-", i)
		form.Set(p+"id", q.ID)
		form.Set(p+"text", q.Text)
		form.Set(p+"answers", strings.Join(q.Answers, "\r\n"))
		if i >= 2 {
			form.Set(p+"delete", "1")
		}
	}
	form.Set("q1-answers", "bleu\r\nazur\r\n\r\n")
	n := len(before)
	form.Set(fmt.Sprintf("q%d-text", n), "Quelle est la capitale de la France\u00a0?")
	form.Set(fmt.Sprintf("q%d-answers", n), "Paris")

	bad := url.Values{}
	for k, vs := range form {
		bad[k] = vs
	}
	bad.Set("q1-answers", " \r\n?!")
	r := alice.post("/admin/wiki/antispam/questions", bad)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Question 2") || !strings.Contains(r.body, "Quelle est la capitale") {
		t.Fatalf("question without a real answer: %d\n%s", r.status, r.body)
	}
	checkPage(t, r.body)

	r = alice.post("/admin/wiki/antispam/questions", form)
	if r.status != http.StatusSeeOther {
		t.Fatalf("save questions: %d\n%s", r.status, r.body)
	}
	after := s.guard.st.Load().questions
	if len(after) != 3 || after[0].ID != before[0].ID || after[1].ID != before[1].ID || after[2].ID == "" || after[2].ID == before[2].ID {
		t.Fatalf("questions after: %+v", after)
	}
	if !after[1].accepts("AZUR") || after[1].accepts("rouge") || !after[2].accepts("paris") {
		t.Errorf("answers not saved: %+v", after)
	}

	// At least one question stays.
	none := url.Values{"csrf": {v.Get("csrf")}, "count": {"3"}, "q0-delete": {"1"}, "q1-delete": {"1"}, "q2-delete": {"1"}}
	if r := alice.post("/admin/wiki/antispam/questions", none); r.status != http.StatusBadRequest {
		t.Errorf("deleting every question: %d", r.status)
	}
	if len(s.guard.st.Load().questions) != 3 {
		t.Error("questions lost")
	}
}

func TestAdminBlocklist(t *testing.T) {
	s := newSite(t)
	alice := s.person("198.51.100.4", "alice")
	csrf := fields(alice.get("/admin/wiki/antispam").body).Get("csrf")
	r := alice.post("/admin/wiki/antispam/blocklist", url.Values{"csrf": {csrf}, "blocklist": {"casino\r\nbad(\r\n\\bspam\\.example\\b\r\n"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("save blocklist: %d\n%s", r.status, r.body)
	}
	if s.guard.st.Load().blocklist.Len() != 2 {
		t.Fatalf("%d patterns in use", s.guard.st.Load().blocklist.Len())
	}
	r = alice.get("/admin/wiki/antispam?done=blocklist")
	for _, want := range []string{"2 expressions en service", "1 ligne est ignorée", "Ligne 2\u00a0:", "<code>bad(</code>", "missing closing )", ">casino\nbad(\n"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	checkPage(t, r.body)
	r = alice.post("/admin/wiki/antispam/blocklist", url.Values{"csrf": {csrf}, "blocklist": {"ok\n\xff"}})
	if r.status != http.StatusBadRequest || s.guard.st.Load().blocklist.Len() != 2 {
		t.Errorf("invalid UTF-8: %d", r.status)
	}
}

func TestAdminLimits(t *testing.T) {
	s := newSite(t)
	alice := s.person("198.51.100.4", "alice")
	v := fields(alice.get("/admin/wiki/antispam").body)
	if v.Get("max_new_links") != "3" || v.Get("creates_per_day") != "20" {
		t.Fatalf("defaults not shown: %v", v)
	}
	form := url.Values{"csrf": {v.Get("csrf")}}
	for _, b := range limitBounds {
		form.Set(b.field, v.Get(b.field))
	}
	form.Set("max_new_links", "-1")
	r := alice.post("/admin/wiki/antispam/limits", form)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `value="-1"`) || !strings.Contains(r.body, "entre 0 et 100") {
		t.Fatalf("bad limit: %d\n%s", r.status, r.body)
	}
	checkPage(t, r.body)
	form.Set("max_new_links", "0")
	form.Set("addr_edits", "500")
	if r := alice.post("/admin/wiki/antispam/limits", form); r.status != http.StatusSeeOther {
		t.Fatalf("save limits: %d", r.status)
	}
	if l := s.guard.Limits(); l.MaxNewLinks != 0 || l.AddrEdits != 500 || l.MinSeconds != 3 {
		t.Errorf("limits = %+v", l)
	}
	// No new link at all now.
	p := s.person("198.51.100.9", "")
	wantRefused(t, p.save("page", "https://a.example", true, nil), ReasonLinks, "https://a.example")
}

func TestAdminRefusedLog(t *testing.T) {
	s := newSite(t)
	mo := s.person("198.51.100.3", "mo")
	if r := mo.get("/admin/wiki/refused"); !strings.Contains(r.body, "Aucune modification refusée") {
		t.Errorf("empty log:\n%s", r.body)
	}
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			if err := s.guard.record(Refusal{Time: s.clock.Now(), Slug: fmt.Sprint("page-", i), Reason: ReasonBlocklist, Detail: "2: casino", Who: "<b>x</b>", Added: "casino <script>"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	r := mo.get("/admin/wiki/refused")
	if n := strings.Count(r.body, "<tr>") - 1; n != refusedPerPage {
		t.Errorf("%d rows on page 1, want %d", n, refusedPerPage)
	}
	if !strings.Contains(r.body, `href="/admin/wiki/refused?page=2"`) || strings.Contains(r.body, "<script>") || strings.Contains(r.body, "<b>x") {
		t.Errorf("page 1:\n%s", r.body)
	}
	checkPage(t, r.body)
	r = mo.get("/admin/wiki/refused?page=2")
	if n := strings.Count(r.body, "<tr>") - 1; n != 10 || !strings.Contains(r.body, `href="/admin/wiki/refused?page=1"`) {
		t.Errorf("%d rows on page 2, want 10", n)
	}
	if r := mo.get("/admin/wiki/refused?page=3"); r.status != http.StatusNotFound {
		t.Errorf("page 3: %d", r.status)
	}
	if r := mo.get("/admin/wiki/refused?page=x"); r.status != http.StatusOK {
		t.Errorf("page x: %d", r.status)
	}
}
