package delivery

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Timeouts of outgoing connections.
const (
	dialTimeout    = 30 * time.Second
	commandTimeout = 2 * time.Minute
	dataTimeout    = 10 * time.Minute
)

// workSMTP sends the jobs of c over one connection to their destination,
// opening another if the first breaks.
func (q *Queue) workSMTP(ctx context.Context, c chunk, done chan<- outcome) {
	var client *smtp.Client
	var hangUp func() // closes client
	defer func() {
		if client != nil {
			_ = client.Quit() // The jobs are settled; a failed QUIT changes nothing.
			hangUp()
		}
	}()
	cache := make(map[uint64][]byte)
	for i, rec := range c.jobs {
		if ctx.Err() != nil {
			for _, r := range c.jobs[i:] {
				done <- outcome{rec: r, release: true}
			}
			return
		}
		data, try := q.compose(rec, cache)
		if try.err != nil {
			done <- q.settle(rec, try, q.now())
			continue
		}
		if client == nil {
			var err error
			client, hangUp, err = q.connect(ctx, c)
			if err != nil && ctx.Err() != nil {
				// Stopped, not failed: the jobs stay as they were.
				for _, r := range c.jobs[i:] {
					done <- outcome{rec: r, release: true}
				}
				return
			}
			if err != nil {
				try := classify(err, c.relay.Way)
				q.log.Warn("delivery_connect_failed", "way", string(c.relay.Way), "domain", c.domain, "host", c.relay.Host, "jobs", len(c.jobs)-i, "error", err)
				now := q.now()
				for _, r := range c.jobs[i:] {
					done <- q.settle(r, try, now)
				}
				return
			}
		}
		err := send(ctx, client, rec, data)
		if err != nil && ctx.Err() != nil {
			// Stopped mid-way: the job stays as it was (if the server
			// took it anyway, it goes twice rather than never).
			for _, r := range c.jobs[i:] {
				done <- outcome{rec: r, release: true}
			}
			return
		}
		try = classify(err, c.relay.Way)
		done <- q.settle(rec, try, q.now())
		if err == nil {
			continue
		}
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code != 421 {
			// The transaction failed, the connection lives: start afresh.
			if client.Reset() == nil {
				continue
			}
		}
		hangUp() // Broken or closing: the next job opens another.
		client = nil
	}
}

// send makes one SMTP transaction for rec on client.
func send(ctx context.Context, client *smtp.Client, rec *record, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var opts *smtp.MailOptions
	if !isASCII(rec.From) || !isASCII(rec.To) {
		if ok, _ := client.Extension("SMTPUTF8"); !ok {
			return &permanentError{code: 553, enhanced: "5.6.7", msg: "the server does not take non-ASCII addresses (no SMTPUTF8)"}
		}
		opts = &smtp.MailOptions{UTF8: true}
	}
	if err := client.Mail(rec.From, opts); err != nil {
		return fmt.Errorf("MAIL FROM:<%s>: %w", rec.From, err)
	}
	if err := client.Rcpt(rec.To, nil); err != nil {
		return fmt.Errorf("RCPT TO:<%s>: %w", rec.To, err)
	}
	w, err := client.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		_ = w.Close() // The write error is the one to report.
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of DATA: %w", err)
	}
	return nil
}

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// permanentError is an error that retrying will not cure, with the reply
// code to report.
type permanentError struct {
	code     int
	enhanced string
	msg      string
}

func (e *permanentError) Error() string { return fmt.Sprintf("%d %s %s", e.code, e.enhanced, e.msg) }

// classify turns the error of an attempt into an attempt: SMTP replies
// keep their codes, 5xx are permanent except a smarthost's refusals of our
// login (530, 535, 538: fixed by the administrator, not by the recipient);
// any other error is temporary.
func classify(err error, way Way) attempt {
	if err == nil {
		return attempt{}
	}
	var pe *permanentError
	if errors.As(err, &pe) {
		return attempt{err: err, permanent: true, code: pe.code, enhanced: pe.enhanced}
	}
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return attempt{err: err}
	}
	a := attempt{err: err, code: se.Code}
	if se.EnhancedCode != (smtp.EnhancedCode{}) && se.EnhancedCode != smtp.NoEnhancedCode {
		a.enhanced = fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
	}
	a.permanent = se.Code >= 500 && se.Code < 600
	if way == Smarthost && (se.Code == 530 || se.Code == 535 || se.Code == 538) {
		a.permanent = false
	}
	return a
}

