package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

// fanoutResult is the time one post takes to reach every member.
type fanoutResult struct {
	// Mode is "end to end" (a post over SMTP to the running placette,
	// copies to an SMTP sink in the harness set as its smarthost) or "go
	// test" (BenchmarkFanOut1000 of mailinglist/delivery).
	Mode string `json:"mode"`
	// Members is how many got the post: -members end to end, the
	// benchmark's fixed 1,000 in go test mode.
	Members int `json:"members"`
	// Seconds is from the post to the last copy end to end, the mean of
	// the benchmark's iterations (ns/op) in go test mode.
	Seconds float64 `json:"seconds"`
	// Accepted, Delivered and Signed are seen end to end only, and zero
	// in go test mode.
	Accepted  float64 `json:"accepted_seconds"` // until placette's 250 to the post
	Delivered int     `json:"delivered"`        // copies the sink got
	Signed    int     `json:"signed"`           // of which DKIM-signed
	Sink      string  `json:"sink,omitempty"`
	Note      string  `json:"note,omitempty"`
}

// sink is an SMTP server that counts the messages it gets.
type sink struct {
	srv  *smtp.Server
	addr string
	want int
	done chan struct{} // closed when want messages came

	mu     sync.Mutex // guards count, signed and last
	count  int
	signed int
	last   time.Time
}

// errNoPort25 says the sink could not listen on port 25.
var errNoPort25 = errors.New("no loopback address has port 25 free to this user")

// startSink starts a sink on port 25 of a loopback address (placette's
// relay settings offer ports 587, 465 and 25, and only 25 goes without
// TLS when the relay offers none), waiting for want messages.
func startSink(want int) (*sink, error) {
	s := &sink{want: want, done: make(chan struct{})}
	var ln net.Listener
	var err error
	for i := 1; i <= 9 && ln == nil; i++ {
		ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.%d:25", i))
		if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
			return nil, fmt.Errorf("%w: %v", errNoPort25, err)
		}
	}
	if ln == nil {
		return nil, fmt.Errorf("%w: %v", errNoPort25, err)
	}
	s.addr = ln.Addr().String()
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }))
	s.srv.Domain = "sink.bench.example"
	s.srv.MaxMessageBytes = 10 << 20
	s.srv.MaxRecipients = 100
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() { _ = s.srv.Serve(ln) }() // It ends when the sink is closed.
	return s, nil
}

// host returns the sink's address without its port.
func (s *sink) host() string {
	h, _, _ := net.SplitHostPort(s.addr)
	return h
}

func (s *sink) close() error { return s.srv.Close() }

// snapshot returns the counts so far.
func (s *sink) snapshot() (count, signed int, last time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count, s.signed, s.last
}

// sinkSession is one connection to the sink.
type sinkSession struct{ s *sink }

