package mailinglist

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/web"
)

// The abuses of SMTP that abuse_test.go and TestSMTPRefusals do not
// cover: the open-relay tricks, the smuggling variants, and one network
// taking every connection while another still gets in.

// conversation is an SMTP client that sends lines as they are given and
// reads each reply, for the tricks a library client would not send.
type conversation struct {
	t    *testing.T
	conn net.Conn
	text *textproto.Reader
}

func converse(t *testing.T, addr string) *conversation {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &conversation{t: t, conn: conn, text: textproto.NewReader(bufio.NewReader(conn))}
	if code, msg := c.reply(); code != 220 {
		t.Fatalf("greeting %d %s", code, msg)
	}
	if code, msg := c.say("EHLO client.test"); code != 250 {
		t.Fatalf("EHLO: %d %s", code, msg)
	}
	return c
}

// reply reads one reply.
func (c *conversation) reply() (int, string) {
	c.t.Helper()
	c.conn.SetDeadline(time.Now().Add(20 * time.Second))
	code, msg, err := c.text.ReadResponse(0)
	if err != nil && code == 0 {
		c.t.Fatalf("read a reply: %v", err)
	}
	return code, msg
}

// say sends line and reads its reply.
func (c *conversation) say(line string) (int, string) {
	c.t.Helper()
	c.write(line + "\r\n")
	return c.reply()
}

// write sends raw bytes.
func (c *conversation) write(raw string) {
	c.t.Helper()
	c.conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c.conn, raw); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// TestOpenRelayTricks: the recipients that old MTAs routed elsewhere
// (percent hack, source routes, bang paths, quoted or doubled @,
// address literals, look-alike domains) are refused with a 5xx, or, when
// they only name one of our lists, reach that list and nobody else.
func TestOpenRelayTricks(t *testing.T) {
	e := newMailEnv(t, nil)
	e.mkList(t, List{Name: "entraide", Policy: PolicyAnyone}, "bob@example.org")
	tests := []struct {
		name, rcpt string
		code       int // 550, or 250 when it names our list
	}{
		{"percent hack", "<victim%gmail.com@lists.example>", 550},
		{"percent hack on a list", "<entraide%gmail.com@lists.example>", 550},
		{"source route to elsewhere", "<@lists.example:victim@gmail.com>", 550},
		{"source route of two hops", "<@relay.example,@lists.example:victim@gmail.com>", 550},
		{"source route to our list", "<@relay.example:entraide@lists.example>", 250},
		{"quoted local part holding an address", `<"victim@gmail.com"@lists.example>`, 550},
		{"quoted local part of our list", `<"entraide"@lists.example>`, 250},
		{"another domain then ours", "<victim@gmail.com@lists.example>", 550},
		{"our list then another domain", "<entraide@lists.example@gmail.com>", 550},
		{"bang path", "<gmail.com!victim@lists.example>", 550},
		{"address literal", "<victim@[127.0.0.1]>", 550},
		{"our list at an address literal", "<entraide@[127.0.0.1]>", 550},
		{"trailing dot", "<victim@gmail.com.>", 550},
		{"look-alike domain (Cyrillic a)", "<entraide@lists.ex\u0430mple>", 550},
		{"upper case elsewhere", "<VICTIM@GMAIL.COM>", 550},
		{"subdomain of ours", "<entraide@sub.lists.example>", 550},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := converse(t, e.smtp)
			if code, msg := c.say("MAIL FROM:<mallory@example.com>"); code != 250 {
				t.Fatalf("MAIL: %d %s", code, msg)
			}
			code, msg := c.say("RCPT TO:" + tt.rcpt)
			if code != tt.code {
				t.Fatalf("RCPT TO:%s: %d %s, want %d", tt.rcpt, code, msg, tt.code)
			}
			if code != 250 {
				return
			}
			if code, msg := c.say("DATA"); code != 354 {
				t.Fatalf("DATA: %d %s", code, msg)
			}
			id := strings.ReplaceAll(tt.name, " ", "-") + "@example.com"
			if code, msg := c.say("From: mallory@example.com\r\nSubject: relay?\r\nMessage-ID: <" + id + ">\r\n\r\nhello\r\n."); code != 250 {
				t.Fatalf("end of data: %d %s", code, msg)
			}
			if _, _, err := e.s.ArchivedMessage("entraide", id); err != nil {
				t.Errorf("the message to our list is not archived: %v", err)
			}
		})
	}
	// One transaction naming a stranger and our list: the stranger is
	// refused, the list gets the message, and its members only.
	c := converse(t, e.smtp)
	for _, step := range []struct {
		line string
		code int
	}{
		{"MAIL FROM:<mallory@example.com>", 250},
		{"RCPT TO:<victim@gmail.com>", 550},
		{"RCPT TO:<victim%gmail.com@lists.example>", 550},
		{"RCPT TO:<entraide@lists.example>", 250},
		{"DATA", 354},
		{"From: mallory@example.com\r\nSubject: mixed\r\nMessage-ID: <mixed@example.com>\r\n\r\nhello\r\n.", 250},
	} {
		if code, msg := c.say(step.line); code != step.code {
			t.Fatalf("%q: %d %s, want %d", step.line, code, msg, step.code)
		}
	}
	e.sink.wait(t, 3) // bob's copies of the three messages to the list
	for _, m := range e.sink.messages() {
		for _, to := range m.To {
			if to != "bob@example.org" {
				t.Errorf("a copy went to %s", to)
			}
		}
	}
}