// connect opens a ready connection (greeted, TLS as required, logged in)
// to the destination of c, and returns the function that closes it.
func (q *Queue) connect(ctx context.Context, c chunk) (*smtp.Client, func(), error) {
	if c.relay.Way == Smarthost {
		r := c.relay
		if r.Host == "" {
			return nil, nil, errors.New("no smarthost is set")
		}
		port := r.Port
		if port == 0 {
			port = defaultSubmission
		}
		mode := tlsRequired
		switch {
		case r.ImplicitTLS || port == 465:
			mode = tlsImplicit
		case port == 25:
			mode = tlsOpportunistic
		}
		return q.open(ctx, r.Host, port, mode, r.Username, r.Password, false)
	}
	hosts, err := q.mxHosts(ctx, c.domain)
	if err != nil {
		return nil, nil, err
	}
	var errs []error
	for _, h := range hosts {
		client, hangUp, err := q.open(ctx, h, q.mxPort, tlsOpportunistic, "", "", true)
		var he *handshakeError
		if errors.As(err, &he) {
			// As MTAs do: a failed opportunistic TLS falls back to plain
			// text rather than to no delivery.
			client, hangUp, err = q.open(ctx, h, q.mxPort, tlsNone, "", "", true)
		}
		if err == nil {
			return client, hangUp, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", h, err))
		var dnsErr *net.DNSError
		if len(hosts) == 1 && h == c.domain && errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return nil, nil, &permanentError{code: 550, enhanced: "5.1.2", msg: "the domain " + c.domain + " does not exist"}
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, nil, errors.Join(errs...)
}

// mxHosts returns the hosts to try for domain, by preference: its MX
// hosts, or the domain itself when it has none (RFC 5321 §5.1).
func (q *Queue) mxHosts(ctx context.Context, domain string) ([]string, error) {
	mxs, err := q.lookupMX(ctx, domain)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		mxs = nil
	case err != nil && len(mxs) == 0:
		return nil, fmt.Errorf("MX of %s: %w", domain, err)
	}
	if len(mxs) == 0 {
		return []string{domain}, nil
	}
	mxs = slices.Clone(mxs)
	slices.SortStableFunc(mxs, func(a, b *net.MX) int { return int(a.Pref) - int(b.Pref) })
	hosts := make([]string, 0, len(mxs))
	for _, mx := range mxs {
		h := strings.TrimSuffix(mx.Host, ".")
		if h == "" {
			if len(mxs) == 1 {
				return nil, &permanentError{code: 556, enhanced: "5.1.10", msg: domain + " accepts no mail (null MX)"}
			}
			continue
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// tlsMode is how a connection gets TLS.
type tlsMode int

const (
	tlsRequired      tlsMode = iota // STARTTLS, or fail
	tlsImplicit                     // TLS from the first byte
	tlsOpportunistic                // STARTTLS when offered
	tlsNone                         // plain text (after a failed opportunistic handshake)
)

// handshakeError is a failed TLS handshake after STARTTLS.
type handshakeError struct{ err error }

func (e *handshakeError) Error() string { return "TLS handshake: " + e.err.Error() }
func (e *handshakeError) Unwrap() error { return e.err }

// open connects to host:port, greets, gets TLS by mode and logs in when
// username is set. mx relaxes certificate checks (opportunistic TLS to an
// MX authenticates nobody, RFC 7435). The connection is closed when ctx
// ends; hangUp closes it before.
func (q *Queue) open(ctx context.Context, host string, port int, mode tlsMode, username, password string, mx bool) (client *smtp.Client, hangUp func(), err error) {
	client, conn, err := q.dial(ctx, host, port, mode, username, password, mx)
	if err != nil {
		return nil, nil, err
	}
	// Stop a hanging exchange when ctx ends.
	unwatch := context.AfterFunc(ctx, func() { _ = conn.Close() })
	hangUp = func() {
		unwatch()
		_ = client.Close() // Nothing is pending on it.
	}
	return client, hangUp, nil
}

// dial does the work of open, returning the raw connection too.
func (q *Queue) dial(ctx context.Context, host string, port int, mode tlsMode, username, password string, mx bool) (client *smtp.Client, _ net.Conn, err error) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	d := net.Dialer{Timeout: dialTimeout}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			_ = raw.Close() // Already failed.
		}
	}()
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Now()) })
	defer stop()
	conn := raw

	tlsConf := q.tlsConfig(host, mx)
	secure := false
	switch mode {
	case tlsImplicit:
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, nil, fmt.Errorf("TLS with %s: %w", addr, err)
		}
		conn, secure = tc, true
	case tlsNone:
	default:
		upgraded, ok, err := q.startTLS(ctx, conn, tlsConf)
		if err != nil {
			return nil, nil, fmt.Errorf("STARTTLS with %s: %w", addr, err)
		}
		if !ok && mode == tlsRequired {
			return nil, nil, fmt.Errorf("%s does not offer STARTTLS, which port %d requires", addr, port)
		}
		conn, secure = upgraded, ok
	}
	client = smtp.NewClient(conn)
	client.CommandTimeout = commandTimeout
	client.SubmissionTimeout = dataTimeout
	if err := client.Hello(q.heloName()); err != nil {
		return nil, nil, fmt.Errorf("EHLO to %s: %w", addr, err)
	}
	if username == "" {
		return client, raw, nil
	}
	if !secure && !isLoopback(host) {
		return nil, nil, fmt.Errorf("refusing to send the password to %s without TLS", addr)
	}
	var auth sasl.Client
	switch {
	case client.SupportsAuth("PLAIN"):
		auth = sasl.NewPlainClient("", username, password)
	case client.SupportsAuth("LOGIN"):
		auth = sasl.NewLoginClient(username, password)
	default:
		return nil, nil, fmt.Errorf("%s offers neither AUTH PLAIN nor AUTH LOGIN", addr)
	}
	if err := client.Auth(auth); err != nil {
		return nil, nil, fmt.Errorf("login at %s as %s: %w", addr, username, err)
	}
	return client, raw, nil
}

