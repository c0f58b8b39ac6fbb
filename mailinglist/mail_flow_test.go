package mailinglist

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/quotedprintable"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

const post = "From: Alice Martin <alice@example.net>\r\n" +
	"To: entraide@lists.example\r\n" +
	"Subject: =?utf-8?q?R=C3=A9union_=C3=A0_Montreuil?=\r\n" +
	"Message-ID: <post-1@example.net>\r\n" +
	"Date: Mon, 23 Nov 2026 10:00:00 +0100\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: 8bit\r\n" +
	"DKIM-Signature: v=1; a=rsa-sha256; d=example.net; s=x; b=abc\r\n" +
	"\r\n" +
	"Bonjour à toutes et à tous, élan café œuvre.\r\n" +
	".\r\n" +
	"Une ligne avec un point seul au-dessus.\r\n"

func TestPostReachesMembersSigned(t *testing.T) {
	e := newMailEnv(t, nil)
	e.mkList(t, List{Name: "entraide", Title: "Entraide numérique", SubjectTag: "[entraide]"},
		"alice@example.net", "bob@example.org", "Carol@Example.com")
	if err := e.send(t, "alice@example.net", []string{"entraide@lists.example"}, post); err != nil {
		t.Fatalf("post: %v", err)
	}
	msgs := e.sink.wait(t, 2)
	signer, err := e.s.keys.Signer("lists.example")
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(name string) ([]string, error) {
		if name == signer.Selector()+"._domainkey.lists.example" {
			return []string{signer.DNSRecord()}, nil
		}
		return nil, fmt.Errorf("no TXT at %s", name)
	}
	got := map[string]bool{}
	for _, m := range msgs {
		if len(m.To) != 1 {
			t.Fatalf("copy to %v, want one recipient each", m.To)
		}
		to := m.To[0]
		got[to] = true
		if m.From != "entraide-bounces@lists.example" {
			t.Errorf("envelope from %q", m.From)
		}
		vs, err := dkim.VerifyWithOptions(bytes.NewReader(m.Data), &dkim.VerifyOptions{LookupTXT: lookup})
		if err != nil || len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "lists.example" {
			t.Errorf("copy to %s: DKIM %v %+v\n%s", to, err, vs, m.Data)
		}
		for name, want := range map[string]string{
			"List-Id":               "=?utf-8?q?Entraide_num=C3=A9rique?= <entraide.lists.example>",
			"List-Post":             "<mailto:entraide@lists.example>",
			"List-Archive":          "<https://placette.example/lists/entraide/>",
			"List-Help":             "<mailto:entraide-request@lists.example?subject=help>",
			"Precedence":            "list",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
			"Subject":               "[entraide] =?utf-8?q?R=C3=A9union_=C3=A0_Montreuil?=",
			"From":                  "Alice Martin <alice@example.net>",
			"Message-ID":            "<post-1@example.net>",
		} {
			if v := header(m.Data, name); v != want {
				t.Errorf("copy to %s: %s = %q, want %q", to, name, v, want)
			}
		}
		token := e.s.MemberToken("entraide", to)
		wantUnsub := "<https://placette.example/lists/entraide/unsubscribe/" + token + ">, <mailto:entraide-unsubscribe@lists.example?subject=" + token + ">"
		if v := header(m.Data, "List-Unsubscribe"); v != wantUnsub {
			t.Errorf("List-Unsubscribe = %q, want %q", v, wantUnsub)
		}
		if n := strings.Count(string(m.Data), "DKIM-Signature:"); n != 1 {
			t.Errorf("%d DKIM-Signature fields, want ours only", n)
		}
		if !bytes.Contains(m.Data, []byte("\r\n\r\nBonjour à toutes et à tous, élan café œuvre.\r\n.\r\nUne ligne")) {
			t.Errorf("body changed:\n%s", m.Data)
		}
	}
	if !got["bob@example.org"] || !got["carol@example.com"] || got["alice@example.net"] {
		t.Errorf("copies went to %v; want bob and carol, not the author", got)
	}
	a, raw, err := e.s.ArchivedMessage("entraide", "post-1@example.net")
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != post || a.Subject != "Réunion à Montreuil" || a.FromName != "Alice Martin" {
		t.Errorf("archived %+v\n%q", a, raw)
	}
	// The same Message-ID again is accepted and neither stored nor sent.
	if err := e.send(t, "alice@example.net", []string{"entraide@lists.example"}, post); err != nil {
		t.Fatal(err)
	}
	ths, err := e.s.Threads("entraide", 10)
	if err != nil || len(ths) != 1 || ths[0].Count != 1 {
		t.Errorf("threads %+v, %v", ths, err)
	}
}

