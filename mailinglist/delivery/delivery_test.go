package delivery

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-smtp"
	bolt "go.etcd.io/bbolt"
)

// smarthostConfig returns a Config sending to s with login and STARTTLS.
func smarthostConfig(s *sink) Config {
	return Config{
		Relay: func() Relay {
			return Relay{Way: Smarthost, Host: "127.0.0.1", Port: s.port, Username: s.user, Password: s.pass}
		},
		TLS: &tls.Config{RootCAs: s.pool},
	}
}

// verifyDKIM checks that data carries one valid signature of signer.
func verifyDKIM(t *testing.T, signer *Signer, data []byte) {
	t.Helper()
	lookup := func(name string) ([]string, error) {
		if name == signer.Selector()+"._domainkey."+signer.Domain() {
			return []string{signer.DNSRecord()}, nil
		}
		return nil, errNotFound
	}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(data), &dkim.VerifyOptions{LookupTXT: lookup})
	if err != nil {
		t.Fatalf("dkim verify: %v", err)
	}
	if len(vs) != 1 {
		t.Fatalf("%d signatures, want 1", len(vs))
	}
	if vs[0].Err != nil {
		t.Fatalf("dkim signature: %v\n%s", vs[0].Err, data)
	}
	if vs[0].Domain != signer.Domain() {
		t.Errorf("signed for %q, want %q", vs[0].Domain, signer.Domain())
	}
}