// heloName returns the name to give in EHLO.
func (q *Queue) heloName() string {
	if q.cfg.HeloName != "" {
		return q.cfg.HeloName
	}
	return "localhost"
}

// tlsConfig returns the TLS configuration for host.
func (q *Queue) tlsConfig(host string, mx bool) *tls.Config {
	var c *tls.Config
	if q.cfg.TLS != nil {
		c = q.cfg.TLS.Clone()
	} else {
		c = &tls.Config{}
	}
	c.ServerName = host
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	if mx {
		c.InsecureSkipVerify = true //nolint:gosec // Opportunistic TLS to an MX, as every MTA does (RFC 7435).
	}
	return c
}

// isLoopback reports whether host is a loopback name or address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// startTLS reads the greeting of the server on conn, says EHLO and, when
// the server offers STARTTLS, upgrades the connection. It returns the
// connection to hand to smtp.NewClient (which expects a greeting: one is
// replayed) and whether TLS is on. go-smtp's client has no exported
// STARTTLS on an open client, and its NewClientStartTLS greets as
// "localhost" and fails when STARTTLS is missing: this does both our way.
func (q *Queue) startTLS(ctx context.Context, conn net.Conn, conf *tls.Config) (net.Conn, bool, error) {
	if err := conn.SetDeadline(time.Now().Add(commandTimeout)); err != nil {
		return nil, false, err
	}
	tp := textproto.NewConn(conn)
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, false, smtpErr(err)
	}
	if err := tp.PrintfLine("EHLO %s", q.heloName()); err != nil {
		return nil, false, err
	}
	_, msg, err := tp.ReadResponse(250)
	if err != nil {
		return nil, false, smtpErr(err)
	}
	offered := false
	for _, line := range strings.Split(msg, "\n")[1:] {
		if strings.EqualFold(strings.TrimSpace(line), "STARTTLS") {
			offered = true
		}
	}
	if !offered {
		if err := conn.SetDeadline(time.Time{}); err != nil {
			return nil, false, err
		}
		// Nothing is buffered: the server waits for our next command.
		return &greeted{Conn: conn}, false, nil
	}
	if err := tp.PrintfLine("STARTTLS"); err != nil {
		return nil, false, err
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, false, smtpErr(err)
	}
	tc := tls.Client(conn, conf)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, false, &handshakeError{err}
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		return nil, false, err
	}
	return &greeted{Conn: tc}, true, nil
}

// smtpErr turns a textproto error into an *smtp.SMTPError, so replies
// before go-smtp's client took over are classified like the others.
func smtpErr(err error) error {
	var te *textproto.Error
	if !errors.As(err, &te) {
		return err
	}
	se := &smtp.SMTPError{Code: te.Code, Message: te.Msg}
	if code, rest, ok := strings.Cut(te.Msg, " "); ok {
		parts := strings.Split(code, ".")
		if len(parts) == 3 {
			var ec smtp.EnhancedCode
			good := true
			for i, p := range parts {
				n, err := strconv.Atoi(p)
				if err != nil {
					good = false
					break
				}
				ec[i] = n
			}
			if good {
				se.EnhancedCode, se.Message = ec, rest
			}
		}
	}
	return se
}

// greeted is a connection whose greeting was already read: it replays one
// to go-smtp's client, which reads a greeting first.
type greeted struct {
	net.Conn
	replayed int // bytes of the replayed greeting already read
}

// replay is the greeting given to go-smtp's client.
const replay = "220 greeted\r\n"

// Read replays the greeting, then reads from the connection.
func (g *greeted) Read(p []byte) (int, error) {
	if g.replayed < len(replay) {
		n := copy(p, replay[g.replayed:])
		g.replayed += n
		return n, nil
	}
	return g.Conn.Read(p)
}