func TestDMARCRewritesFrom(t *testing.T) {
	e := newMailEnv(t, nil)
	e.dns.set("_dmarc.strict.example", "v=DMARC1; p=reject")
	e.dns.set("_dmarc.corp.example", "v=DMARC1; p=none; sp=quarantine")
	e.mkList(t, List{Name: "entraide", Title: "Entraide", Policy: PolicyAnyone}, "bob@example.org")
	tests := []struct {
		from, want string
	}{
		{"Zoé <zoe@strict.example>", `=?utf-8?q?Zo=C3=A9_via_Entraide?= <entraide@lists.example>`},
		{"Yann <yann@mail.corp.example>", `"Yann via Entraide" <entraide@lists.example>`},
		{"Xavier <xavier@lax.example>", "Xavier <xavier@lax.example>"},
	}
	for i, tt := range tests {
		t.Run(tt.from, func(t *testing.T) {
			msg := fmt.Sprintf("From: %s\r\nSubject: s%d\r\nMessage-ID: <d%d@x>\r\n\r\nhi\r\n", tt.from, i, i)
			if err := e.send(t, "x@x.example", []string{"entraide@lists.example"}, msg); err != nil {
				t.Fatal(err)
			}
			msgs := e.sink.wait(t, i+1)
			m := msgs[i].Data
			if v := header(m, "From"); v != tt.want {
				t.Errorf("From = %q, want %q", v, tt.want)
			}
			if tt.want != tt.from {
				if v := header(m, "X-Original-From"); v != tt.from {
					t.Errorf("X-Original-From = %q", v)
				}
				if v := header(m, "Reply-To"); !strings.Contains(v, "@") || strings.Contains(v, "entraide@") {
					t.Errorf("Reply-To = %q, want the author", v)
				}
			}
		})
	}
}

func TestSMTPRefusals(t *testing.T) {
	e := newMailEnv(t, nil)
	e.mkList(t, List{Name: "entraide", Policy: PolicyAnyone, MaxBytes: 2000}, "bob@example.org")
	e.mkList(t, List{Name: "annonces", Policy: PolicyAnnounce, Moderators: "karim@example.org"}, "bob@example.org")
	many := make([]string, 51)
	for i := range many {
		many[i] = "entraide@lists.example"
	}
	tests := []struct {
		name  string
		rcpts []string
		msg   string
		code  int
	}{
		{"unknown local part", []string{"nobody@lists.example"}, "Subject: x\r\n\r\nx\r\n", 550},
		{"unknown suffix", []string{"entraide-admin@lists.example"}, "Subject: x\r\n\r\nx\r\n", 550},
		{"token on the post address", []string{"entraide+x@lists.example"}, "Subject: x\r\n\r\nx\r\n", 550},
		{"other domain: no relay", []string{"someone@gmail.com"}, "Subject: x\r\n\r\nx\r\n", 550},
		{"too many recipients", many, "Subject: x\r\n\r\nx\r\n", 452},
		{"larger than the list's limit", []string{"entraide@lists.example"}, "Subject: big\r\n\r\n" + strings.Repeat(strings.Repeat("x", 70)+"\r\n", 40), 552},
		{"bare LF dot: smuggling", []string{"entraide@lists.example"}, "Subject: s\r\n\r\nhello\n.\nMAIL FROM:<x@y>\r\n", 554},
		{"CRLF dot LF: smuggling", []string{"entraide@lists.example"}, "Subject: s\r\n\r\nhello\r\n.\nMAIL FROM:<x@y>\r\n", 554},
		{"announce list, not a moderator", []string{"annonces@lists.example"}, "From: bob@example.org\r\nSubject: x\r\n\r\nx\r\n", 550},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := smtpSendRaw(t, e.smtp, "bob@example.org", tt.rcpts, tt.msg)
			if code := smtpCode(err); code != tt.code {
				t.Errorf("got %v (code %d), want %d", err, code, tt.code)
			}
		})
	}
	if ths, _ := e.s.Threads("entraide", 10); len(ths) != 0 {
		t.Errorf("refused mail was stored: %+v", ths)
	}
}