// checkEmpty checks that the queue holds no job and no message.
func checkEmpty(t *testing.T, e *env) {
	t.Helper()
	st, err := e.q.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st != (Stats{}) {
		t.Errorf("Stats = %+v, want empty", st)
	}
	if err := e.db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(outmsgBucket).Stats().KeyN; n != 0 {
			t.Errorf("list/outmsg holds %d keys, want 0", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestSmarthostDeliversSigned(t *testing.T) {
	s := startSink(t, sinkOptions{tls: true, user: "liste", pass: "s3cret"})
	e := newEnv(t, smarthostConfig(s))
	e.run(t)
	const n = 30
	msg := testMessage(4000)
	e.enqueue(t, msg, testJobs(n, "example.com"))
	waitFor(t, "all reports", func() bool { return e.rep.len() == n })

	for _, r := range e.rep.get() {
		if !r.Delivered || r.Job.Tag != "atelier" {
			t.Errorf("report %+v, want delivered with its tag", r)
		}
	}
	msgs, count, sessions, tlsSeen, authed := s.snapshot()
	if count != n {
		t.Fatalf("sink got %d messages, want %d", count, n)
	}
	if tlsSeen != sessions || authed != sessions {
		t.Errorf("%d sessions, %d with TLS, %d logged in; want all", sessions, tlsSeen, authed)
	}
	signer, err := e.keys.Signer("lists.example.net")
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	for _, m := range msgs {
		if seen[m.To] {
			t.Errorf("%s got two copies", m.To)
		}
		seen[m.To] = true
		if m.From != "atelier-bounces@lists.example.net" {
			t.Errorf("envelope from %q", m.From)
		}
		var i int
		if _, err := fmt.Sscanf(m.To, "rcpt%d@example.com", &i); err != nil {
			t.Fatalf("unexpected recipient %q", m.To)
		}
		if !bytes.HasPrefix(m.Data, []byte("DKIM-Signature: ")) {
			t.Errorf("copy to %s does not start with its signature", m.To)
		}
		want := fmt.Sprintf("List-Unsubscribe: <https://lists.example.net/lists/atelier/unsubscribe/tok%d>,\r\n <mailto:", i)
		if !bytes.Contains(m.Data, []byte(want)) {
			t.Errorf("copy to %s lacks its own List-Unsubscribe", m.To)
		}
		if !bytes.HasSuffix(m.Data, msg) {
			t.Errorf("copy to %s does not end with the message intact", m.To)
		}
		verifyDKIM(t, signer, m.Data)
	}
	checkEmpty(t, e)
}

func TestImplicitTLS(t *testing.T) {
	s := startSink(t, sinkOptions{tls: true, implicit: true, user: "liste", pass: "s3cret"})
	cfg := smarthostConfig(s)
	cfg.Relay = func() Relay {
		return Relay{Way: Smarthost, Host: "localhost", Port: s.port, Username: "liste", Password: "s3cret", ImplicitTLS: true}
	}
	e := newEnv(t, cfg)
	e.run(t)
	e.enqueue(t, testMessage(0), testJobs(3, "example.com"))
	waitFor(t, "all reports", func() bool { return e.rep.len() == 3 })
	_, count, sessions, _, authed := s.snapshot()
	if count != 3 || authed != sessions {
		t.Errorf("count %d, sessions %d, logged in %d", count, sessions, authed)
	}
}

func TestSmarthostRefusals(t *testing.T) {
	tests := []struct {
		name  string
		sink  sinkOptions
		relay func(s *sink) Relay
		want  string
	}{
		{
			name:  "no STARTTLS on a submission port",
			sink:  sinkOptions{},
			relay: func(s *sink) Relay { return Relay{Way: Smarthost, Host: "127.0.0.1", Port: s.port} },
			want:  "does not offer STARTTLS",
		},
		{
			name: "wrong password",
			sink: sinkOptions{tls: true, user: "liste", pass: "s3cret"},
			relay: func(s *sink) Relay {
				return Relay{Way: Smarthost, Host: "127.0.0.1", Port: s.port, Username: "liste", Password: "nope"}
			},
			want: "login at",
		},
		{
			name:  "no smarthost",
			sink:  sinkOptions{},
			relay: func(s *sink) Relay { return Relay{Way: Smarthost} },
			want:  "no smarthost",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSink(t, tt.sink)
			cfg := smarthostConfig(s)
			cfg.Relay = func() Relay { return tt.relay(s) }
			e := newEnv(t, cfg)
			e.run(t)
			e.enqueue(t, testMessage(0), testJobs(2, "example.com"))
			waitFor(t, "jobs failing", func() bool {
				st, err := e.q.Stats()
				return err == nil && st.Failing == 2
			})
			if _, count, _, _, _ := s.snapshot(); count != 0 {
				t.Errorf("sink got %d messages, want 0", count)
			}
			if n := e.rep.len(); n != 0 {
				t.Errorf("%d reports, want none (the jobs wait for a retry)", n)
			}
			checkStoredError(t, e, tt.want)
		})
	}
}

// checkStoredError checks that every job in the queue records an error
// containing want.
func checkStoredError(t *testing.T, e *env, want string) {
	t.Helper()
	if err := e.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(queueBucket).ForEach(func(k, v []byte) error {
			if !strings.Contains(string(v), want) {
				t.Errorf("job %s: error does not say %q", v, want)
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
}

func TestRetryAfter4xx(t *testing.T) {
	s := startSink(t, sinkOptions{tls: true, fail: func(to string, n int) *smtp.SMTPError {
		if n == 0 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "greylisted, try later"}
		}
		return nil
	}})
	e := newEnv(t, smarthostConfig(s))
	e.run(t)
	const n = 10
	e.enqueue(t, testMessage(0), testJobs(n, "example.com"))
	waitFor(t, "jobs failing", func() bool {
		st, err := e.q.Stats()
		return err == nil && st.Failing == n
	})
	checkStoredError(t, e, "greylisted")
	if err := e.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(queueBucket).ForEach(func(k, v []byte) error {
			for _, want := range []string{`"attempts":1`, `"code":451`, `"enhanced":"4.7.1"`, `"next":"2026-11-03T10:01:00Z"`} {
				if !strings.Contains(string(v), want) {
					t.Errorf("job %s lacks %s", v, want)
				}
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	// Not due yet: a kick sends nothing.
	e.q.Kick()
	if c := e.rep.len(); c != 0 {
		t.Fatalf("%d reports before the retry time", c)
	}
	e.clk.Add(time.Minute)
	e.q.Kick()
	waitFor(t, "all reports", func() bool { return e.rep.len() == n })
	for _, r := range e.rep.get() {
		if !r.Delivered {
			t.Errorf("report %+v, want delivered", r)
		}
	}
	checkEmpty(t, e)
}

func TestPermanentFailure(t *testing.T) {
	s := startSink(t, sinkOptions{tls: true, fail: func(to string, n int) *smtp.SMTPError {
		if strings.HasPrefix(to, "rcpt1@") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}})
	e := newEnv(t, smarthostConfig(s))
	e.run(t)
	jobs := testJobs(4, "example.com")
	jobs[3].To = "clémence@example.com" // the sink has no SMTPUTF8
	e.enqueue(t, testMessage(0), jobs)
	waitFor(t, "all reports", func() bool { return e.rep.len() == 4 })
	for _, r := range e.rep.get() {
		switch r.Job.To {
		case "rcpt1@example.com":
			if r.Delivered || r.Code != 550 || r.Enhanced != "5.1.1" || !strings.Contains(r.Message, "no such user") {
				t.Errorf("failure report %+v, want 550 5.1.1 no such user", r)
			}
		case "clémence@example.com":
			if r.Delivered || r.Code != 553 || r.Enhanced != "5.6.7" {
				t.Errorf("failure report %+v, want 553 5.6.7", r)
			}
		default:
			if !r.Delivered {
				t.Errorf("report %+v, want delivered", r)
			}
		}
	}
	if _, count, _, _, _ := s.snapshot(); count != 2 {
		t.Errorf("sink got %d messages, want 2", count)
	}
	checkEmpty(t, e)
}

func TestGiveUp(t *testing.T) {
	s := startSink(t, sinkOptions{tls: true, fail: func(to string, n int) *smtp.SMTPError {
		return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "mailbox full"}
	}})
	cfg := smarthostConfig(s)
	cfg.GiveUpAfter = 12 * time.Hour // the default, five days, is in TestSettle
	e := newEnv(t, cfg)
	e.run(t)
	e.enqueue(t, testMessage(0), testJobs(2, "example.com"))
	for round := 1; e.rep.len() == 0; round++ {
		waitFor(t, "a round of failures", func() bool {
			if e.rep.len() > 0 {
				return true
			}
			st, err := e.q.Stats()
			if err != nil || st.Failing != 2 {
				return false
			}
			var attempts int
			_ = e.db.View(func(tx *bolt.Tx) error {
				_, v := tx.Bucket(queueBucket).Cursor().First()
				_, _ = fmt.Sscanf(string(v[bytes.Index(v, []byte(`"attempts":`))+11:]), "%d", &attempts)
				return nil
			})
			return attempts == round
		})
		if round > 100 {
			t.Fatal("never gave up")
		}
		e.clk.Add(2 * time.Hour)
		e.q.Kick()
	}
	waitFor(t, "both reports", func() bool { return e.rep.len() == 2 })
	for _, r := range e.rep.get() {
		if r.Delivered || r.Code != 452 || r.Enhanced != "4.2.2" {
			t.Errorf("report %+v, want given up with 452 4.2.2", r)
		}
	}
	if elapsed := e.clk.Now().Sub(newClock().Now()); elapsed < 12*time.Hour || elapsed > 14*time.Hour {
		t.Errorf("gave up after %v, want 12 to 14 hours", elapsed)
	}
	checkEmpty(t, e)
}

func TestConnectionReuse(t *testing.T) {
	s := startSink(t, sinkOptions{tls: true, user: "liste", pass: "s3cret"})
	e := newEnv(t, smarthostConfig(s))
	e.run(t)
	const n = 100
	e.enqueue(t, testMessage(1000), testJobs(n, "example.com"))
	waitFor(t, "all reports", func() bool { return e.rep.len() == n })
	_, count, sessions, _, _ := s.snapshot()
	if count != n {
		t.Errorf("sink got %d, want %d", count, n)
	}
	if sessions > defaultConcurrency {
		t.Errorf("%d connections for %d messages, want at most %d", sessions, n, defaultConcurrency)
	}
	t.Logf("%d messages over %d connections", count, sessions)
}

func TestReuseAfterRefusal(t *testing.T) {
	// A refused recipient does not cost a connection: RSET, go on.
	s := startSink(t, sinkOptions{tls: true, fail: func(to string, n int) *smtp.SMTPError {
		if strings.HasSuffix(to, "0@example.com") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}})
	cfg := smarthostConfig(s)
	cfg.Concurrency = 1
	e := newEnv(t, cfg)
	e.run(t)
	e.enqueue(t, testMessage(0), testJobs(40, "example.com"))
	waitFor(t, "all reports", func() bool { return e.rep.len() == 40 })
	_, count, sessions, _, _ := s.snapshot()
	if count != 36 || sessions != 1 {
		t.Errorf("%d messages over %d connections, want 36 over 1", count, sessions)
	}
}

func TestRestartResumes(t *testing.T) {
	s := startSink(t, sinkOptions{tls: true})
	cfg := smarthostConfig(s)
	cfg.Concurrency = 2
	e := newEnv(t, cfg)
	e.run(t)
	const n = 300
	e.enqueue(t, testMessage(2000), testJobs(n, "example.com"))
	waitFor(t, "some delivered", func() bool {
		_, count, _, _, _ := s.snapshot()
		return count >= 20
	})
	e.stop()
	_, first, _, _, _ := s.snapshot()
	st, err := e.q.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped after %d copies; %d jobs left", first, st.Waiting+st.Failing)
	if st.Waiting+st.Failing == 0 {
		t.Log("everything went before the stop; the restart has nothing to do")
	}

	// Reopen the database, as after a restart, with a new queue.
	path := e.db.Path()
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	e.db = openDB(t, path)
	keys, err := NewKeys(e.db)
	if err != nil {
		t.Fatal(err)
	}
	e.keys = keys
	e.q = e.queue(t, cfg)
	e.run(t)
	waitFor(t, "every recipient", func() bool {
		msgs, _, _, _, _ := s.snapshot()
		got := make(map[string]bool)
		for _, m := range msgs {
			got[m.To] = true
		}
		return len(got) == n
	})
	waitFor(t, "the queue emptied", func() bool {
		st, err := e.q.Stats()
		return err == nil && st == (Stats{})
	})
	// Reports come after the commit: wait for them too.
	waitFor(t, "every recipient reported", func() bool {
		delivered := make(map[string]bool)
		for _, r := range e.rep.get() {
			if r.Delivered {
				delivered[r.Job.To] = true
			}
		}
		return len(delivered) == n
	})
	for _, r := range e.rep.get() {
		if !r.Delivered {
			t.Errorf("report %+v", r)
		}
	}
	checkEmpty(t, e)
}

func TestStopMidTransaction(t *testing.T) {
	entered, hold := make(chan struct{}, 1), make(chan struct{})
	s := startSink(t, sinkOptions{tls: true, entered: entered, hold: hold})
	defer close(hold)
	e := newEnv(t, smarthostConfig(s))
	e.run(t)
	e.enqueue(t, testMessage(0), testJobs(1, "example.com"))
	select {
	case <-entered:
	case <-time.After(hangGuard):
		t.Fatal("the copy never reached DATA")
	}
	e.stop() // returns although the server never answers
	st, err := e.q.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Waiting != 1 || st.Failing != 0 {
		t.Errorf("Stats after the stop = %+v, want the job waiting, untried", st)
	}
	if n := e.rep.len(); n != 0 {
		t.Errorf("%d reports, want none", n)
	}
}

func TestOutbox(t *testing.T) {
	e := newEnv(t, Config{}) // no Relay: the outbox way
	e.run(t)
	msg := testMessage(0)
	jobs := testJobs(3, "example.com")
	jobs[2].To = "odd/../name@example.com"
	e.enqueue(t, msg, jobs)
	waitFor(t, "all reports", func() bool { return e.rep.len() == 3 })
	for _, r := range e.rep.get() {
		if !r.Delivered {
			t.Errorf("report %+v", r)
		}
	}
	dir := filepath.Join(e.dir, "outbox")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	nameRE := regexp.MustCompile(`^20261103T100000Z-\d{12}-[a-z0-9._+=@-]+\.eml$`)
	signer, err := e.keys.Signer("lists.example.net")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("%d files in the outbox, want 3", len(entries))
	}
	for _, en := range entries {
		if !nameRE.MatchString(en.Name()) {
			t.Errorf("file name %q", en.Name())
		}
		data, err := os.ReadFile(filepath.Join(dir, en.Name()))
		if err != nil {
			t.Fatal(err)
		}
		head := "X-Envelope-From: <atelier-bounces@lists.example.net>\r\nX-Envelope-To: <"
		if !bytes.HasPrefix(data, []byte(head)) {
			t.Errorf("%s starts with %q", en.Name(), data[:min(len(data), 120)])
		}
		rest := data[bytes.Index(data, []byte("DKIM-Signature: ")):]
		if !bytes.HasSuffix(rest, msg) || !bytes.Contains(rest, []byte("List-Unsubscribe: <https://")) {
			t.Errorf("%s is not the signed copy", en.Name())
		}
		verifyDKIM(t, signer, data)
	}
	files, err := OutboxFiles(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("OutboxFiles gave %d, want 2", len(files))
	}
	if files[0].Name <= files[1].Name {
		t.Errorf("not newest first: %q then %q", files[0].Name, files[1].Name)
	}
	if files[0].To != "odd/../name@example.com" || files[0].From != "atelier-bounces@lists.example.net" ||
		!strings.Contains(files[0].Subject, "Fiche_atelier") || files[0].Size == 0 {
		t.Errorf("newest file %+v", files[0])
	}
	if !strings.Contains(files[0].Name, "odd_.._name@example.com") {
		t.Errorf("unsafe recipient kept in the name: %q", files[0].Name)
	}
	if files, err := OutboxFiles(filepath.Join(e.dir, "missing"), 0); err != nil || files != nil {
		t.Errorf("missing outbox: %v, %v", files, err)
	}
	checkEmpty(t, e)
}

func TestMX(t *testing.T) {
	plain := startSink(t, sinkOptions{})           // no STARTTLS: plain text is fine for an MX
	secure := startSink(t, sinkOptions{tls: true}) // STARTTLS with a certificate nobody trusts
	if plain.port == secure.port {
		t.Fatal("same port")
	}
	broken := startSink(t, sinkOptions{tls: true, oldTLS: true}) // STARTTLS that fails: plain text again
	cases := []struct {
		name     string
		sink     *sink
		sessions int // one per domain, two when TLS fails
		tls      bool
	}{{"plain", plain, 2, false}, {"starttls", secure, 2, true}, {"failed starttls", broken, 4, false}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, Config{
				Relay:  func() Relay { return Relay{Way: MX} },
				MXPort: c.sink.port,
				LookupMX: func(ctx context.Context, domain string) ([]*net.MX, error) {
					switch domain {
					case "a.example":
						return []*net.MX{{Host: "mx2.nowhere.invalid.", Pref: 20}, {Host: "127.0.0.1.", Pref: 10}}, nil
					case "localhost":
						return nil, errNotFound // no MX: the domain itself
					case "null.example":
						return []*net.MX{{Host: ".", Pref: 0}}, nil
					}
					return nil, errors.New("unexpected lookup")
				},
			})
			e.run(t)
			jobs := append(testJobs(5, "a.example"), testJobs(1, "null.example")...)
			// localhost has no MX: the domain itself is the host.
			extra := testJobs(2, "localhost")
			e.enqueue(t, testMessage(0), append(jobs, extra...))
			waitFor(t, "all reports", func() bool { return e.rep.len() == 8 })
			for _, r := range e.rep.get() {
				switch {
				case strings.HasSuffix(r.Job.To, "@null.example"):
					if r.Delivered || r.Code != 556 || r.Enhanced != "5.1.10" {
						t.Errorf("null MX report %+v", r)
					}
				case !r.Delivered:
					t.Errorf("report %+v", r)
				}
			}
			_, count, sessions, tlsSeen, _ := c.sink.snapshot()
			if count != 7 || sessions != c.sessions {
				t.Errorf("%d messages over %d connections, want 7 over %d", count, sessions, c.sessions)
			}
			if (tlsSeen == sessions) != c.tls || (!c.tls && tlsSeen != 0) {
				t.Errorf("%d of %d sessions with TLS", tlsSeen, sessions)
			}
		})
	}
}

func TestEnqueueRollback(t *testing.T) {
	e := newEnv(t, Config{})
	boom := errors.New("the caller's own write failed")
	err := e.db.Update(func(tx *bolt.Tx) error {
		if err := e.q.Enqueue(tx, testMessage(0), testJobs(5, "example.com")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v", err)
	}
	checkEmpty(t, e)
	if err := e.db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(queueBucket).Stats().KeyN; n != 0 {
			t.Errorf("%d jobs after a rollback", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestEnqueueRefuses(t *testing.T) {
	good := Job{From: "a@example.org", To: "b@example.org", Headers: []string{"List-Unsubscribe: <https://x/>,\r\n <mailto:y@x>"}}
	tests := []struct {
		name string
		msg  []byte
		job  func(j Job) Job
	}{
		{"empty message", nil, func(j Job) Job { return j }},
		{"no recipient", []byte("x"), func(j Job) Job { j.To = ""; return j }},
		{"recipient without domain", []byte("x"), func(j Job) Job { j.To = "postmaster"; return j }},
		{"line break in recipient", []byte("x"), func(j Job) Job { j.To = "b@example.org\r\nRCPT TO:<c@d>"; return j }},
		{"brackets in sender", []byte("x"), func(j Job) Job { j.From = "<a@example.org>"; return j }},
		{"field without colon", []byte("x"), func(j Job) Job { j.Headers = []string{"List-Unsubscribe"}; return j }},
		{"field with space in name", []byte("x"), func(j Job) Job { j.Headers = []string{"List Unsubscribe: x"}; return j }},
		{"bare line feed", []byte("x"), func(j Job) Job { j.Headers = []string{"X-A: b\nBcc: c"}; return j }},
		{"header injection", []byte("x"), func(j Job) Job { j.Headers = []string{"X-A: b\r\nBcc: c"}; return j }},
		{"trailing CRLF", []byte("x"), func(j Job) Job { j.Headers = []string{"X-A: b\r\n"}; return j }},
	}
	e := newEnv(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.db.Update(func(tx *bolt.Tx) error {
				return e.q.Enqueue(tx, tt.msg, []Job{good, tt.job(good)})
			})
			if err == nil {
				t.Fatal("Enqueue accepted it")
			}
			checkEmpty(t, e)
		})
	}
	if err := e.db.Update(func(tx *bolt.Tx) error { return e.q.Enqueue(tx, []byte("x"), []Job{good}) }); err != nil {
		t.Errorf("good job refused: %v", err)
	}
	if err := e.db.Update(func(tx *bolt.Tx) error { return e.q.Enqueue(tx, []byte("x"), nil) }); err != nil {
		t.Errorf("no job: %v", err)
	}
}

func TestStats(t *testing.T) {
	e := newEnv(t, Config{})
	if st, err := e.q.Stats(); err != nil || st != (Stats{}) {
		t.Fatalf("empty Stats = %+v, %v", st, err)
	}
	e.enqueue(t, testMessage(0), testJobs(4, "example.com"))
	st, err := e.q.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Waiting != 4 || st.Failing != 0 || !st.Oldest.Equal(e.clk.Now()) {
		t.Errorf("Stats = %+v", st)
	}
}
