package antispam

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/web"
)

func TestCheckToken(t *testing.T) {
	s := newSite(t)
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	good := makeToken(s.shell, "atelier", now)
	ts, sig, _ := strings.Cut(good, ".")
	min, max := 3*time.Second, 24*time.Hour
	tests := []struct {
		name  string
		token string
		slug  string
		at    time.Time
		want  tokenError
	}{
		{"good", good, "atelier", now.Add(10 * time.Second), tokenOK},
		{"just in time", good, "atelier", now.Add(min), tokenOK},
		{"too fast", good, "atelier", now.Add(2 * time.Second), tokenTooFast},
		{"from the future", good, "atelier", now.Add(-time.Hour), tokenTooFast},
		{"too old", good, "atelier", now.Add(max + time.Second), tokenTooOld},
		{"other slug", good, "autre", now.Add(time.Minute), tokenBad},
		{"forged time", "1777000000." + sig, "atelier", now.Add(time.Minute), tokenBad},
		{"forged signature", ts + ".AAAA", "atelier", now.Add(time.Minute), tokenBad},
		{"empty", "", "atelier", now, tokenBad},
		{"no dot", ts, "atelier", now, tokenBad},
		{"negative", "-5." + sig, "atelier", now, tokenBad},
		{"not a number", "x." + sig, "atelier", now, tokenBad},
		{"huge", strings.Repeat("9", 40) + "." + sig, "atelier", now, tokenBad},
		{"slug in the value", good + "\x00atelier", "atelier", now.Add(time.Minute), tokenBad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkToken(s.shell, tt.token, tt.slug, tt.at, min, max); got != tt.want {
				t.Errorf("checkToken = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAnswerCookie(t *testing.T) {
	s := newSite(t)
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	good := answerCookie(s.shell, now.Add(AnswerTTL))
	for _, tt := range []struct {
		name, value string
		at          time.Time
		want        bool
	}{
		{"good", good, now, true},
		{"expired", good, now.Add(AnswerTTL), false},
		{"forged", "9999999999" + good[strings.IndexByte(good, '.'):], now, false},
		{"garbage", "x", now, false},
		{"none", "", now, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tt.value != "" {
				r.AddCookie(&http.Cookie{Name: AnswerCookie, Value: tt.value})
			}
			if got := validAnswerCookie(s.shell, r, tt.at); got != tt.want {
				t.Errorf("valid = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCheckDirect calls the guard as the wiki does, without a server.
func TestCheckDirect(t *testing.T) {
	s := newSite(t)
	g := s.guard
	rec := httptest.NewRecorder()
	form := g.Form(rec, httptest.NewRequest("GET", "/wiki/x/edit", nil), nil, "x")
	if form.Token == "" || form.Question == nil || form.Question.Text == "" {
		t.Fatalf("Form = %+v", form)
	}
	q := g.st.Load().question(form.Question.ID)
	s.clock.Add(5 * time.Second)
	body := url.Values{FieldToken: {form.Token}, FieldQuestion: {q.ID}, FieldAnswer: {q.Answers[0]}}
	r := httptest.NewRequest("POST", "/wiki/x/edit", strings.NewReader(body.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	v := g.Check(r.Context(), rec, r, Edit{Slug: "x", Create: true, New: "Bonjour"})
	if !v.OK || v.Reason != "" {
		t.Fatalf("Check = %+v", v)
	}
	var cookie *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == AnswerCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.MaxAge <= 0 {
		t.Fatalf("answer cookie = %+v", cookie)
	}
	// FormSlug: a new page whose slug is decided at save.
	form = g.Form(rec, httptest.NewRequest("GET", "/wiki/-/new", nil), &web.User{Login: "bob"}, "-new")
	if form.Question != nil {
		t.Error("an account is asked a question")
	}
	s.clock.Add(5 * time.Second)
	r = httptest.NewRequest("POST", "/wiki/-/new", strings.NewReader(url.Values{FieldToken: {form.Token}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(cookie)
	if v := g.Check(r.Context(), rec, r, Edit{Slug: "ma-page", FormSlug: "-new", Create: true, New: "x"}); !v.OK {
		t.Errorf("Check with FormSlug = %+v", v)
	}
	for _, reason := range Reasons() {
		if s.shell.Catalog().Printer("fr").T(reason) == reason || s.shell.Catalog().Printer("en").T(reason) == reason {
			t.Errorf("reason %q is not in the catalogs", reason)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	s := newSite(b)
	s.setBlocklist(benchmarkList(2000))
	// Rate limits out of the way: every iteration is the same edit.
	st := *s.guard.st.Load()
	st.byAddr = web.NewLimiter(time.Nanosecond, 1<<30)
	st.byPage = web.NewLimiter(time.Nanosecond, 1<<30)
	s.guard.st.Store(&st)
	old := benchmarkEdit()
	new := strings.ReplaceAll(old, "tablette", "tablette numérique") + "\nUne ligne de plus avec https://nouveau.example/lien\n"
	user := &web.User{Login: "bob"} // an account: every content check, no token
	r := httptest.NewRequest("POST", "/wiki/x/edit", nil)
	w := httptest.NewRecorder()
	b.SetBytes(int64(len(new)))
	for b.Loop() {
		if v := s.guard.Check(r.Context(), w, r, Edit{Slug: "x", User: user, Old: old, New: new}); !v.OK {
			b.Fatalf("refused: %s", v.Reason)
		}
	}
}

// BenchmarkCheckNewPage is Check on a new 5 KB page: all of it is added.
func BenchmarkCheckNewPage(b *testing.B) {
	s := newSite(b)
	s.setBlocklist(benchmarkList(2000))
	st := *s.guard.st.Load()
	st.byAddr = web.NewLimiter(time.Nanosecond, 1<<30)
	st.byPage = web.NewLimiter(time.Nanosecond, 1<<30)
	s.guard.st.Store(&st)
	new := benchmarkEdit()
	user := &web.User{Login: "bob"}
	r := httptest.NewRequest("POST", "/wiki/x/edit", nil)
	w := httptest.NewRecorder()
	b.SetBytes(int64(len(new)))
	for b.Loop() {
		if v := s.guard.Check(r.Context(), w, r, Edit{Slug: "x", Create: true, User: user, New: new}); !v.OK {
			b.Fatalf("refused: %s", v.Reason)
		}
	}
}