// smtpSendRaw is smtpSend writing msg's bytes as they are after DATA (no
// dot-stuffing of bare LFs by the client's text writer): it writes the raw
// bytes through the connection.
func smtpSendRaw(t testing.TB, addr, from string, rcpts []string, msg string) error {
	t.Helper()
	if !strings.Contains(msg, "\n.\n") && !strings.Contains(msg, "\r\n.\n") {
		return smtpSend(t, addr, from, rcpts, []byte(msg))
	}
	return rawSMTP(t, addr, from, rcpts, msg)
}

func TestHeldThenApproved(t *testing.T) {
	e := newMailEnv(t, nil)
	e.mkList(t, List{Name: "entraide", Title: "Entraide", Moderators: "karim@example.org"}, "bob@example.org", "carol@example.com")
	msg := "From: Dan <dan@elsewhere.example>\r\nSubject: Bonjour\r\nMessage-ID: <held-1@elsewhere.example>\r\n\r\nJe voudrais participer.\r\n"
	if err := e.send(t, "dan@elsewhere.example", []string{"entraide@lists.example"}, msg); err != nil {
		t.Fatal(err)
	}
	held, err := e.s.HeldMessages("")
	if err != nil || len(held) != 1 || held[0].From != "dan@elsewhere.example" || held[0].Reason != reasonNonMember {
		t.Fatalf("held = %+v, %v", held, err)
	}
	raw, err := e.s.HeldRaw("entraide", held[0].ID)
	if err != nil || string(raw) != msg {
		t.Fatalf("held raw %q, %v", raw, err)
	}
	notice := e.sink.wait(t, 1)[0]
	if notice.From != "" || notice.To[0] != "karim@example.org" || header(notice.Data, "Auto-Submitted") != "auto-generated" {
		t.Errorf("moderators' notice: from %q to %v\n%s", notice.From, notice.To, notice.Data)
	}
	body := decodeQP(t, notice.Data)
	if !strings.Contains(body, "dan@elsewhere.example") || !strings.Contains(body, "l’expéditeur n’est pas abonné") {
		t.Errorf("notice body (French):\n%s", body)
	}
	// A second held message within 15 minutes tells nobody.
	msg2 := strings.Replace(msg, "held-1", "held-2", 1)
	if err := e.send(t, "dan@elsewhere.example", []string{"entraide@lists.example"}, msg2); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Moderate(context.Background(), "entraide", held[0].ID, ApproveAlways, ""); err != nil {
		t.Fatal(err)
	}
	e.sink.wait(t, 3)
	if n := len(e.sink.to("bob@example.org")) + len(e.sink.to("carol@example.com")); n != 2 {
		t.Errorf("%d copies of the approved message, want 2", n)
	}
	if len(e.sink.to("karim@example.org")) != 1 {
		t.Errorf("moderators told %d times, want once", len(e.sink.to("karim@example.org")))
	}
	// Approved always: the next post goes through; the second held one is
	// rejected with a notice to its author.
	held, _ = e.s.HeldMessages("entraide")
	if len(held) != 1 {
		t.Fatalf("held = %+v", held)
	}
	if err := e.s.Moderate(context.Background(), "entraide", held[0].ID, Reject, "Hors sujet."); err != nil {
		t.Fatal(err)
	}
	msg3 := strings.Replace(msg, "held-1", "held-3", 1)
	if err := e.send(t, "dan@elsewhere.example", []string{"entraide@lists.example"}, msg3); err != nil {
		t.Fatal(err)
	}
	e.sink.wait(t, 6)
	if h, _ := e.s.HeldMessages("entraide"); len(h) != 0 {
		t.Errorf("still held: %+v", h)
	}
	rej := e.sink.to("dan@elsewhere.example")
	if len(rej) != 1 || !strings.Contains(decodeQP(t, rej[0].Data), "Hors sujet.") {
		t.Errorf("rejection notices %d", len(rej))
	}
}

