package mailinglist

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"codeberg.org/placette/placette/internal/web"
	"github.com/emersion/go-smtp"
	bolt "go.etcd.io/bbolt"
)

// limits bound what the inbound servers accept.
type limits struct {
	maxConns       int           // connections open at once
	maxConnsPerNet int           // connections open at once from one client network
	maxRcpts       int           // recipients of one message
	readTimeout    time.Duration // for each command and each chunk of data
	writeTimeout   time.Duration
	exemptLoopback bool  // loopback clients (a local MTA) skip the per-network limits
	incomingMemory int64 // what the messages being received may hold in memory at once
}

// defaultLimits returns the limits of a small server.
func defaultLimits() limits {
	return limits{
		maxConns:       100,
		maxConnsPerNet: 20,
		maxRcpts:       50,
		readTimeout:    2 * time.Minute,
		writeTimeout:   2 * time.Minute,
		exemptLoopback: true,
		incomingMemory: 64 << 20,
	}
}

// SMTP replies.
var (
	errRelayDenied  = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relay denied: this server only accepts mail for its own lists"}
	errNoSuchList   = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such list address here"}
	errBadAddress   = &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 1, 3}, Message: "Bad address syntax"}
	errTooBig       = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "Message too big for this list"}
	errSmuggling    = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Refused: a line holding a lone dot does not end with CRLF (SMTP smuggling)"}
	errRateLimited  = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Too many messages from your network, try again later"}
	errTemporary    = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
	errAnnounceOnly = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Only the moderators of this list may post to it"}
	errNotMail      = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Refused: this is not a mail message (no header)"}
	errMemory       = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "Too much mail arriving at once, try again later"}
)

// ServeSMTP accepts the lists' mail over SMTP on ln until ctx is done; it
// then closes the server and ln, waits for the messages being stored, and
// returns nil.
func (s *Service) ServeSMTP(ctx context.Context, ln net.Listener) error {
	return s.serve(ctx, ln, false, false)
}

// ServeSMTPS is ServeSMTP with implicit TLS on Config.TLS (submission
// style, port 465): every connection starts with a TLS handshake, and
// STARTTLS is not offered.
func (s *Service) ServeSMTPS(ctx context.Context, ln net.Listener) error {
	if s.cfg.TLS == nil {
		return errors.New("implicit TLS needs certificates (Config.TLS)")
	}
	return s.serve(ctx, ln, false, true)
}

// ServeLMTP accepts the lists' mail over LMTP on ln (from a local MTA)
// until ctx is done, with a status per recipient.
func (s *Service) ServeLMTP(ctx context.Context, ln net.Listener) error {
	return s.serve(ctx, ln, true, false)
}

// serve runs a go-smtp server on ln until ctx is done; implicit wraps each
// connection in TLS (after the connection limits count it).
func (s *Service) serve(ctx context.Context, ln net.Listener, lmtp, implicit bool) error {
	var inflight sync.WaitGroup
	be := &backend{s: s, lmtp: lmtp, inflight: &inflight}
	srv := smtp.NewServer(be)
	srv.LMTP = lmtp
	srv.Domain = s.cfg.Hostname
	if srv.Domain == "" {
		srv.Domain = s.mailDomain
	}
	srv.MaxMessageBytes = DefaultMaxBytes
	srv.MaxRecipients = s.limits.maxRcpts
	srv.ReadTimeout = s.limits.readTimeout
	srv.WriteTimeout = s.limits.writeTimeout
	srv.EnableSMTPUTF8 = true
	if !lmtp && !implicit {
		srv.TLSConfig = s.cfg.TLS
	}
	srv.ErrorLog = slogPrinter{s.logger}
	var lim net.Listener = &limitListener{Listener: ln, lim: s.limits, perNet: map[string]int{}, logger: s.logger}
	if implicit {
		lim = tls.NewListener(lim, s.cfg.TLS)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lim) }()
	select {
	case <-ctx.Done():
		srv.Close()
		// Serve may not have registered ln with the server yet when
		// Close ran: closing it here ends Serve's Accept either way.
		ln.Close()
		<-errc
		inflight.Wait()
		return nil
	case err := <-errc:
		srv.Close()
		inflight.Wait()
		if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
			return nil
		}
		return fmt.Errorf("mail server: %w", err)
	}
}

