package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// sessionShell is a shell with alice (admin) and bob, and a clock the test
// moves.
type sessionShell struct {
	*Shell
	users *fakeUsers
	clock time.Time
	h     http.Handler // answers the login of the request's user, or "-"
}

func newSessionShell(t *testing.T, cfg Config) *sessionShell {
	t.Helper()
	shell, _, _ := newShell(t, cfg)
	s := &sessionShell{
		Shell: shell,
		users: &fakeUsers{users: map[string]*User{"alice": {Login: "alice", Admin: true}, "bob": {Login: "bob"}}},
		clock: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
	}
	shell.now = func() time.Time { return s.clock }
	shell.SetUsers(s.users)
	s.h = shell.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := UserFrom(r.Context()); u != nil {
			w.Write([]byte(u.Login))
			return
		}
		w.Write([]byte("-"))
	}))
	return s
}

// start logs login in from a browser that carries cookies, and returns the
// session cookie.
func (s *sessionShell) start(t *testing.T, login string, cookies ...*http.Cookie) *http.Cookie {
	t.Helper()
	r := httptest.NewRequest("POST", "/login", nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	if err := s.StartSession(w, r, login); err != nil {
		t.Fatal(err)
	}
	return sessionCookie(t, w.Result())
}

func sessionCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	return nil
}