func (*sinkSession) Reset()                               {}
func (*sinkSession) Logout() error                        { return nil }
func (*sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (*sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (ss *sinkSession) Data(r io.Reader) error {
	signed := false
	br := bufio.NewReader(r)
	for { // the header: is there a DKIM signature?
		line, err := br.ReadString('\n')
		if strings.HasPrefix(strings.ToLower(line), "dkim-signature:") {
			signed = true
		}
		if err != nil || strings.TrimRight(line, "\r\n") == "" {
			break
		}
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return err
	}
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	if signed {
		s.signed++
	}
	s.last = time.Now()
	if s.count == s.want {
		close(s.done)
	}
	return nil
}

// fanout sets a sink as the smarthost of the running placette srv
// through its administration pages, creates a list of members+1
// addresses, posts to it over SMTP from one of them and times until the
// sink has the other members' copies.
func fanout(ctx context.Context, srv *placette, members int, logf func(string, ...any)) (*fanoutResult, error) {
	sk, err := startSink(members)
	if err != nil {
		return nil, err
	}
	defer sk.close()
	res := &fanoutResult{Mode: "end to end", Members: members, Sink: sk.addr}

	logf("fan-out: an administrator, the smarthost %s set in /admin/mail", sk.addr)
	c, err := adminClient(ctx, srv)
	if err != nil {
		return nil, err
	}
	if err := postForm(ctx, c, srv, "/admin/mail", url.Values{
		"way": {"smarthost"}, "host": {sk.host()}, "port": {"25"},
	}); err != nil {
		return nil, fmt.Errorf("set the smarthost: %w", err)
	}

	logf("fan-out: list fanout with %d members", members+1)
	if _, _, _, err := srv.cli(ctx, nil, "list", "create", "fanout", "-title", "Fan-out"); err != nil {
		return nil, err
	}
	domains := []string{"example.org", "example.net", "example.com", "example.fr", "asso.example"}
	author := "auteur@example.org"
	args := []string{"list", "members", "fanout", "add", author}
	for i := range members {
		args = append(args, fmt.Sprintf("membre%04d@%s", i, domains[i%len(domains)]))
	}
	if _, _, _, err := srv.cli(ctx, nil, args...); err != nil {
		return nil, err
	}
	// The list domain's DKIM key is made on first use: make it now, as a
	// server that has run a while has it.
	if _, _, _, err := srv.cli(ctx, nil, "dns"); err != nil {
		return nil, err
	}

	logf("fan-out: one post to fanout@localhost over SMTP")
	t0 := time.Now()
	if err := post(srv.smtpAddr, author, "fanout@localhost"); err != nil {
		return nil, err
	}
	res.Accepted = time.Since(t0).Seconds()
	timeout := 5 * time.Minute
	select {
	case <-sk.done:
	case <-time.After(timeout):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// A moment more, to see any copy too many.
	time.Sleep(300 * time.Millisecond)
	count, signed, last := sk.snapshot()
	res.Delivered, res.Signed = count, signed
	if !last.IsZero() {
		res.Seconds = last.Sub(t0).Seconds()
	}
	if count < members {
		return res, fmt.Errorf("fan-out: the sink got %d copies of %d within %s\n%s", count, members, timeout, tail(srv.logPath, 15))
	}
	res.Note = "no TLS nor AUTH between placette and the sink (port 25 of a loopback address)"
	return res, nil
}

// adminClient creates an administrator with the command line and returns
// an HTTP client logged in as them.
func adminClient(ctx context.Context, srv *placette) (*http.Client, error) {
	pw := make([]byte, 12)
	if _, err := rand.Read(pw); err != nil {
		return nil, err
	}
	password := hex.EncodeToString(pw)
	if _, _, _, err := srv.cli(ctx, strings.NewReader(password+"\n"), "user", "add", "benchadmin", "-admin"); err != nil {
		return nil, err
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	c := &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if err := postForm(ctx, c, srv, "/login", url.Values{"login": {"benchadmin"}, "password": {password}}); err != nil {
		return nil, fmt.Errorf("log in: %w", err)
	}
	return c, nil
}

// csrfInput finds the CSRF token in a page's form.
var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// postForm fetches the page at path for the CSRF token of its form and
// posts form with it back to path, as a browser does; it wants a 303 in
// answer.
func postForm(ctx context.Context, c *http.Client, srv *placette, path string, form url.Values) error {
	status, body, err := fetch(ctx, c, srv.URL(path))
	if err != nil {
		return err
	}
	m := csrfInput.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		return fmt.Errorf("GET %s: status %d, no CSRF token", path, status)
	}
	form.Set("csrf", m[1])
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL(path), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", srv.URL(""))
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body) // For the error only.
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("POST %s: status %d, want 303:\n%s", path, resp.StatusCode, lastLines(string(b), 20))
	}
	return nil
}

// fetch GETs u and returns its status and body. It sends the headers the
// load generator sends, so that the body is what the load gets.
func fetch(ctx context.Context, c *http.Client, u string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// post sends one message of about 4 KB from from to rcpt over SMTP at
// addr.
func post(addr, from, rcpt string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer c.Close()
	if err := c.Hello("poste.example.org"); err != nil {
		return fmt.Errorf("post: EHLO: %w", err)
	}
	var opts *smtp.MailOptions
	if ok, _ := c.Extension("8BITMIME"); ok {
		opts = &smtp.MailOptions{Body: smtp.Body8BitMIME}
	}
	if err := c.Mail(from, opts); err != nil {
		return fmt.Errorf("post: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return fmt.Errorf("post: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("post: DATA: %w", err)
	}
	if _, err := w.Write(postMessage(from, rcpt)); err != nil {
		return fmt.Errorf("post: DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("post: end of DATA: %w", err)
	}
	return c.Quit()
}

// postMessage returns a French message of about 4 KB.
func postMessage(from, to string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Auteur <%s>\r\nTo: %s\r\nSubject: Atelier numérique de jeudi : le déroulé\r\n", from, to)
	fmt.Fprintf(&b, "Date: %s\r\nMessage-ID: <fanout-%d@example.org>\r\n", time.Now().Format(time.RFC1123Z), time.Now().UnixNano())
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString("Bonjour à toutes et à tous,\r\n\r\n")
	para := "Pour l'atelier de jeudi à la médiathèque, nous accueillerons une douzaine de personnes " +
		"qui débutent avec la messagerie : prévoyez des tablettes chargées, les codes du réseau " +
		"et quelques fiches imprimées. Le déroulé reste le même que la dernière fois, avec un temps " +
		"d'échange à la fin pour noter les questions qui reviennent.\r\n\r\n"
	for b.Len() < 3800 {
		b.WriteString(para)
	}
	b.WriteString("Bonne journée,\r\nAuteur\r\n")
	return b.Bytes()
}

// benchLine reads "BenchmarkFanOut1000-2   3   912345678 ns/op ..." lines.
var benchLine = regexp.MustCompile(`(?m)^BenchmarkFanOut1000\S*\s+\d+\s+(\d+(?:\.\d+)?) ns/op`)

// fanoutGoTest runs BenchmarkFanOut1000 of mailinglist/delivery in src,
// with n CPUs (0 for the default), when the sink cannot run end to end.
func fanoutGoTest(ctx context.Context, src string, n int, why error) (*fanoutResult, error) {
	args := []string{"test", "-run=^$", "-bench=FanOut1000", "-benchtime=3x"}
	if n > 0 {
		args = append(args, "-cpu="+strconv.Itoa(n))
	}
	args = append(args, "./mailinglist/delivery/")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = src
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, lastLines(string(out), 20))
	}
	m := benchLine.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("go %s: no result line in:\n%s", strings.Join(args, " "), out)
	}
	ns, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return nil, err
	}
	// The benchmark fails unless its sink gets all 1,000 copies, but the
	// harness counts none of them: Delivered and Signed stay zero.
	return &fanoutResult{Mode: "go test", Members: 1000, Seconds: ns / 1e9,
		Note: fmt.Sprintf("BenchmarkFanOut1000 (STARTTLS and AUTH to an in-process sink), as end to end could not run: %v", why)}, nil
}