// slogPrinter gives go-smtp's internal errors to a slog logger.
type slogPrinter struct{ logger *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) {
	p.logger.Debug("smtp_server", "detail", fmt.Sprintf(format, v...))
}

func (p slogPrinter) Println(v ...any) {
	p.logger.Debug("smtp_server", "detail", fmt.Sprint(v...))
}

// limitListener refuses connections past the limits with a 421 greeting.
type limitListener struct {
	net.Listener
	lim    limits
	logger *slog.Logger

	mu     sync.Mutex     // guards total and perNet
	total  int            // connections open
	perNet map[string]int // connections open per client network
}

// Accept returns the next connection within the limits.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key, exempt := clientKey(c.RemoteAddr(), l.lim.exemptLoopback)
		l.mu.Lock()
		ok := l.total < l.lim.maxConns && (exempt || l.perNet[key] < l.lim.maxConnsPerNet)
		if ok {
			l.total++
			l.perNet[key]++
		}
		l.mu.Unlock()
		if !ok {
			l.logger.Warn("smtp connection refused", "client", key, "reason", "too many connections")
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "421 4.7.0 Too many connections, try again later\r\n")
			c.Close()
			continue
		}
		return &limitConn{Conn: c, release: func() { l.release(key) }}, nil
	}
}

// release counts a connection closed.
func (l *limitListener) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.perNet[key]--; l.perNet[key] <= 0 {
		delete(l.perNet, key)
	}
}

// limitConn releases its place when closed.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// clientKey returns the network a client is counted in, and whether it is
// exempt from the per-network limits (loopback or a unix socket, when
// exemptLoopback).
func clientKey(a net.Addr, exemptLoopback bool) (string, bool) {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return "local", exemptLoopback
	}
	ip, _ := netip.AddrFromSlice(ta.IP)
	ip = ip.Unmap()
	return web.AddrKey(ip), exemptLoopback && ip.IsLoopback()
}

// backend makes a session per connection.
type backend struct {
	s        *Service
	lmtp     bool
	inflight *sync.WaitGroup // messages being stored
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	key, exempt := clientKey(c.Conn().RemoteAddr(), b.s.limits.exemptLoopback)
	return &session{s: b.s, be: b, key: key, exempt: exempt, remote: c.Conn().RemoteAddr().String()}, nil
}

// rcpt is an accepted recipient.
type rcpt struct {
	addr string
	t    target
}

// session is one SMTP or LMTP conversation.
type session struct {
	s      *Service
	be     *backend
	key    string // client network
	exempt bool   // from per-network rates
	remote string

	from  string // envelope sender; "" for the null sender
	rcpts []rcpt
}

func (ss *session) Reset() {
	ss.from = ""
	ss.rcpts = nil
}

func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	if !ss.exempt && !ss.s.smtpRate.Allow(ss.key) {
		ss.s.logger.Warn("smtp message refused", "client", ss.key, "reason", "rate")
		return errRateLimited
	}
	if opts != nil && opts.Size > DefaultMaxBytes {
		return errTooBig
	}
	ss.from = from
	ss.rcpts = nil
	return nil
}

func (ss *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	local, domain, ok := splitAddr(to)
	if !ok {
		return errBadAddress
	}
	t, err := ss.s.resolve(local, domain)
	if err != nil {
		return err
	}
	ss.rcpts = append(ss.rcpts, rcpt{addr: to, t: t})
	return nil
}

// resolve returns the list address local@domain names, or the SMTP error
// that refuses it.
func (s *Service) resolve(local, domain string) (target, error) {
	var t target
	err := s.cfg.DB.View(func(tx *bolt.Tx) error {
		known := false
		if err := tx.Bucket(bucketLists).ForEach(func(k, v []byte) error {
			var l List
			if err := json.Unmarshal(v, &l); err != nil {
				return err
			}
			known = known || l.Domain == domain
			return nil
		}); err != nil {
			return err
		}
		if !known {
			return errRelayDenied
		}
		isList := func(name string) bool {
			l, err := getList(tx, name)
			return err == nil && l.Domain == domain
		}
		var ok bool
		if t, ok = parseLocal(local, isList); !ok {
			return errNoSuchList
		}
		return nil
	})
	var se *smtp.SMTPError
	if err != nil && !errors.As(err, &se) {
		s.logger.Error("smtp rcpt", "error", err)
		return t, errTemporary
	}
	return t, err
}

