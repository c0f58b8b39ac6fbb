package mailinglist

import (
	"bytes"
	"context"
	"fmt"
	bolt "go.etcd.io/bbolt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"codeberg.org/placette/placette/internal/control"
	"codeberg.org/placette/placette/mailinglist/delivery"
	"codeberg.org/placette/placette/mailinglist/mailmsg"
	"github.com/emersion/go-smtp"
)

// testdataMail is the shared folder of real-world mail.
const testdataMail = "../../shared/testdata/mail"

func TestBounceReportsPauseMember(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testdataMail, "bounces", "*.txt"))
	var raw []byte
	var addr string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b, ok := mailmsg.ParseBounce(mailmsg.Normalize(data))
		if !ok || b.Complaint || len(b.Statuses) != 1 {
			continue
		}
		st := b.Statuses[0]
		if (st.Hard || strings.HasPrefix(st.Code, "5.")) && !st.Policy && !strings.HasPrefix(st.Code, "5.7") && strings.Contains(st.Addr, "@") && (st.Action == "" || st.Action == "failed") {
			raw, addr = data, st.Addr
			t.Logf("using %s: %+v", filepath.Base(f), st)
			break
		}
	}
	if raw == nil {
		t.Skip("no hard bounce in the test data is read by mailmsg yet")
	}
	e := newMailEnv(t, nil)
	e.mkList(t, List{Name: "entraide", Moderators: "karim@example.org"}, addr, "bob@example.org")
	for i := range 3 {
		if err := smtpSend(t, e.smtp, "", []string{"entraide-bounces@lists.example"}, raw); err != nil {
			t.Fatalf("bounce %d: %v", i, err)
		}
	}
	m, err := e.s.Member("entraide", addr)
	if err != nil || m.Mode != ModeBouncing || m.BounceScore < bounceThreshold {
		t.Fatalf("member after 3 hard bounces: %+v, %v", m, err)
	}
	e.sink.wait(t, 2)
	if len(e.sink.to("karim@example.org")) != 1 || len(e.sink.to(addr)) != 1 {
		t.Errorf("notices: owner %d, member %d", len(e.sink.to("karim@example.org")), len(e.sink.to(addr)))
	}
	// A paused member gets no copies.
	if err := e.send(t, "bob@example.org", []string{"entraide@lists.example"}, "From: bob@example.org\r\nMessage-ID: <p@x>\r\n\r\nx\r\n"); err != nil {
		t.Fatal(err)
	}
	e.sink.wait(t, 2)
	if n := len(e.sink.to(addr)); n != 1 {
		t.Errorf("bouncing member got %d messages", n)
	}
}

func TestRelayRefusalsCountAndVERP(t *testing.T) {
	e := newMailEnv(t, nil)
	e.sink.mu.Lock()
	e.sink.reject["dead@example.org"] = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	e.sink.reject["picky@example.org"] = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "spam"}
	e.sink.mu.Unlock()
	e.mkList(t, List{Name: "entraide", Policy: PolicyAnyone}, "dead@example.org", "picky@example.org", "ok@example.org")
	r := e.s.Relay()
	r.VERP = true
	if err := e.s.SetRelay(r); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		msg := fmt.Sprintf("From: z@z.example\r\nMessage-ID: <r%d@x>\r\n\r\nx\r\n", i)
		if err := e.send(t, "z@z.example", []string{"entraide@lists.example"}, msg); err != nil {
			t.Fatal(err)
		}
		e.sink.wait(t, i+1)
	}
	waitFor(t, func() bool {
		m, _ := e.s.Member("entraide", "dead@example.org")
		return m != nil && m.Mode == ModeBouncing
	})
	if m, _ := e.s.Member("entraide", "picky@example.org"); m.BounceScore != 0 || m.Mode != ModeEach {
		t.Errorf("a 5.7.1 refusal was counted: %+v", m)
	}
	ok := e.sink.to("ok@example.org")
	want := "entraide-bounces+" + e.s.verpToken("entraide", "ok@example.org") + "@lists.example"
	if len(ok) == 0 || ok[0].From != want {
		t.Fatalf("VERP sender %q, want %q", ok[0].From, want)
	}
	// A message to the VERP address counts against that member.
	if err := smtpSend(t, e.smtp, "", []string{want}, []byte("From: MAILER-DAEMON@x.example\r\nSubject: failure\r\n\r\nsomething failed\r\n")); err != nil {
		t.Fatal(err)
	}
	if m, _ := e.s.Member("entraide", "ok@example.org"); m.BounceScore != bounceSoft && m.BounceScore != bounceHard {
		t.Errorf("VERP bounce not counted: %+v", m)
	}
}

// waitFor waits until cond holds.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	for range 2000 {
		if cond() {
			return
		}
		sleep()
	}
	t.Fatal("condition never held")
}

