package mailinglist

import (
	"fmt"
	"io"
	"mime/quotedprintable"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// digestBody returns the decoded text of a digest as the sink got it.
func digestBody(t *testing.T, data []byte) string {
	t.Helper()
	_, body, ok := strings.Cut(string(data), "\r\n\r\n")
	if !ok {
		t.Fatalf("no body in %q", data)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDigest: a member in digest mode gets no copy of each post, but one
// mail a day with the day's posts; members in the usual mode get each
// post and no digest.
func TestDigest(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)}
	e := newMailEnv(t, func(s *Service) { s.cfg.Now = clock.Now })
	e.mkList(t, List{Name: "entraide", Title: "Entraide numérique"}, "alice@example.net", "bob@example.org", "dora@example.com")
	if err := e.s.SetMode("entraide", "dora@example.com", ModeDigest); err != nil {
		t.Fatal(err)
	}
	postN := func(n int, subject string) {
		t.Helper()
		msg := fmt.Sprintf("From: Alice Martin <alice@example.net>\r\nTo: entraide@lists.example\r\nSubject: %s\r\nMessage-ID: <digest-%d@example.net>\r\nDate: Mon, 23 Nov 2026 17:00:00 +0000\r\n\r\nTexte du message numéro %d.\r\n", subject, n, n)
		if err := e.send(t, "alice@example.net", []string{"entraide@lists.example"}, msg); err != nil {
			t.Fatalf("post %d: %v", n, err)
		}
	}
	postN(1, "Atelier tablette")
	postN(2, "Café numérique")
	e.sink.wait(t, 2) // bob gets each post (alice does not get her own)
	for deadline := time.Now().Add(20 * time.Second); len(e.sink.to("bob@example.org")) < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("bob did not get both posts")
		}
	}
	if got := e.sink.to("dora@example.com"); len(got) != 0 {
		t.Fatalf("the digest member got %d copies of posts", len(got))
	}

	if err := e.s.sendDigests(); err != nil {
		t.Fatal(err)
	}
	e.s.queue.Kick()
	var digests []sunk
	for deadline := time.Now().Add(20 * time.Second); len(digests) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no digest reached dora")
		}
		digests = e.sink.to("dora@example.com")
	}
	d := digests[0].Data
	body := digestBody(t, d)
	for _, want := range []string{"2 messages sur la liste Entraide numérique", "1. Atelier tablette — Alice Martin", "2. Café numérique — Alice Martin", "Texte du message numéro 1.", "Texte du message numéro 2.", "https://placette.example/lists/entraide/m/digest-1@example.net"} {
		if !strings.Contains(body, want) {
			t.Errorf("the digest lacks %q:\n%s", want, body)
		}
	}
	if v := header(d, "List-Unsubscribe"); !strings.Contains(v, "/lists/entraide/unsubscribe/"+e.s.MemberToken("entraide", "dora@example.com")) {
		t.Errorf("the digest's List-Unsubscribe is %q", v)
	}
	if v := header(d, "Precedence"); v != "list" {
		t.Errorf("Precedence: %q", v)
	}

	// Nothing more the same day, even with a new post; the next day, the
	// new post alone.
	postN(3, "Réunion de janvier")
	for deadline := time.Now().Add(20 * time.Second); len(e.sink.to("bob@example.org")) < 3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("bob did not get the third post")
		}
	}
	clock.add(2 * time.Hour)
	if err := e.s.sendDigests(); err != nil {
		t.Fatal(err)
	}
	clock.add(23 * time.Hour)
	if err := e.s.sendDigests(); err != nil {
		t.Fatal(err)
	}
	e.s.queue.Kick()
	for deadline := time.Now().Add(20 * time.Second); len(digests) < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no second digest")
		}
		digests = e.sink.to("dora@example.com")
	}
	time.Sleep(100 * time.Millisecond)
	if digests = e.sink.to("dora@example.com"); len(digests) != 2 {
		t.Fatalf("dora got %d digests, want 2", len(digests))
	}
	second := digestBody(t, digests[1].Data)
	if !strings.Contains(second, "1 message sur la liste") || !strings.Contains(second, "Réunion de janvier") || strings.Contains(second, "Atelier tablette") {
		t.Errorf("the second digest is not the third post alone:\n%s", second)
	}
	if got := e.sink.to("bob@example.org"); len(got) != 3 {
		t.Errorf("bob got %d mails, want the 3 posts and no digest", len(got))
	}
}