// decodeQP returns the body of a notice, decoded.
func decodeQP(t testing.TB, raw []byte) string {
	t.Helper()
	_, body := splitMessage(raw)
	b, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoopsAndAutoRepliesDropped(t *testing.T) {
	e := newMailEnv(t, nil)
	e.mkList(t, List{Name: "entraide", Policy: PolicyAnyone}, "bob@example.org")
	tests := []struct{ name, from, msg string }{
		{"our List-Id", "bob@example.org", "From: bob@example.org\r\nList-Id: Entraide <entraide.lists.example>\r\nMessage-ID: <l1@x>\r\n\r\nx\r\n"},
		{"our X-Loop", "bob@example.org", "From: bob@example.org\r\nX-Loop: placette-entraide@lists.example\r\nMessage-ID: <l2@x>\r\n\r\nx\r\n"},
		{"vacation", "bob@example.org", "From: bob@example.org\r\nAuto-Submitted: auto-replied\r\nSubject: Absent\r\nMessage-ID: <l3@x>\r\n\r\nx\r\n"},
		{"null sender", "", "From: bob@example.org\r\nSubject: x\r\nMessage-ID: <l4@x>\r\n\r\nx\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.send(t, tt.from, []string{"entraide@lists.example"}, tt.msg); err != nil {
				t.Fatalf("want 250 (dropped quietly), got %v", err)
			}
		})
	}
	if ths, _ := e.s.Threads("entraide", 10); len(ths) != 0 {
		t.Errorf("dropped mail was archived: %+v", ths)
	}
	// One real post afterwards is the only copy the sink sees.
	if err := e.send(t, "bob@example.org", []string{"entraide@lists.example"}, "From: z@z.example\r\nMessage-ID: <ok@x>\r\n\r\nok\r\n"); err != nil {
		t.Fatal(err)
	}
	if msgs := e.sink.wait(t, 1); len(msgs) != 1 || !strings.Contains(string(msgs[0].Data), "<ok@x>") {
		t.Errorf("sink got %d messages", len(msgs))
	}
}

var tokenRE = regexp.MustCompile(`confirm ([a-z2-7]{16,64})`)

