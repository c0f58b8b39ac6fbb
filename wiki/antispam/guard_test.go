package antispam

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// wantRefused fails unless r is the edit form shown again for reason, with
// text kept.
func wantRefused(t *testing.T, r response, reason, text string) {
	t.Helper()
	if r.status != http.StatusBadRequest || reasonOf(r.body) != reason {
		t.Fatalf("status %d, reason %q; want 400, %q\n%s", r.status, reasonOf(r.body), reason, r.body)
	}
	if !strings.Contains(r.body, ">"+text+"</textarea>") {
		t.Fatalf("the text %q is not kept:\n%s", text, r.body)
	}
	if strings.Contains(r.body, `role="alert">antispam.`) {
		t.Errorf("untranslated reason:\n%s", r.body)
	}
}

func wantSaved(t *testing.T, r response) {
	t.Helper()
	if r.status != http.StatusSeeOther {
		t.Fatalf("status %d, reason %q; want 303\n%s", r.status, reasonOf(r.body), r.body)
	}
}

func (s *site) setLimits(change func(*Limits)) {
	s.t.Helper()
	err := s.guard.update(func(st *stored) (string, any) {
		change(&st.settings.Limits)
		return keySettings, st.settings
	})
	if err != nil {
		s.t.Fatal(err)
	}
}

func (s *site) setMode(m Mode) {
	s.t.Helper()
	if err := s.guard.update(func(st *stored) (string, any) { st.settings.Mode = m; return keySettings, st.settings }); err != nil {
		s.t.Fatal(err)
	}
}

func (s *site) setBlocklist(text string) {
	s.t.Helper()
	if err := s.guard.update(func(st *stored) (string, any) { st.blocklist = text; return keyBlocklist, text }); err != nil {
		s.t.Fatal(err)
	}
}

func TestQuestionJourney(t *testing.T) {
	s := newSite(t)
	p := s.person("198.51.100.7", "")

	form := p.get("/edit/atelier")
	q := questionOf(form.body)
	if q == "" {
		t.Fatalf("a first anonymous edit asks no question:\n%s", form.body)
	}
	r := p.save("atelier", "Bonjour", false, nil)
	wantRefused(t, r, ReasonAnswer, "Bonjour")
	if questionOf(r.body) == "" {
		t.Fatal("the form after a wrong answer asks no question")
	}
	r = p.resend(r.body, "Bonjour", true, nil)
	wantSaved(t, r)

	// Remembered: no question, and the next edit goes through.
	if q := questionOf(p.get("/edit/atelier").body); q != "" {
		t.Fatalf("asked %q again after a right answer", q)
	}
	wantSaved(t, p.save("atelier", "Bonjour\nà tous", true, nil))

	// An edit that adds a link asks again; the text is kept.
	text := "Bonjour\nà tous\nvoir https://exemple.fr/atelier"
	r = p.save("atelier", text, true, nil)
	wantRefused(t, r, ReasonLinkQuestion, text)
	if questionOf(r.body) == "" {
		t.Fatal("no question with the link refusal")
	}
	wantSaved(t, p.resend(r.body, text, true, nil))
	// The link is there now: keeping it asks nothing.
	wantSaved(t, p.save("atelier", text+"\nmerci", true, nil))

	// A question missing from the post is asked for.
	r = p.save("autre", "x", true, nil)
	wantSaved(t, r)
	other := s.person("198.51.100.8", "")
	r = other.save("autre", "x\ny", true, url.Values{"question": {""}, "answer": {""}})
	wantRefused(t, r, ReasonQuestion, "x\ny")

	// The cookie expires.
	s.clock.Add(AnswerTTL + time.Hour)
	if questionOf(p.get("/edit/atelier").body) == "" {
		t.Fatal("no question once the answer cookie has expired")
	}
}

