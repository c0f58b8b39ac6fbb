package mailinglist

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// greeting reads the first reply line of an SMTP connection.
func greeting(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "error: " + err.Error()
	}
	return line
}

// flood opens n connections at once with dial and reads their greetings.
// It returns the greetings counted by their code ("dial error" for a dial
// that failed), the text of one 421 greeting, and a function that closes
// the connections, which stay open until then, or until the test ends.
func flood(t *testing.T, n int, dial func() (net.Conn, error)) (counts map[string]int, refusal string, closeAll func()) {
	t.Helper()
	var (
		mu    sync.Mutex // guards counts, refusal and conns
		conns []net.Conn
		wg    sync.WaitGroup
	)
	counts = map[string]int{}
	closeAll = func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
		conns = nil
	}
	t.Cleanup(closeAll)
	for range n {
		wg.Go(func() {
			c, err := dial()
			if err != nil {
				mu.Lock()
				counts["dial error"]++
				mu.Unlock()
				return
			}
			g := greeting(t, c)
			mu.Lock()
			defer mu.Unlock()
			conns = append(conns, c)
			counts[g[:min(3, len(g))]]++
			if strings.HasPrefix(g, "421") {
				refusal = g
			}
		})
	}
	wg.Wait()
	return counts, refusal, closeAll
}

// TestSlowClient: a client that stops talking is disconnected after the
// read timeout, and others are served meanwhile.
func TestSlowClient(t *testing.T) {
	e := newMailEnv(t, func(s *Service) { s.limits.readTimeout = 300 * time.Millisecond })
	e.mkList(t, List{Name: "entraide"}, "alice@example.net", "bob@example.org")
	slow, err := net.Dial("tcp", e.smtp)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	r := bufio.NewReader(slow)
	slow.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(slow, "EHLO slow.example\r\nMAIL FROM:<alice@example.net>\r\nRCPT TO:<entraide@lists.example>\r\nDATA\r\nSubject: half a message\r\n")
	// Meanwhile a normal client posts.
	if err := e.send(t, "alice@example.net", []string{"entraide@lists.example"}, "From: alice@example.net\r\nSubject: normal\r\nMessage-ID: <normal@x>\r\n\r\nx\r\n"); err != nil {
		t.Fatalf("a normal post while a client stalls: %v", err)
	}
	// The stalled client is cut off: the connection ends, whatever the
	// server said before closing it.
	for {
		if _, err := r.ReadString('\n'); err != nil {
			break
		}
	}
	if _, _, err := e.s.ArchivedMessage("entraide", "normal@x"); err != nil {
		t.Errorf("the normal post is not archived: %v", err)
	}
}

// TestHundredsOfConnections: 300 simultaneous connections; those past the
// limit get a 421 greeting at once, the others a 220, and once they close
// the server takes mail again.
func TestHundredsOfConnections(t *testing.T) {
	e := newMailEnv(t, nil)
	e.mkList(t, List{Name: "entraide"}, "alice@example.net")
	counts, _, closeAll := flood(t, 300, func() (net.Conn, error) { return net.Dial("tcp", e.smtp) })
	if counts["220"] != 100 || counts["421"] != 200 {
		t.Errorf("greetings %v, want 100 × 220 (the limit) and 200 × 421", counts)
	}
	closeAll()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := e.send(t, "alice@example.net", []string{"entraide@lists.example"}, "From: alice@example.net\r\nSubject: after\r\nMessage-ID: <after@x>\r\n\r\nx\r\n")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail accepted after the connections closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBounceStorm: hundreds of bounces for one member arrive at once; the
// server keeps answering, the member is paused once, the moderators hear
// of it once, and posts still go out to the others.
func TestBounceStorm(t *testing.T) {
	e := newMailEnv(t, nil)
	e.mkList(t, List{Name: "entraide", Moderators: "mod@example.net"}, "alice@example.net", "bob@example.org", "dead@example.com")
	bounce := func(i int) string {
		return fmt.Sprintf("From: MAILER-DAEMON@mx.example.com\r\nTo: entraide-bounces@lists.example\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <storm-%d@mx.example.com>\r\n"+
			"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n"+
			"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"+
			"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; dead@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n"+
			"--b--\r\n", i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 200; i += 4 {
				if err := smtpSend(t, e.smtp, "", []string{"entraide-bounces@lists.example"}, []byte(bounce(i))); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a bounce was refused: %v", err)
		break
	}
	m, err := e.s.Member("entraide", "dead@example.com")
	if err != nil || m.Mode != ModeBouncing {
		t.Fatalf("after the storm the member is %+v (%v), want bouncing", m, err)
	}
	if err := e.send(t, "alice@example.net", []string{"entraide@lists.example"}, "From: alice@example.net\r\nSubject: still here\r\nMessage-ID: <still@x>\r\n\r\nx\r\n"); err != nil {
		t.Fatalf("a post after the storm: %v", err)
	}
	for deadline := time.Now().Add(20 * time.Second); len(e.sink.to("bob@example.org")) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the post after the storm did not reach bob")
		}
	}
	time.Sleep(200 * time.Millisecond)
	toMod := 0
	for _, msg := range e.sink.to("mod@example.net") {
		if strings.Contains(string(msg.Data), "dead@example.com") {
			toMod++
		}
	}
	if toMod != 1 {
		t.Errorf("the moderators got %d notices about the bouncing member, want 1", toMod)
	}
	if got := e.sink.to("dead@example.com"); len(got) > 1 {
		t.Errorf("the bouncing member got %d mails after the storm", len(got))
	}
}