// who serves a request carrying c and returns who it was served to, and
// the response.
func (s *sessionShell) who(t *testing.T, c *http.Cookie) (string, *http.Response) {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	if c != nil {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	return w.Body.String(), w.Result()
}

// stored returns the stored sessions, by key.
func (s *sessionShell) stored(t *testing.T) map[string]session {
	t.Helper()
	out := map[string]session{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketSessions)).ForEach(func(k, v []byte) error {
			var se session
			if err := json.Unmarshal(v, &se); err != nil {
				return err
			}
			out[string(k)] = se
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSessionCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		name := "http"
		if secure {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			s := newSessionShell(t, Config{Secure: secure, SessionTTL: 48 * time.Hour})
			c := s.start(t, "alice")
			if c == nil {
				t.Fatal("no session cookie")
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != secure || c.Path != "/" {
				t.Errorf("cookie %s: want HttpOnly, SameSite=Lax, Secure=%v, Path=/", c, secure)
			}
			if c.MaxAge != 48*3600 {
				t.Errorf("MaxAge %d, want %d", c.MaxAge, 48*3600)
			}
			if len(c.Value) < 40 {
				t.Errorf("token %q is short", c.Value)
			}
		})
	}
}

func TestSession(t *testing.T) {
	s := newSessionShell(t, Config{})
	c := s.start(t, "alice")

	if got, _ := s.who(t, c); got != "alice" {
		t.Fatalf("session resolves to %q, want alice", got)
	}
	if got, _ := s.who(t, nil); got != "-" {
		t.Errorf("no cookie resolves to %q", got)
	}
	if got, _ := s.who(t, &http.Cookie{Name: SessionCookie, Value: c.Value + "x"}); got != "-" {
		t.Errorf("a wrong token resolves to %q", got)
	}

	// The token is not stored in clear: the key is its SHA-256.
	stored := s.stored(t)
	sum := sha256.Sum256([]byte(c.Value))
	if len(stored) != 1 {
		t.Fatalf("%d sessions stored", len(stored))
	}
	for k, se := range stored {
		if k != string(sum[:]) || bytes.Contains([]byte(k), []byte(c.Value)) {
			t.Errorf("session stored under %x, want sha256 of the token", k)
		}
		if se.Login != "alice" || !se.Expires.Equal(s.clock.Add(30*24*time.Hour)) {
			t.Errorf("stored session %+v", se)
		}
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if bytes.Contains(k, []byte(c.Value)) || bytes.Contains(v, []byte(c.Value)) {
					t.Errorf("bucket %s holds the token in clear", name)
				}
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}

	// Logging in again from the same browser ends the session it had.
	c2 := s.start(t, "alice", c)
	if got, _ := s.who(t, c); got != "-" {
		t.Errorf("the session before login still resolves to %q", got)
	}
	if got, _ := s.who(t, c2); got != "alice" {
		t.Errorf("new session resolves to %q", got)
	}

	// EndSession logs the browser out and clears its cookie.
	r := httptest.NewRequest("POST", "/logout", nil)
	r.AddCookie(c2)
	w := httptest.NewRecorder()
	if err := s.EndSession(w, r); err != nil {
		t.Fatal(err)
	}
	if cleared := sessionCookie(t, w.Result()); cleared == nil || cleared.MaxAge >= 0 || cleared.Value != "" {
		t.Errorf("EndSession sets cookie %v, want it cleared", cleared)
	}
	if got, _ := s.who(t, c2); got != "-" {
		t.Errorf("ended session resolves to %q", got)
	}
	if n := len(s.stored(t)); n != 0 {
		t.Errorf("%d sessions left after logout", n)
	}
	// Without a cookie, EndSession only clears.
	if err := s.EndSession(httptest.NewRecorder(), httptest.NewRequest("POST", "/logout", nil)); err != nil {
		t.Error(err)
	}
}

func TestEndSessionsOf(t *testing.T) {
	s := newSessionShell(t, Config{})
	phone := s.start(t, "alice")
	laptop := s.start(t, "alice")
	bob := s.start(t, "bob")
	if err := s.EndSessionsOf("alice"); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*http.Cookie{"phone": phone, "laptop": laptop} {
		if got, _ := s.who(t, c); got != "-" {
			t.Errorf("alice's %s session still resolves to %q", name, got)
		}
	}
	if got, _ := s.who(t, bob); got != "bob" {
		t.Errorf("bob's session resolves to %q after alice's were ended", got)
	}
}

func TestSessionExpiry(t *testing.T) {
	s := newSessionShell(t, Config{SessionTTL: 10 * 24 * time.Hour})
	start := s.clock
	c := s.start(t, "alice")
	old := s.start(t, "bob")

	// Used within a day: no write, no new cookie.
	s.clock = start.Add(12 * time.Hour)
	if got, resp := s.who(t, c); got != "alice" || sessionCookie(t, resp) != nil {
		t.Errorf("after 12h: %q, cookie %v", got, sessionCookie(t, resp))
	}
	// Used after two days: the expiry slides, the cookie too.
	s.clock = start.Add(2 * 24 * time.Hour)
	got, resp := s.who(t, c)
	if got != "alice" {
		t.Fatalf("after 2 days: %q", got)
	}
	if nc := sessionCookie(t, resp); nc == nil || nc.Value != c.Value || nc.MaxAge != 10*24*3600 {
		t.Errorf("cookie after sliding: %v", nc)
	}
	if se := s.stored(t)[string(sessionID(c.Value))]; !se.Expires.Equal(s.clock.Add(10 * 24 * time.Hour)) {
		t.Errorf("expires %v, want %v", se.Expires, s.clock.Add(10*24*time.Hour))
	}

	// Bob's session, never used, expires 10 days after its start.
	s.clock = start.Add(10 * 24 * time.Hour)
	got, resp = s.who(t, old)
	if got != "-" {
		t.Errorf("expired session resolves to %q", got)
	}
	if cleared := sessionCookie(t, resp); cleared == nil || cleared.MaxAge >= 0 {
		t.Errorf("expired session's cookie not cleared: %v", cleared)
	}
	if n := len(s.stored(t)); n != 2 {
		t.Fatalf("%d sessions stored before the sweep, want 2", n)
	}
	if err := s.sweepSessions(); err != nil {
		t.Fatal(err)
	}
	stored := s.stored(t)
	if _, ok := stored[string(sessionID(old.Value))]; ok || len(stored) != 1 {
		t.Errorf("after the sweep: %d sessions, bob's kept: %v", len(stored), ok)
	}
	if got, _ := s.who(t, c); got != "alice" {
		t.Errorf("the sweep ended a live session: %q", got)
	}
}

func TestSessionShortTTLSlides(t *testing.T) {
	s := newSessionShell(t, Config{SessionTTL: 2 * time.Hour})
	start := s.clock
	c := s.start(t, "alice")
	for i := 1; i <= 6; i++ {
		s.clock = start.Add(time.Duration(i) * 90 * time.Minute)
		if got, _ := s.who(t, c); got != "alice" {
			t.Fatalf("a session used every 90 minutes, with a TTL of 2h, ended after %v", s.clock.Sub(start))
		}
	}
}

// TestExtendEndedSession checks that extending a session that was ended
// between its reading and its extension does not bring it back.
func TestExtendEndedSession(t *testing.T) {
	s := newSessionShell(t, Config{})
	c := s.start(t, "alice")
	id := sessionID(c.Value)
	se := s.stored(t)[string(id)]
	if err := s.EndSessionsOf("alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.extendSession(id, se, s.clock); err != errNoSession {
		t.Errorf("extendSession of an ended session: %v, want errNoSession", err)
	}
	if n := len(s.stored(t)); n != 0 {
		t.Errorf("the ended session came back")
	}
}

func TestSessionUnknownUser(t *testing.T) {
	s := newSessionShell(t, Config{})
	c := s.start(t, "bob")
	s.users.remove("bob")
	got, resp := s.who(t, c)
	if got != "-" {
		t.Errorf("session of a removed account resolves to %q", got)
	}
	if cleared := sessionCookie(t, resp); cleared == nil || cleared.MaxAge >= 0 {
		t.Errorf("cookie not cleared: %v", cleared)
	}
}

func TestSessionCorruptRecord(t *testing.T) {
	s := newSessionShell(t, Config{})
	c := s.start(t, "alice")
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketSessions)).Put(sessionID(c.Value), []byte("{not json"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.who(t, c); got != "-" {
		t.Errorf("corrupt session resolves to %q", got)
	}
	if err := s.sweepSessions(); err != nil {
		t.Fatal(err)
	}
	var n int
	s.db.View(func(tx *bolt.Tx) error { n = tx.Bucket([]byte(bucketSessions)).Stats().KeyN; return nil })
	if n != 0 {
		t.Errorf("the sweep kept %d unreadable sessions", n)
	}
}