// TestCorpusOverSMTP sends every message of the shared test data to a list
// that takes anyone's mail: each is stored with its bytes intact, or
// refused with a 5xx.
func TestCorpusOverSMTP(t *testing.T) {
	if _, err := os.Stat(testdataMail); err != nil {
		t.Skip("no shared test data")
	}
	e := newMailEnv(t, nil)
	e.mkList(t, List{Name: "corpus", Policy: PolicyAnyone})
	stored, refused, dropped := 0, 0, 0
	seen := map[string]bool{}
	err := filepath.WalkDir(testdataMail, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(testdataMail, path)
		err = smtpSend(t, e.smtp, "sender@example.net", []string{"corpus@lists.example"}, data)
		if err != nil {
			if c := smtpCode(err); c < 500 || c > 599 {
				t.Errorf("%s: %v, want 250 or 5xx", rel, err)
			}
			refused++
			return nil
		}
		// What the client sent: its text writer turns lone LFs into CRLF.
		want := mailmsg.Normalize(data)
		if in, err := e.s.newInbound(want, "sender@example.net", ""); err == nil && in.auto {
			dropped++ // auto-responders and bounces never reach a list
			return nil
		}
		msg, _ := mailmsg.Parse(want)
		id := messageIDOf(msg, want, "lists.example")
		if seen[id] {
			return nil // the same Message-ID came before: not stored again
		}
		seen[id] = true
		_, raw, err := e.s.ArchivedMessage("corpus", id)
		if err != nil {
			t.Errorf("%s: accepted but not stored: %v", rel, err)
			return nil
		}
		if !bytes.Equal(raw, want) {
			t.Errorf("%s: stored bytes differ (%d stored, %d sent)", rel, len(raw), len(want))
		}
		stored++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d stored, %d refused, %d dropped as automatic", stored, refused, dropped)
	if stored == 0 {
		t.Error("nothing stored")
	}
}

func TestServeCall(t *testing.T) {
	e := newMailEnv(t, nil)
	call := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := e.s.ServeCall(context.Background(), &control.Call{Name: args[0], Args: args[1:], Stdout: &out, Stderr: &errOut})
		return out.String() + errOut.String(), err
	}
	tests := []struct {
		args    []string
		want    string
		wantErr bool
	}{
		{[]string{"list", "create", "entraide", "-title", "Entraide", "-private", "-moderator", "karim@example.org"}, "entraide@lists.example", false},
		{[]string{"list", "create", "entraide"}, "", true},
		{[]string{"list", "create", "Bad Name"}, "", true},
		{[]string{"list", "create", "x-owner"}, "", true},
		{[]string{"list", "create", "annonces", "-policy", "announce", "-domain", "asso.example"}, "annonces@asso.example", false},
		{[]string{"list", "members", "entraide", "add", "Bob@Example.org", "carol@example.com"}, "2 added", false},
		{[]string{"list", "members", "entraide", "add", "not an address"}, "", true},
		{[]string{"list", "members", "entraide"}, "bob@example.org\ncarol@example.com\n", false},
		{[]string{"list", "members", "entraide", "export"}, "address,name,mode,joined\nbob@example.org,,each,", false},
		{[]string{"list", "members", "entraide", "remove", "carol@example.com"}, "1 removed", false},
		{[]string{"list", "members", "nolist"}, "", true},
		{[]string{"dns"}, "_domainkey.lists.example.\t3600\tIN\tTXT\t\"v=DKIM1", false},
		{[]string{"list", "frobnicate"}, "", true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, err := call(tt.args...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v (output %q)", err, tt.wantErr, out)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("output %q, want %q in it", out, tt.want)
			}
		})
	}
	l, err := e.s.List("entraide")
	if err != nil || !l.Private || l.Title != "Entraide" || !l.isModerator("karim@example.org") {
		t.Errorf("list %+v, %v", l, err)
	}
	out, _ := call("dns")
	for _, want := range []string{"lists.example.\t3600\tIN\tMX\t10 placette.example.", "\"v=spf1 mx a:127.0.0.1 ~all\"", "_dmarc.asso.example.\t3600\tIN\tTXT\t\"v=DMARC1; p=none"} {
		if !strings.Contains(out, want) {
			t.Errorf("dns output lacks %q:\n%s", want, out)
		}
	}
}

