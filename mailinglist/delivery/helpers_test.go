package delivery

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/store"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	bolt "go.etcd.io/bbolt"
)

// hangGuard bounds every wait of the tests: it only stops a hung test, it
// never measures anything.
const hangGuard = 60 * time.Second

// testCert returns a self-signed certificate for 127.0.0.1 and localhost,
// and a pool that trusts it.
func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "placette test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
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

// received is one message the sink accepted.
type received struct {
	From, To string
	Data     []byte
}

// sink is an in-process go-smtp server standing for a smarthost or an MX.
type sink struct {
	addr string
	port int
	pool *x509.CertPool // trusts the sink's certificate

	user, pass string // AUTH PLAIN credentials required when user is set
	// fail, when set, may refuse a recipient at RCPT; n is the number of
	// times this recipient was offered before (0 the first time).
	fail func(to string, n int) *smtp.SMTPError
	// discard keeps counts only (for the benchmark).
	discard bool
	// entered, when set, is told of each DATA; Data then waits for hold
	// to be closed.
	entered chan struct{}
	hold    chan struct{}

	mu       sync.Mutex // guards the fields below
	msgs     []received
	count    int                     // messages accepted
	offered  map[string]int          // RCPT per recipient
	sessions int                     // connections accepted
	tlsSeen  map[*smtp.Conn]struct{} // connections that used TLS
	authed   map[*smtp.Conn]struct{} // connections that logged in
}

// countingListener counts the connections it accepts in its sink.
type countingListener struct {
	net.Listener
	s *sink
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.s.mu.Lock()
		l.s.sessions++
		l.s.mu.Unlock()
	}
	return c, err
}

// sinkOptions shape a sink.
type sinkOptions struct {
	tls      bool // offer STARTTLS (or implicit TLS with implicit)
	implicit bool
	oldTLS   bool // offer only TLS 1.0 and 1.1, which the client refuses
	user     string
	pass     string
	fail     func(to string, n int) *smtp.SMTPError
	discard  bool
	entered  chan struct{}
	hold     chan struct{}
}

// startSink starts a sink on 127.0.0.1:0, stopped at the end of the test.
func startSink(t testing.TB, o sinkOptions) *sink {
	t.Helper()
	s := &sink{user: o.user, pass: o.pass, fail: o.fail, discard: o.discard, entered: o.entered, hold: o.hold, offered: make(map[string]int),
		tlsSeen: make(map[*smtp.Conn]struct{}), authed: make(map[*smtp.Conn]struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "sink.test"
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 10
	srv.ReadTimeout = hangGuard
	srv.WriteTimeout = hangGuard
	srv.ErrorLog = discardLog{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.tls {
		cert, pool := testCert(t)
		s.pool = pool
		conf := &tls.Config{Certificates: []tls.Certificate{cert}}
		if o.oldTLS {
			conf.MinVersion, conf.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
		}
		if o.implicit {
			ln = tls.NewListener(ln, conf)
		} else {
			srv.TLSConfig = conf
		}
	}
	s.addr = ln.Addr().String()
	s.port = ln.Addr().(*net.TCPAddr).Port
	ln = countingListener{Listener: ln, s: s}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// discardLog drops the server's log.
type discardLog struct{}

func (discardLog) Printf(string, ...any) {}
func (discardLog) Println(...any)        {}

// newSession counts a connection and returns its session.
func (s *sink) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{sink: s, conn: c}, nil
}

// snapshot returns copies of the sink's counters and messages.
func (s *sink) snapshot() (msgs []received, count, sessions, tlsSeen, authed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...), s.count, s.sessions, len(s.tlsSeen), len(s.authed)
}

// session is one SMTP connection to the sink.
type session struct {
	sink   *sink
	conn   *smtp.Conn
	authed bool
	from   string
	to     string
}

var _ smtp.AuthSession = (*session)(nil)

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.sink.user || password != s.sink.pass {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.sink.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.sink.mu.Lock()
	if isTLS {
		s.sink.tlsSeen[s.conn] = struct{}{}
	}
	if s.authed {
		s.sink.authed[s.conn] = struct{}{}
	}
	s.sink.mu.Unlock()
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.sink.mu.Lock()
	n := s.sink.offered[to]
	s.sink.offered[to]++
	s.sink.mu.Unlock()
	if s.sink.fail != nil {
		if err := s.sink.fail(to, n); err != nil {
			return err
		}
	}
	s.to = to
	return nil
}

func (s *session) Data(r io.Reader) error {
	if s.sink.entered != nil {
		s.sink.entered <- struct{}{}
		<-s.sink.hold
		return &smtp.SMTPError{Code: 451, Message: "held"}
	}
	var data []byte
	var err error
	if s.sink.discard {
		_, err = io.Copy(io.Discard, r)
	} else {
		data, err = io.ReadAll(r)
	}
	if err != nil {
		return err
	}
	s.sink.mu.Lock()
	s.sink.count++
	if !s.sink.discard {
		s.sink.msgs = append(s.sink.msgs, received{From: s.from, To: s.to, Data: data})
	}
	s.sink.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", "" }
func (s *session) Logout() error { return nil }

// clock is a settable clock.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// reports collects the Results a queue reports.
type reports struct {
	ch  chan struct{} // capacity 1: signalled after each report
	mu  sync.Mutex    // guards all
	all []Result
}

func (r *reports) add(res Result) {
	r.mu.Lock()
	r.all = append(r.all, res)
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
}

func (r *reports) get() []Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Result(nil), r.all...)
}

func (r *reports) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.all)
}