func (ss *session) Data(r io.Reader) error {
	ss.be.inflight.Add(1)
	defer ss.be.inflight.Done()
	var held int64
	defer func() { ss.s.incoming.Give(held) }()
	in, err := ss.read(r, &held)
	if err != nil {
		return err
	}
	return ss.s.ingest(in, ss.rcpts)
}

// LMTPData stores the message once per recipient, each with its own
// status.
func (ss *session) LMTPData(r io.Reader, status smtp.StatusCollector) error {
	ss.be.inflight.Add(1)
	defer ss.be.inflight.Done()
	var held int64
	defer func() { ss.s.incoming.Give(held) }()
	in, err := ss.read(r, &held)
	if err != nil {
		return err
	}
	for _, rc := range ss.rcpts {
		status.SetStatus(rc.addr, ss.s.ingest(in, []rcpt{rc}))
	}
	return nil
}

var _ smtp.LMTPSession = (*session)(nil)

// read reads, checks and parses the message of the DATA command; *held
// is what it took from the budget of messages being received, for the
// caller to give back once done with the message.
func (ss *session) read(r io.Reader, held *int64) (*inbound, error) {
	raw, err := ss.readData(r, held)
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			if se == errMemory {
				ss.s.logger.Warn("smtp message refused", "client", ss.key, "reason", "memory")
			}
			return nil, se
		}
		return nil, fmt.Errorf("read message: %w", err)
	}
	if smuggled(raw) {
		ss.s.logger.Warn("smtp message refused", "client", ss.key, "reason", "smuggling")
		return nil, errSmuggling
	}
	in, err := ss.s.newInbound(raw, ss.from, ss.remote)
	if err != nil {
		return nil, err
	}
	return in, nil
}

// dataCopies is how many times a message's bytes are held while it is
// received: in the pieces read, then joined.
const dataCopies = 2

// readData reads the data of a message into memory in pieces (so that no
// garbage is left behind as it grows), taking dataCopies times each piece
// from the budget of messages being received (into *held) before reading
// it: a slow sender holds only what it sent. When the budget is spent it
// stops with errMemory, a temporary failure: the sender tries again later.
func (ss *session) readData(r io.Reader, held *int64) ([]byte, error) {
	var pieces [][]byte
	total, size := 0, 16<<10
	for {
		if !ss.s.incoming.TryTake(dataCopies * int64(size)) {
			return nil, errMemory
		}
		*held += dataCopies * int64(size)
		p := make([]byte, size)
		n, err := io.ReadFull(r, p)
		pieces = append(pieces, p[:n])
		total += n
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		size = min(2*size, 1<<20)
	}
	raw := make([]byte, 0, total)
	for _, p := range pieces {
		raw = append(raw, p...)
	}
	return raw, nil
}

// smuggled reports whether raw holds a line of a lone dot that does not
// both start and end with CRLF ("\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r"…):
// a receiver reading lone LFs or CRs as line endings would see the end of
// the data there, and what follows as new commands.
//
// go-smtp removes the dot at the start of a line as it unstuffs the data,
// so "\r\n.\n" reaches us as "\r\n\n": a CRLF followed by a lone LF is
// refused too (no honest client sends it).
func smuggled(raw []byte) bool {
	if bytes.Contains(raw, []byte("\r\n\n")) {
		return true
	}
	for i := 1; i+1 < len(raw); i++ {
		if raw[i] != '.' {
			continue
		}
		prev, next := raw[i-1], raw[i+1]
		if (prev != '\n' && prev != '\r') || (next != '\n' && next != '\r') {
			continue
		}
		crlfBefore := prev == '\n' && i >= 2 && raw[i-2] == '\r'
		crlfAfter := next == '\r' && i+2 < len(raw) && raw[i+2] == '\n'
		if !crlfBefore || !crlfAfter {
			return true
		}
	}
	return false
}