func TestImportExport(t *testing.T) {
	e := newMailEnv(t, nil)
	e.mkList(t, List{Name: "archive", Policy: PolicyAnyone}, "bob@example.org")
	mbox := "From alice@example.net Mon Nov 23 10:00:00 2026\n" +
		"From: Alice <alice@example.net>\nSubject: Premier\nMessage-ID: <m1@x>\nDate: Mon, 23 Nov 2026 10:00:00 +0100\n\nBonjour\n>From the start\n\n" +
		"From bob@example.org Mon Nov 23 11:00:00 2026\n" +
		"From: Bob <bob@example.org>\nSubject: Re: Premier\nMessage-ID: <m2@x>\nIn-Reply-To: <m1@x>\nDate: Mon, 23 Nov 2026 11:00:00 +0100\n\nSalut\n>>From here\n\n" +
		"From x Mon Nov 23 12:00:00 2026\n" +
		"Subject: Re: premier\nDate: Mon, 23 Nov 2026 12:00:00 +0100\n\nsans identifiant\n"
	var progress bytes.Buffer
	res, err := e.s.Import(context.Background(), "archive", strings.NewReader(mbox), &progress)
	if err != nil || res.Added != 3 || res.Already != 0 || len(res.Broken) != 0 {
		t.Fatalf("import: %+v, %v", res, err)
	}
	res, err = e.s.Import(context.Background(), "archive", strings.NewReader(mbox), nil)
	if err != nil || res.Added != 0 || res.Already != 3 {
		t.Fatalf("second import: %+v, %v", res, err)
	}
	ths, _ := e.s.Threads("archive", 10)
	if len(ths) != 1 || ths[0].Count != 3 {
		t.Errorf("threads %+v, want one of 3", ths)
	}
	_, raw, err := e.s.ArchivedMessage("archive", "m1@x")
	if err != nil || !strings.Contains(string(raw), "\r\nFrom the start\r\n") {
		t.Errorf("m1 %q, %v", raw, err)
	}
	var out bytes.Buffer
	n, err := e.s.Export(context.Background(), "archive", &out)
	if err != nil || n != 3 {
		t.Fatalf("export %d, %v", n, err)
	}
	for _, want := range []string{"\n>From the start\n", "\n>>From here\n", "Message-ID: <m2@x>\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("export lacks %q:\n%s", want, out.String())
		}
	}
	// Import of the export into another list gives the same messages.
	e.mkList(t, List{Name: "copie"})
	res, err = e.s.Import(context.Background(), "copie", &out, nil)
	if err != nil || res.Added != 3 {
		t.Fatalf("re-import %+v, %v", res, err)
	}
	_, raw2, _ := e.s.ArchivedMessage("copie", "m1@x")
	if !bytes.Equal(raw, raw2) {
		t.Errorf("round trip changed m1:\n%q\n%q", raw, raw2)
	}
	if len(e.sink.messages()) != 0 {
		t.Error("an import sent mail")
	}
}

func TestLMTPStatusPerRecipient(t *testing.T) {
	e := newMailEnv(t, nil)
	e.mkList(t, List{Name: "entraide", Policy: PolicyAnyone, MaxBytes: 300}, "bob@example.org")
	e.mkList(t, List{Name: "grande", Policy: PolicyAnyone}, "bob@example.org")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); e.s.ServeLMTP(ctx, ln) }()
	defer func() { cancel(); wg.Wait() }()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("mta.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("z@z.example", nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"entraide@lists.example", "grande@lists.example"} {
		if err := c.Rcpt(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "From: z@z.example\r\nMessage-ID: <lmtp@x>\r\nSubject: big\r\n\r\n%s\r\n", strings.Repeat("x", 400))
	resp, err := w.CloseWithLMTPResponse()
	if err == nil {
		t.Fatal("no error for the too-small list")
	}
	t.Logf("responses %+v, %v", resp, err)
	if _, _, err := e.s.ArchivedMessage("grande", "lmtp@x"); err != nil {
		t.Errorf("grande did not store it: %v", err)
	}
	if _, _, err := e.s.ArchivedMessage("entraide", "lmtp@x"); err == nil {
		t.Error("entraide stored a message over its limit")
	}
}

func TestConnectionLimit(t *testing.T) {
	e := newMailEnv(t, func(s *Service) {
		s.limits.exemptLoopback = false
		s.limits.maxConnsPerNet = 2
	})
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	greet := func() string {
		c, err := net.Dial("tcp", e.smtp)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		buf := make([]byte, 256)
		n, _ := c.Read(buf)
		return string(buf[:n])
	}
	for i := range 2 {
		if g := greet(); !strings.HasPrefix(g, "220") {
			t.Fatalf("connection %d: %q", i, g)
		}
	}
	if g := greet(); !strings.HasPrefix(g, "421") {
		t.Errorf("third connection greeted %q, want 421", g)
	}
}

func TestRelaySettingsPersist(t *testing.T) {
	e := newMailEnv(t, nil)
	want := delivery.Relay{Way: delivery.Smarthost, Host: "smtp.example.net", Port: 465, Username: "u", Password: "p", VERP: true}
	if err := e.s.SetRelay(want); err != nil {
		t.Fatal(err)
	}
	if err := e.s.SetRelay(delivery.Relay{Way: "pigeon"}); err == nil {
		t.Error("unknown way accepted")
	}
	if got := e.s.Relay(); got != want {
		t.Errorf("relay %+v", got)
	}
	// What a restart reads (loadSettings) is in the database. The
	// running service is not reloaded: its servers read its settings.
	var stored delivery.Relay
	err := e.db.View(func(tx *bolt.Tx) error {
		_, err := getJSON(tx.Bucket(bucketSettings), []byte("relay"), &stored)
		return err
	})
	if err != nil || stored != want {
		t.Errorf("relay stored %+v (%v), want %+v", stored, err, want)
	}
}