// openDB opens a database at path, closed at the end of the test.
func openDB(t testing.TB, path string) *store.DB {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// env is a queue under test with its database, keys, clock and reports.
type env struct {
	dir  string
	db   *store.DB
	keys *Keys
	clk  *clock
	rep  *reports
	q    *Queue
	stop func() // stops Run and waits for it
}

// newEnv builds a queue over a fresh database; cfg's DB, Keys, Now and
// Report are filled in.
func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{dir: dir, db: openDB(t, filepath.Join(dir, "placette.db")), clk: newClock(), rep: &reports{ch: make(chan struct{}, 1)}}
	keys, err := NewKeys(e.db)
	if err != nil {
		t.Fatal(err)
	}
	e.keys = keys
	e.q = e.queue(t, cfg)
	return e
}

// queue builds a queue over e's database with cfg.
func (e *env) queue(t testing.TB, cfg Config) *Queue {
	t.Helper()
	cfg.DB, cfg.Keys, cfg.Now, cfg.Report = e.db, e.keys, e.clk.Now, e.rep.add
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Outbox == "" {
		cfg.Outbox = filepath.Join(e.dir, "outbox")
	}
	q, err := NewQueue(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// run starts e.q.Run; e.stop stops it (also at the end of the test).
func (e *env) run(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	q := e.q
	go func() {
		defer close(done)
		q.Run(ctx)
	}()
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(hangGuard):
				t.Error("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(e.stop)
}

// enqueue adds msg for jobs in one transaction and kicks the queue.
func (e *env) enqueue(t testing.TB, msg []byte, jobs []Job) {
	t.Helper()
	if err := e.db.Update(func(tx *bolt.Tx) error { return e.q.Enqueue(tx, msg, jobs) }); err != nil {
		t.Fatal(err)
	}
	e.q.Kick()
}

// waitFor polls cond until it holds; the deadline only guards against a
// hang.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// testMessage is a list post with accents, CRLF line endings.
func testMessage(extraBody int) []byte {
	var b strings.Builder
	b.WriteString("From: Clémence <clemence@example.org>\r\n" +
		"To: atelier@lists.example.net\r\n" +
		"Subject: =?utf-8?q?Fiche_atelier_=C3=A9t=C3=A9?=\r\n" +
		"Date: Tue, 03 Nov 2026 10:00:00 +0100\r\n" +
		"Message-ID: <fiche-1@example.org>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n" +
		"List-Id: Atelier <atelier.lists.example.net>\r\n" +
		"List-Post: <mailto:atelier@lists.example.net>\r\n" +
		"List-Archive: <https://lists.example.net/lists/atelier/>\r\n" +
		"List-Help: <mailto:atelier-request@lists.example.net?subject=help>\r\n" +
		"List-Subscribe: <https://lists.example.net/lists/atelier/subscribe>\r\n" +
		"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" +
		"Precedence: list\r\n" +
		"\r\n" +
		"Bonjour à toutes et à tous,\r\n" +
		".une ligne qui commence par un point\r\n" +
		"voici la fiche « été » : durée 2 h.\r\n")
	for b.Len() < extraBody {
		b.WriteString("Déroulé : accueil, présentation, pratique, questions, bilan.\r\n")
	}
	return []byte(b.String())
}

// testJobs returns n jobs to rcpt0@domain…, each with its own
// List-Unsubscribe.
func testJobs(n int, domain string) []Job {
	jobs := make([]Job, n)
	for i := range jobs {
		to := fmt.Sprintf("rcpt%d@%s", i, domain)
		jobs[i] = Job{
			From: "atelier-bounces@lists.example.net",
			To:   to,
			Headers: []string{
				fmt.Sprintf("List-Unsubscribe: <https://lists.example.net/lists/atelier/unsubscribe/tok%d>,\r\n <mailto:atelier-unsubscribe@lists.example.net?subject=tok%d>", i, i),
			},
			Domain: "lists.example.net",
			Tag:    "atelier",
		}
	}
	return jobs
}

// errNotFound is a DNS "no such host".
var errNotFound = &net.DNSError{Err: "no such host", IsNotFound: true}