func TestHoneypot(t *testing.T) {
	s := newSite(t)
	p := s.person("198.51.100.7", "")
	r := p.save("page", "du texte", true, url.Values{FieldHoneypot: {"http://spam.example"}})
	wantRefused(t, r, ReasonHoneypot, "du texte")
	wantSaved(t, p.resend(r.body, "du texte", true, nil))
}

func TestFormToken(t *testing.T) {
	s := newSite(t)
	p := s.person("198.51.100.7", "")
	// Answer once, so that only the token is in question below.
	wantSaved(t, p.save("page", "un", true, nil))

	t.Run("too fast", func(t *testing.T) {
		form := p.get("/edit/page")
		v := fields(form.body)
		v.Set("text", "deux")
		s.clock.Add(time.Second)
		r := p.post("/edit/page", v)
		wantRefused(t, r, ReasonTooFast, "deux")
		wantSaved(t, p.resend(r.body, "deux", true, nil))
	})
	t.Run("too old", func(t *testing.T) {
		form := p.get("/edit/page")
		s.clock.Add(25 * time.Hour)
		r := p.resend(form.body, "trois", true, nil)
		wantRefused(t, r, ReasonTooOld, "trois")
		wantSaved(t, p.resend(r.body, "trois", true, nil))
	})
	t.Run("forged", func(t *testing.T) {
		form := p.get("/edit/page")
		ts := fields(form.body).Get(FieldToken)
		forged := fmt.Sprint(s.clock.Now().Add(-time.Minute).Unix()) + ts[strings.IndexByte(ts, '.'):]
		r := p.resend(form.body, "quatre", true, url.Values{FieldToken: {forged}})
		wantRefused(t, r, ReasonToken, "quatre")
		r = p.resend(r.body, "quatre", true, url.Values{FieldToken: {""}})
		wantRefused(t, r, ReasonToken, "quatre")
		wantSaved(t, p.resend(r.body, "quatre", true, nil))
	})
	t.Run("other page", func(t *testing.T) {
		form := p.get("/edit/autre-page")
		v := fields(form.body)
		v.Set("text", "cinq")
		s.clock.Add(10 * time.Second)
		r := p.post("/edit/page", v)
		wantRefused(t, r, ReasonToken, "cinq")
	})
}

func TestNewLinksLimit(t *testing.T) {
	s := newSite(t)
	p := s.person("198.51.100.7", "")
	links := func(from, to int) string {
		var b strings.Builder
		for i := from; i < to; i++ {
			fmt.Fprintf(&b, "- [site %d](https://site%d.example/page)\n", i, i)
		}
		return b.String()
	}
	r := p.save("liens", links(0, 4), true, nil)
	wantRefused(t, r, ReasonLinks, links(0, 4))
	wantSaved(t, p.resend(r.body, links(0, 3), true, nil))
	// The three links are there: three more are allowed, not four.
	r = p.save("liens", links(0, 7), true, nil)
	wantRefused(t, r, ReasonLinks, links(0, 7))
	wantSaved(t, p.resend(r.body, links(0, 6), true, nil))

	// Accounts that are not staff are held to it; staff are not.
	bob := s.person("198.51.100.9", "bob")
	wantRefused(t, bob.save("bob", links(10, 20), true, nil), ReasonLinks, links(10, 20))
	mo := s.person("198.51.100.9", "mo")
	wantSaved(t, mo.save("mo", links(10, 20), true, nil))
}