// TestSmugglingVariants: every way of ending the data with a lone dot
// that is not CRLF.CRLF, over DATA and over BDAT, is refused with a 554
// and nothing is stored or sent; a dot that the dot-unstuffing removes
// leaves nothing that could end the data further down the line.
func TestSmugglingVariants(t *testing.T) {
	e := newMailEnv(t, nil)
	e.mkList(t, List{Name: "entraide", Policy: PolicyAnyone}, "bob@example.org")
	const smuggled = "MAIL FROM:<mallory@example.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nhi\r\n.\r\n"
	head := "From: mallory@example.com\r\nSubject: s\r\nMessage-ID: <%s@example.com>\r\n\r\nhello"
	tests := []struct {
		name, end string
	}{
		{"LF dot LF", "\n.\n"},     // over DATA in TestSMTPRefusals too
		{"CRLF dot LF", "\r\n.\n"}, // over DATA in TestSMTPRefusals too
		{"LF dot CRLF", "\n.\r\n"},
		{"CR dot CRLF", "\r.\r\n"},
		{"CR dot LF", "\r.\n"},
		{"CR dot CR", "\r.\r"},
		{"LF dot CR", "\n.\r"},
	}
	for i, tt := range tests {
		for _, bdat := range []bool{false, true} {
			name := tt.name + " over DATA"
			if bdat {
				name = tt.name + " over BDAT"
			}
			t.Run(name, func(t *testing.T) {
				id := fmt.Sprintf("smuggle-%d-%v", i, bdat)
				msg := fmt.Sprintf(head, id) + tt.end + smuggled
				c := converse(t, e.smtp)
				c.say("MAIL FROM:<mallory@example.com>")
				if code, msg := c.say("RCPT TO:<entraide@lists.example>"); code != 250 {
					t.Fatalf("RCPT: %d %s", code, msg)
				}
				var code int
				var reply string
				if bdat {
					c.write(fmt.Sprintf("BDAT %d LAST\r\n%s", len(msg), msg))
					code, reply = c.reply()
				} else {
					if code, reply := c.say("DATA"); code != 354 {
						t.Fatalf("DATA: %d %s", code, reply)
					}
					c.write(msg + "\r\n.\r\n")
					code, reply = c.reply()
				}
				if code != 554 {
					t.Errorf("%d %s, want 554", code, reply)
				}
				if _, _, err := e.s.ArchivedMessage("entraide", id+"@example.com"); err == nil {
					t.Error("the smuggling message was stored")
				}
			})
		}
	}
	// CRLF dot CR: the unstuffing removes the dot and its CR; the rest is
	// the body, and no copy holds a line that could end the data.
	c := converse(t, e.smtp)
	c.say("MAIL FROM:<mallory@example.com>")
	c.say("RCPT TO:<entraide@lists.example>")
	c.say("DATA")
	c.write(fmt.Sprintf(head, "unstuffed") + "\r\n.\r" + smuggled + "\r\n.\r\n")
	if code, reply := c.reply(); code != 250 {
		t.Fatalf("CRLF dot CR: %d %s, want 250 (the data goes on past the unstuffed dot)", code, reply)
	}
	for _, m := range e.sink.wait(t, 1) {
		if smuggledData(m.Data) {
			t.Errorf("a copy holds a lone dot line:\n%q", m.Data)
		}
	}
	if got := e.sink.to("bob@example.org"); len(got) != 1 {
		t.Errorf("bob got %d copies, want the one message accepted", len(got))
	}
}