func TestSubscribeByMail(t *testing.T) {
	e := newMailEnv(t, nil)
	e.mkList(t, List{Name: "entraide", Title: "Entraide"})
	if err := e.send(t, "dan@example.net", []string{"entraide-subscribe@lists.example"}, "From: Dan <Dan@Example.net>\r\nSubject: subscribe\r\n\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	conf := e.sink.wait(t, 1)[0]
	if conf.To[0] != "dan@example.net" || conf.From != "" {
		t.Fatalf("confirmation to %v from %q", conf.To, conf.From)
	}
	subject := header(conf.Data, "Subject")
	dec, _ := wordDecoder.DecodeHeader(subject)
	m := tokenRE.FindStringSubmatch(dec)
	if m == nil {
		t.Fatalf("no token in subject %q", dec)
	}
	if !strings.Contains(decodeQP(t, conf.Data), "https://placette.example/lists/entraide/confirm/"+m[1]) {
		t.Errorf("no confirmation link in\n%s", decodeQP(t, conf.Data))
	}
	if _, err := e.s.Member("entraide", "dan@example.net"); err == nil {
		t.Fatal("subscribed before confirming")
	}
	// Replying to the confirmation confirms.
	reply := "From: dan@example.net\r\nSubject: Re: " + subject + "\r\n\r\n> quoted text\r\n"
	if err := e.send(t, "dan@example.net", []string{"entraide-request@lists.example"}, reply); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Member("entraide", "dan@example.net"); err != nil {
		t.Fatalf("not subscribed after the reply: %v", err)
	}
	welcome := e.sink.wait(t, 2)[1]
	if !strings.Contains(decodeQP(t, welcome.Data), "/lists/entraide/member/") {
		t.Errorf("welcome:\n%s", decodeQP(t, welcome.Data))
	}
	// A used token works no more.
	if _, _, err := e.s.ConfirmSubscription(m[1]); err != ErrBadToken {
		t.Errorf("second use: %v", err)
	}
	// The mailto of List-Unsubscribe unsubscribes at once.
	token := e.s.MemberToken("entraide", "dan@example.net")
	if err := e.send(t, "dan@example.net", []string{"entraide-unsubscribe@lists.example"}, "From: dan@example.net\r\nSubject: "+token+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Member("entraide", "dan@example.net"); err == nil {
		t.Error("still a member after the one-click mailto")
	}
	// help
	if err := e.send(t, "eve@example.net", []string{"entraide-request@lists.example"}, "From: eve@example.net\r\nSubject: hi\r\n\r\nhelp\r\n"); err != nil {
		t.Fatal(err)
	}
	e.sink.wait(t, 4)
	if h := e.sink.to("eve@example.net"); len(h) != 1 || !strings.Contains(decodeQP(t, h[0].Data), "entraide-subscribe@lists.example") {
		t.Errorf("help: %d", len(h))
	}
}

func TestWebSubscription(t *testing.T) {
	e := newMailEnv(t, nil)
	e.mkList(t, List{Name: "entraide", Title: "Entraide"})
	if err := e.s.RequestSubscription(context.Background(), "entraide", "Fanny@Example.net", "Fanny", "en"); err != nil {
		t.Fatal(err)
	}
	conf := e.sink.wait(t, 1)[0]
	body := decodeQP(t, conf.Data)
	m := regexp.MustCompile(`/confirm/([a-z2-7]+)`).FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, "Someone, probably you") {
		t.Fatalf("confirmation (English):\n%s", body)
	}
	l, mem, err := e.s.ConfirmSubscription(m[1])
	if err != nil || l.Name != "entraide" || mem.Addr != "fanny@example.net" || mem.Name != "Fanny" {
		t.Fatalf("confirm: %+v %+v %v", l, mem, err)
	}
	l2, m2, err := e.s.MemberFromToken(e.s.MemberToken("entraide", "FANNY@example.net"))
	if err != nil || l2.Name != "entraide" || m2.Addr != "fanny@example.net" {
		t.Errorf("MemberFromToken: %v", err)
	}
	for _, bad := range []string{"", "x", "a.b", e.s.MemberToken("entraide", "other@example.net"), e.s.MemberToken("entraide", "fanny@example.net") + "x"} {
		if _, _, err := e.s.MemberFromToken(bad); err != ErrBadToken {
			t.Errorf("MemberFromToken(%q) = %v", bad, err)
		}
	}
	if _, _, err := e.s.Unsubscribe(e.s.MemberToken("entraide", "fanny@example.net")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Member("entraide", "fanny@example.net"); err == nil {
		t.Error("still a member")
	}
}