func TestBlocklist(t *testing.T) {
	s := newSite(t)
	s.setBlocklist(sampleBlocklist)
	p := s.person("198.51.100.7", "")
	wantSaved(t, p.save("page", "Atelier tablette\nNiveau débutant", true, nil))
	text := "Atelier tablette\nNiveau débutant\nGagnez au CASINO en ligne"
	r := p.save("page", text, true, nil)
	wantRefused(t, r, ReasonBlocklist, text)
	// In the summary or the pseudonym too.
	wantRefused(t, p.save("page", "Atelier tablette\nNiveau débutant\nok", true, url.Values{"summary": {"casino"}}), ReasonBlocklist, "Atelier tablette\nNiveau débutant\nok")
	wantRefused(t, p.save("page", "Atelier tablette\nNiveau débutant\nok", true, url.Values{"name": {"Viagra Shop"}}), ReasonBlocklist, "Atelier tablette\nNiveau débutant\nok")

	// Text that was there already is not held against a later writer.
	alice := s.person("198.51.100.1", "alice")
	wantSaved(t, alice.save("page", "Le mot casino était là.", true, nil))
	wantSaved(t, p.save("page", "Le mot casino était là.\nEt une ligne de plus.", true, nil))
	bob := s.person("198.51.100.2", "bob")
	wantRefused(t, bob.save("page", "voir buy-cheap-pills.example", true, nil), ReasonBlocklist, "voir buy-cheap-pills.example")
}

func TestStaffAndAccounts(t *testing.T) {
	s := newSite(t)
	s.setBlocklist("casino\n")
	alice := s.person("198.51.100.1", "alice")
	// No form, no token, a honeypot filled, a blocked word: staff pass.
	r := alice.post("/edit/page", url.Values{"csrf": {fields(alice.get("/edit/page").body).Get("csrf")}, "text": {"casino casino"}, FieldHoneypot: {"x"}})
	wantSaved(t, r)
	// An account skips the question, the honeypot and the token.
	bob := s.person("198.51.100.2", "bob")
	form := bob.get("/edit/page")
	if questionOf(form.body) != "" {
		t.Fatal("an account is asked a question")
	}
	r = bob.post("/edit/page", url.Values{"csrf": {fields(form.body).Get("csrf")}, "text": {"casino casino\nbonjour"}, FieldHoneypot: {"x"}})
	wantSaved(t, r)
}

func TestModes(t *testing.T) {
	s := newSite(t)
	anon := s.person("198.51.100.7", "")
	bob := s.person("198.51.100.8", "bob")
	mo := s.person("198.51.100.9", "mo")
	cases := []struct {
		mode           Mode
		anon, bob, mod string // "" saved, else the reason
	}{
		{ModeOpen, "", "", ""},
		{ModeAccounts, ReasonAccounts, "", ""},
		{ModeReadOnly, ReasonReadOnly, ReasonReadOnly, ""},
	}
	for i, c := range cases {
		t.Run(string(c.mode), func(t *testing.T) {
			s.setMode(c.mode)
			if s.guard.Mode() != c.mode {
				t.Fatalf("Mode() = %q", s.guard.Mode())
			}
			for _, w := range []struct {
				p    *person
				want string
				may  bool
			}{{anon, c.anon, s.guard.MayEdit(nil)}, {bob, c.bob, s.guard.MayEdit(&webUserBob)}, {mo, c.mod, s.guard.MayEdit(&webUserMo)}} {
				if w.may != (w.want == "") {
					t.Errorf("MayEdit = %v, but the edit gives %q", w.may, w.want)
				}
				text := fmt.Sprintf("texte %d", i)
				r := w.p.save(fmt.Sprintf("page-%d", i), text, true, nil)
				if w.want == "" {
					wantSaved(t, r)
				} else {
					wantRefused(t, r, w.want, text)
				}
			}
		})
	}
}

func TestRatePerAddress(t *testing.T) {
	s := newSite(t)
	s.setLimits(func(l *Limits) { l.AddrEdits = 3 })
	a := s.person("203.0.113.10", "")
	wantSaved(t, a.save("p1", "un", true, nil))
	wantSaved(t, a.save("p2", "deux", true, nil))
	wantSaved(t, a.save("p3", "trois", true, nil))
	wantRefused(t, a.save("p4", "quatre", true, nil), ReasonRateAddr, "quatre")
	// The same /24 shares the count; another does not.
	wantRefused(t, s.person("203.0.113.99", "").save("p5", "cinq", true, nil), ReasonRateAddr, "cinq")
	wantSaved(t, s.person("203.0.114.10", "").save("p5", "cinq", true, nil))
	// IPv6: a /64.
	v6 := s.person("2001:db8:1:2::1", "")
	for i := range 3 {
		wantSaved(t, v6.save(fmt.Sprintf("v6-%d", i), "x", true, nil))
	}
	wantRefused(t, s.person("2001:db8:1:2:ffff::9", "").save("v6", "y", true, nil), ReasonRateAddr, "y")
	wantSaved(t, s.person("2001:db8:1:3::1", "").save("v6", "y", true, nil))
}