// smuggledData reports whether raw holds a line that a lax receiver could
// take for the end of the data.
func smuggledData(raw []byte) bool {
	s := string(raw)
	for _, end := range []string{"\n.\n", "\n.\r", "\r.\n", "\r.\r"} {
		if strings.Contains(s, end) {
			return true
		}
	}
	return false
}

// TestOneNetworkTakesEveryConnection: 500 connections from one client
// network get 20 places (the per-network limit) and 421 greetings that say
// why; a client from another network still gets in and posts.
func TestOneNetworkTakesEveryConnection(t *testing.T) {
	e := newMailEnv(t, func(s *Service) { s.limits.exemptLoopback = false })
	e.mkList(t, List{Name: "entraide", Policy: PolicyAnyone}, "bob@example.org")
	// Loopback addresses of two /24 networks: 127.0.0.0/24 for the flood,
	// 127.0.1.0/24 for the other client.
	from := func(ip string) *net.Dialer {
		return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 20 * time.Second}
	}
	counts, refusal, _ := flood(t, 500, func() (net.Conn, error) { return from("127.0.0.1").Dial("tcp", e.smtp) })
	if counts["220"] != 20 || counts["421"] != 480 {
		t.Errorf("greetings %v, want 20 × 220 (the per-network limit) and 480 × 421", counts)
	}
	if !strings.Contains(refusal, "Too many connections") {
		t.Errorf("the 421 greeting does not say why: %q", refusal)
	}
	c, err := from("127.0.1.1").Dial("tcp", e.smtp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	text := textproto.NewConn(c)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	for _, step := range []struct {
		line string
		code int
	}{
		{"", 220},
		{"EHLO other.example", 250},
		{"MAIL FROM:<carol@example.net>", 250},
		{"RCPT TO:<entraide@lists.example>", 250},
		{"DATA", 354},
		{"From: carol@example.net\r\nSubject: still open\r\nMessage-ID: <other-net@example.net>\r\n\r\nhello\r\n.", 250},
	} {
		if step.line != "" {
			text.PrintfLine("%s", step.line)
		}
		if code, msg, err := text.ReadResponse(step.code); err != nil {
			t.Fatalf("another network, %q: %d %s %v", step.line, code, msg, err)
		}
	}
	if _, _, err := e.s.ArchivedMessage("entraide", "other-net@example.net"); err != nil {
		t.Errorf("the other network's post is not archived: %v", err)
	}
}

// TestIncomingMemory: the messages being received share a memory budget,
// taken as their data arrives; a message that finds it spent gets a 451
// (its sender tries again later, nothing is lost), and once the others are
// done it goes through.
func TestIncomingMemory(t *testing.T) {
	e := newMailEnv(t, func(s *Service) { s.incoming = web.NewBudget(250 << 10) })
	e.mkList(t, List{Name: "entraide", Policy: PolicyAnyone}, "bob@example.org")
	start := func(id string) *conversation {
		c := converse(t, e.smtp)
		c.say("MAIL FROM:<alice@example.net>")
		if code, msg := c.say("RCPT TO:<entraide@lists.example>"); code != 250 {
			t.Fatalf("RCPT: %d %s", code, msg)
		}
		if code, msg := c.say("DATA"); code != 354 {
			t.Fatalf("DATA: %d %s", code, msg)
		}
		c.write("From: alice@example.net\r\nSubject: " + id + "\r\nMessage-ID: <" + id + "@example.net>\r\n\r\n")
		return c
	}
	// A slow sender sends 100 KiB of a message and stops there: the
	// pieces read so far take 224 KiB of the budget.
	slow := start("slow")
	line := strings.Repeat("a", 1022) + "\r\n"
	slow.write(strings.Repeat(line, 100))
	// Wait until less than the first piece of another message (32 KiB)
	// is left: the slow message took its share of the budget.
	waitFor(t, func() bool { return e.s.incoming.Free() < 32<<10 })
	other := start("other")
	other.write("hello\r\n.\r\n")
	if code, msg := other.reply(); code != 451 || !strings.Contains(msg, "try again later") {
		t.Errorf("a message while the budget is spent: %d %s, want 451 saying to try again later", code, msg)
	}
	slow.write(".\r\n")
	if code, msg := slow.reply(); code != 250 {
		t.Fatalf("the slow message: %d %s", code, msg)
	}
	again := start("other")
	again.write("hello\r\n.\r\n")
	if code, msg := again.reply(); code != 250 {
		t.Errorf("the refused message, sent again once the budget is free: %d %s", code, msg)
	}
	if free := e.s.incoming.Free(); free != 250<<10 {
		t.Errorf("%d bytes of the budget free after the messages, want all of it", free)
	}
}
