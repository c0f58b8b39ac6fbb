package mailinglist

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/textproto"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/store"
	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/mailinglist/delivery"
	"github.com/emersion/go-smtp"
)

// mailCert returns a self-signed certificate for 127.0.0.1 and a pool
// trusting it.
func mailCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sink"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// sunk is a message the sink received.
type sunk struct {
	From string
	To   []string
	Data []byte
}

// mailSink is an in-process go-smtp server standing for a smarthost.
type mailSink struct {
	addr string
	port int

	mu     sync.Mutex // guards msgs and reject
	msgs   []sunk
	reject map[string]*smtp.SMTPError // recipients refused with an error
}

// startMailSink runs a sink offering STARTTLS with cert until the test
// ends.
func startMailSink(t testing.TB, cert tls.Certificate) *mailSink {
	t.Helper()
	k := &mailSink{reject: map[string]*smtp.SMTPError{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &sinkSession{k: k}, nil
	}))
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Domain = "sink.test"
	srv.ErrorLog = slogPrinter{slog.New(slog.DiscardHandler)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k.addr = ln.Addr().String()
	k.port = ln.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return k
}

// messages returns what the sink received so far.
func (k *mailSink) messages() []sunk {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]sunk(nil), k.msgs...)
}

// wait waits until the sink holds at least n messages, and returns them.
func (k *mailSink) wait(t testing.TB, n int) []sunk {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		msgs := k.messages()
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sink got %d messages, want %d", len(msgs), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// to returns the messages the sink got for rcpt.
func (k *mailSink) to(rcpt string) []sunk {
	var out []sunk
	for _, m := range k.messages() {
		for _, r := range m.To {
			if strings.EqualFold(r, rcpt) {
				out = append(out, m)
			}
		}
	}
	return out
}

type sinkSession struct {
	k    *mailSink
	from string
	to   []string
}

func (s *sinkSession) Reset()        { s.from, s.to = "", nil }
func (s *sinkSession) Logout() error { return nil }
func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.k.mu.Lock()
	defer s.k.mu.Unlock()
	if e := s.k.reject[strings.ToLower(to)]; e != nil {
		return e
	}
	s.to = append(s.to, to)
	return nil
}
func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.k.mu.Lock()
	defer s.k.mu.Unlock()
	s.k.msgs = append(s.k.msgs, sunk{From: s.from, To: s.to, Data: b})
	return nil
}

// fakeDNS answers from maps; other names do not exist.
type fakeDNS struct {
	mu  sync.Mutex // guards txt
	txt map[string][]string
}

func (d *fakeDNS) LookupTXT(ctx context.Context, name string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if v, ok := d.txt[strings.ToLower(name)]; ok {
		return v, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (d *fakeDNS) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (d *fakeDNS) LookupHost(ctx context.Context, host string) ([]string, error) {
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (d *fakeDNS) set(name string, v ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.txt[strings.ToLower(name)] = v
}

// mailEnv is a Service over a temporary database with its SMTP server on
// loopback and a sink as smarthost.
type mailEnv struct {
	s    *Service
	db   *store.DB
	dir  string
	smtp string // the SMTP server's address
	sink *mailSink
	dns  *fakeDNS
	logs *syncBuffer
}

// syncBuffer is a bytes buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// newMailEnv starts a Service; change, when set, edits its limits before
// the servers start.
func newMailEnv(t testing.TB, change func(*Service)) *mailEnv {
	t.Helper()
	return newMailEnvRun(t, change, true)
}

// newMailEnvRun is newMailEnv, with the delivery queue running only when
// run is true.
func newMailEnvRun(t testing.TB, change func(*Service), run bool) *mailEnv {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "placette.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	shell, err := web.NewShell(db, web.Config{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	cert, pool := mailCert(t)
	dns := &fakeDNS{txt: map[string][]string{}}
	s, err := New(Config{
		DB: db, Shell: shell, Logger: logger, DataDir: dir,
		MailDomain: "lists.example", BaseURL: "https://placette.example",
		DNS: dns,
		queueHook: func(c *delivery.Config) {
			c.TLS = &tls.Config{RootCAs: pool}
			c.Retry = []time.Duration{50 * time.Millisecond}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(s)
	}
	sink := startMailSink(t, cert)
	if err := s.SetRelay(delivery.Relay{Way: delivery.Smarthost, Host: "127.0.0.1", Port: sink.port}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := s.ServeSMTP(ctx, ln); err != nil {
			t.Errorf("ServeSMTP: %v", err)
		}
	}()
	go func() {
		defer wg.Done()
		if run {
			s.Run(ctx)
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if err := db.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("log:\n%s", logs)
		}
	})
	return &mailEnv{s: s, db: db, dir: dir, smtp: ln.Addr().String(), sink: sink, dns: dns, logs: logs}
}

// send sends msg (LF or CRLF line endings) over SMTP from from to rcpts,
// and returns the server's refusal, if any.
func (e *mailEnv) send(t testing.TB, from string, rcpts []string, msg string) error {
	t.Helper()
	return smtpSend(t, e.smtp, from, rcpts, []byte(msg))
}

// smtpSend sends raw over SMTP to addr.
func smtpSend(t testing.TB, addr, from string, rcpts []string, raw []byte) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// smtpCode returns the SMTP code of err, or 0.
func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// mkList creates a list with members.
func (e *mailEnv) mkList(t testing.TB, l List, members ...string) {
	t.Helper()
	if err := e.s.CreateList(l); err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if err := e.s.AddMember(l.Name, Member{Addr: m}); err != nil {
			t.Fatal(err)
		}
	}
}

// header returns the first value of field name in raw, unfolded.
func header(raw []byte, name string) string {
	fields, _ := splitMessage(raw)
	return fieldValue(fields, name)
}

// rawSMTP speaks SMTP by hand so that msg's bytes reach the server as they
// are, bare LFs included, and returns the server's reply to the data as an
// error when it is not 250.
func rawSMTP(t testing.TB, addr, from string, rcpts []string, msg string) error {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := textproto.NewReader(bufio.NewReader(conn))
	expect := func(code int) error {
		c, m, err := r.ReadResponse(code)
		if err != nil {
			return &smtp.SMTPError{Code: c, Message: m}
		}
		return nil
	}
	if err := expect(220); err != nil {
		return err
	}
	cmds := []struct {
		line string
		code int
	}{{"EHLO client.test", 250}, {"MAIL FROM:<" + from + ">", 250}}
	for _, rc := range rcpts {
		cmds = append(cmds, struct {
			line string
			code int
		}{"RCPT TO:<" + rc + ">", 250})
	}
	cmds = append(cmds, struct {
		line string
		code int
	}{"DATA", 354})
	for _, c := range cmds {
		if _, err := io.WriteString(conn, c.line+"\r\n"); err != nil {
			return err
		}
		if err := expect(c.code); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(conn, msg+"\r\n.\r\n"); err != nil {
		return err
	}
	return expect(250)
}

// sleep waits a little while polling.
func sleep() { time.Sleep(10 * time.Millisecond) }

// stringsReader returns a reader of s.
func stringsReader(s string) io.Reader { return strings.NewReader(s) }