func TestRatePerPage(t *testing.T) {
	s := newSite(t)
	s.setLimits(func(l *Limits) { l.PageEdits = 2 })
	for i := range 2 {
		wantSaved(t, s.person(fmt.Sprintf("192.0.%d.1", i), "").save("page", fmt.Sprint(i), true, nil))
	}
	wantRefused(t, s.person("192.0.9.1", "").save("page", "trop", true, nil), ReasonRatePage, "trop")
	wantSaved(t, s.person("192.0.9.1", "").save("autre", "ok", true, nil))
	wantSaved(t, s.person("192.0.9.2", "alice").save("page", "staff", true, nil))
}

func TestDailyCreations(t *testing.T) {
	s := newSite(t)
	s.setLimits(func(l *Limits) { l.CreatesPerDay = 2 })
	p := s.person("198.51.100.7", "")
	wantSaved(t, p.save("a", "a", true, nil))
	wantSaved(t, p.save("b", "b", true, nil))
	wantRefused(t, p.save("c", "c", true, nil), ReasonCreates, "c")
	// Editing an existing page is not creating one.
	wantSaved(t, p.save("a", "a2", true, nil))
	// Accounts are not capped.
	wantSaved(t, s.person("198.51.100.8", "bob").save("c", "c", true, nil))
	// The next day (UTC), the count starts again.
	s.clock.Add(24 * time.Hour)
	wantSaved(t, p.save("d", "d", true, nil))
}

func TestRefusedLog(t *testing.T) {
	s := newSite(t)
	p := s.person("198.51.100.7", "")
	long := strings.Repeat("é", 400) // 800 bytes
	wantRefused(t, p.save("page", long, true, url.Values{FieldHoneypot: {"x"}, "name": {"Robot"}}), ReasonHoneypot, long)
	got, total, err := s.guard.Refused(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || len(got) != 1 {
		t.Fatalf("%d entries (total %d), want 1", len(got), total)
	}
	e := got[0]
	if e.Slug != "page" || e.Reason != ReasonHoneypot || e.Who != "Robot" || e.Account || !e.Time.Equal(s.clock.Now()) {
		t.Errorf("entry = %+v", e)
	}
	if len(e.Added) != 500 || e.Added != long[:500] {
		t.Errorf("added text is %d bytes, want the first 500", len(e.Added))
	}
	if e.Addr == "" || strings.Contains(e.Addr, "198.51") || e.Addr != hashAddr(s.shell, "198.51.100.0/24") {
		t.Errorf("address %q is not the hash of the network", e.Addr)
	}

	// Bounded: the newest MaxRefused are kept.
	var wg sync.WaitGroup
	for i := range MaxRefused + 20 {
		wg.Go(func() {
			if err := s.guard.record(Refusal{Time: s.clock.Now(), Slug: fmt.Sprint("p", i), Reason: ReasonToken}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, total, err = s.guard.Refused(0, 5)
	if err != nil {
		t.Fatal(err)
	}
	if total != MaxRefused {
		t.Errorf("%d entries kept, want %d", total, MaxRefused)
	}
	if got[0].Seq != MaxRefused+21 || got[1].Seq != MaxRefused+20 {
		t.Errorf("newest first: got seq %d, %d", got[0].Seq, got[1].Seq)
	}
	rest, _, _ := s.guard.Refused(MaxRefused-2, 10)
	if len(rest) != 2 || rest[1].Seq != 22 {
		t.Errorf("oldest kept: %+v", rest)
	}
}
