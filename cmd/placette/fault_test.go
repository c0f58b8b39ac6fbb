package main

import (
	"archive/zip"
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/app"
	"codeberg.org/placette/placette/internal/app/apptest"
)

// These tests kill the real binary (SIGKILL) in the middle of a burst of
// writes, restart it on the same data folder, and check that nothing it
// acknowledged is lost and that the derived parts (the delivery queue,
// the search index) catch up by themselves.

// proc is a placette server running as a process of the built binary.
type proc struct {
	cmd  *exec.Cmd
	data string
	http string // the web listener's address
	smtp string // the SMTP listener's address
	log  *apptest.LogBuffer

	exited chan struct{} // closed once the process has ended
}

// startProc runs the binary bin as a server on data, on fresh loopback
// ports, and waits until its web and mail listeners and its control
// socket answer. The process is killed at the end of the test.
func startProc(t *testing.T, bin, data string) *proc {
	t.Helper()
	p := &proc{data: data, http: freeAddr(t), smtp: freeAddr(t), log: &apptest.LogBuffer{}}
	p.cmd = exec.Command(bin, "serve", "-data", data, "-http", p.http, "-smtp", p.smtp)
	p.cmd.Env = []string{"HOME=" + data}
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { p.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("server log:\n%s", tail(p.log.String(), 4000))
		}
	})
	p.exited = exited
	deadline := time.Now().Add(time.Minute)
	for {
		if dialOK("tcp", p.http) && dialOK("tcp", p.smtp) && dialOK("unix", app.SocketPath(data)) {
			break
		}
		select {
		case <-exited:
			t.Fatalf("the server ended before listening:\n%s", p.log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never listened:\n%s", p.log.String())
		}
	}
	return p
}

// kill stops the server with SIGKILL and waits for it to be gone; it
// may be called from any goroutine.
func (p *proc) kill(t *testing.T) {
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Error(err)
	}
	<-p.exited
}

// pid returns the server's process id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// instance returns an apptest instance over the server's web listener,
// for its HTTP helpers.
func (p *proc) instance() *apptest.Instance {
	return &apptest.Instance{URL: "http://" + p.http, DataDir: p.data}
}

func dialOK(network, addr string) bool {
	c, err := net.DialTimeout(network, addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// runCLI runs a placette command of bin on data with stdin as its input,
// and returns its output; it fails the test if the command fails.
func runCLI(t *testing.T, bin, data, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append(args, "-data", data)...)
	cmd.Env = []string{"HOME=" + data}
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("placette %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// killDuringCLI runs a placette command of bin on data (an import
// through the running server p), kills p once the command has printed
// lines lines holding progress to its standard error, and waits for the
// command, which fails with the server gone.
func killDuringCLI(t *testing.T, p *proc, bin, data, progress string, lines int, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, append(args, "-data", data)...)
	cmd.Env = []string{"HOME=" + data}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for n := 0; n < lines && sc.Scan(); {
		if strings.Contains(sc.Text(), progress) {
			n++
		}
	}
	p.kill(t)
	go func() {
		for sc.Scan() {
		}
	}()
	cmd.Wait() // fails: the server is gone
}

// smtpClient is one SMTP conversation over a real socket, spoken line by
// line so that tests control every byte.
type smtpClient struct {
	conn net.Conn
	text *textproto.Conn
}

// dialSMTP connects to addr, reads the greeting and says EHLO.
func dialSMTP(addr string) (*smtpClient, error) {
	conn, err := net.DialTimeout("tcp", addr, 20*time.Second)
	if err != nil {
		return nil, err
	}
	c := &smtpClient{conn: conn, text: textproto.NewConn(conn)}
	if _, err := c.reply(220); err != nil {
		conn.Close()
		return nil, err
	}
	if _, err := c.cmd(250, "EHLO client.example"); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// reply reads a reply and checks its code (a textproto.Error otherwise).
func (c *smtpClient) reply(want int) (string, error) {
	c.conn.SetDeadline(time.Now().Add(time.Minute))
	_, msg, err := c.text.ReadResponse(want)
	return msg, err
}

// cmd sends a command and reads its reply.
func (c *smtpClient) cmd(want int, format string, args ...any) (string, error) {
	c.conn.SetDeadline(time.Now().Add(time.Minute))
	if err := c.text.PrintfLine(format, args...); err != nil {
		return "", err
	}
	return c.reply(want)
}

// send runs one mail transaction; nil means the server answered 250 to
// the end of the data: it acknowledged the message.
func (c *smtpClient) send(from string, to []string, msg string) error {
	if _, err := c.cmd(250, "MAIL FROM:<%s>", from); err != nil {
		return err
	}
	for _, r := range to {
		if _, err := c.cmd(250, "RCPT TO:<%s>", r); err != nil {
			return err
		}
	}
	if _, err := c.cmd(354, "DATA"); err != nil {
		return err
	}
	w := c.text.DotWriter()
	if _, err := io.WriteString(w, msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	_, err := c.reply(250)
	return err
}

func (c *smtpClient) close() {
	c.conn.SetDeadline(time.Now().Add(5 * time.Second))
	c.text.PrintfLine("QUIT")
	c.conn.Close()
}

// marker returns a word that names i: syllables of letters, one per
// decimal digit, that analysis leaves whole. The search may also find
// words a few letters away (fuzzy matching), so tests look for the page
// of i among the results rather than count them.
func marker(prefix string, i int) string {
	syllables := []string{"ba", "ko", "mi", "tu", "ra", "pe", "li", "no", "vu", "da"}
	b := prefix
	for range 4 {
		b += syllables[i%10]
		i /= 10
	}
	return b
}

// searchPage returns the results page of a search for q (in: "wiki",
// "lists" or "") on inst, as client c.
func searchPage(t *testing.T, inst *apptest.Instance, c *http.Client, q, in string) string {
	t.Helper()
	path := "/search?q=" + url.QueryEscape(q)
	if in != "" {
		path += "&in=" + in
	}
	status, body := inst.Get(t, c, path)
	if status != http.StatusOK {
		t.Fatalf("search %q: status %d", q, status)
	}
	return body
}

// searchCount returns the number of results the search page announces
// for q, 0 when it says none and -1 when it says nothing.
func searchCount(t *testing.T, inst *apptest.Instance, c *http.Client, q, in string) int {
	t.Helper()
	m := searchTotal.FindStringSubmatch(searchPage(t, inst, c, q, in))
	if m == nil {
		return -1
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, m[1])
	n, err := strconv.Atoi(digits)
	if err != nil {
		return 0 // "no result"
	}
	return n
}

// waitFor polls cond until it is true, failing the test with what() once
// bound has passed.
func waitFor(t *testing.T, bound time.Duration, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// outboxCopy is a copy of a list message in the outbox folder.
type outboxCopy struct{ msgID, to string }

// readOutbox returns the copies in the outbox folder of data, and the
// number of files holding each.
func readOutbox(t *testing.T, data string) map[outboxCopy]int {
	t.Helper()
	dir := filepath.Join(data, "outbox")
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	copies := map[outboxCopy]int{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".eml") || strings.HasPrefix(e.Name(), ".") {
			continue // a temporary file a kill left behind
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		h, err := textproto.NewReader(bufio.NewReader(f)).ReadMIMEHeader()
		f.Close()
		if err != nil {
			t.Fatalf("outbox file %s: %v", e.Name(), err)
		}
		trim := func(s string) string { return strings.Trim(strings.TrimSpace(s), "<>") }
		copies[outboxCopy{msgID: trim(h.Get("Message-Id")), to: trim(h.Get("X-Envelope-To"))}]++
	}
	return copies
}

var exportedID = regexp.MustCompile(`(?m)^Message-ID: <([^>]+)>`)

// TestKillDuringSMTPBurst kills the server (SIGKILL) while clients post
// to a list over SMTP: after a restart, every message the server answered
// 250 to is in the archive, the delivery queue writes every member's copy
// of every stored message to the outbox (local mode) exactly once, and
// the search index finds every stored message.
func TestKillDuringSMTPBurst(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	data := filepath.Join(apptest.TempDir(t), "data")
	members := []string{"m0@example.org", "m1@example.org", "m2@example.org", "m3@example.org"}
	runCLI(t, bin, data, "", "list", "create", "entraide")
	runCLI(t, bin, data, "", append([]string{"list", "members", "entraide", "add"}, members...)...)

	p := startProc(t, bin, data)
	const (
		total   = 600 // messages the clients would send
		killAt  = 150 // acknowledged messages before the kill
		clients = 12
	)
	var (
		mu     sync.Mutex // guards acked
		acked  = map[int]bool{}
		killed = make(chan struct{})
		wg     sync.WaitGroup
	)
	message := func(i int) string {
		author := members[i%len(members)]
		return fmt.Sprintf("From: Membre <%s>\r\nTo: entraide@localhost\r\nSubject: Rafale %d\r\nMessage-ID: <rafale-%d@example.org>\r\nDate: Mon, 23 Nov 2026 10:%02d:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour, un message sur le tournesol, repère %s.\r\n",
			author, i, i, i%60, marker("zq", i))
	}
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c *smtpClient
			defer func() {
				if c != nil {
					c.close()
				}
			}()
			for i := w; i < total; i += clients {
				select {
				case <-killed:
					return
				default:
				}
				if c == nil {
					var err error
					if c, err = dialSMTP(p.smtp); err != nil {
						return // the server is gone
					}
				}
				err := c.send(members[i%len(members)], []string{"entraide@localhost"}, message(i))
				if err != nil {
					c.close()
					c = nil
					continue
				}
				mu.Lock()
				acked[i] = true
				n := len(acked)
				mu.Unlock()
				if n == killAt {
					p.kill(t)
					close(killed)
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-killed:
	default:
		t.Fatalf("the burst ended with %d messages acknowledged before the kill came", len(acked))
	}
	before := readOutbox(t, data)

	p = startProc(t, bin, data)
	stored := map[string]bool{}
	for _, m := range exportedID.FindAllStringSubmatch(runCLI(t, bin, data, "", "list", "export", "entraide"), -1) {
		stored[m[1]] = true
	}
	for i := range acked {
		if id := fmt.Sprintf("rafale-%d@example.org", i); !stored[id] {
			t.Errorf("message %s was acknowledged but is not in the archive after the restart", id)
		}
	}
	t.Logf("%d messages acknowledged, %d stored, %d copies in the outbox at the kill", len(acked), len(stored), len(before))
	// A message page for one of them, to be sure the web sees them too.
	for i := range acked {
		inst := p.instance()
		if status, _ := inst.Get(t, inst.Client(t), fmt.Sprintf("/lists/entraide/m/rafale-%d@example.org", i)); status != http.StatusOK {
			t.Errorf("the page of acknowledged message %d: status %d", i, status)
		}
		break
	}

	// The delivery queue resumes: every member but the author gets one
	// copy of every stored message.
	want := map[outboxCopy]bool{}
	for id := range stored {
		i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(id, "rafale-"), "@example.org"))
		if err != nil {
			t.Fatalf("an unexpected message in the archive: %s", id)
		}
		for _, m := range members {
			if m != members[i%len(members)] {
				want[outboxCopy{msgID: id, to: m}] = true
			}
		}
	}
	// Read once the queue is empty, so that a copy sent twice late is
	// seen too.
	waitFor(t, 2*time.Minute, func() bool {
		return strings.Contains(runCLI(t, bin, data, "", "doctor", "-no-dns"), " 0 waiting, 0 failing")
	}, func() string { return "after the restart the mail queue never emptied" })
	got := readOutbox(t, data)
	if len(got) < len(want) {
		t.Errorf("after the restart the outbox holds %d of the %d copies", len(got), len(want))
	}
	for c, n := range got {
		if !want[c] {
			t.Errorf("an outbox copy nobody should get: %+v", c)
		}
		if n != 1 {
			t.Errorf("%d outbox files for %+v, want 1", n, c)
		}
	}

	// The search index catches up with every stored message.
	inst := p.instance()
	c := inst.Client(t)
	var n int
	waitFor(t, 2*time.Minute, func() bool {
		n = searchCount(t, inst, c, "tournesol", "lists")
		return n == len(stored)
	}, func() string {
		return fmt.Sprintf("after the restart the index finds %d of the %d stored messages", n, len(stored))
	})
	for i := range acked {
		link := fmt.Sprintf(`href="/lists/entraide/m/rafale-%d@example.org"`, i)
		if page := searchPage(t, inst, c, marker("zq", i), "lists"); !strings.Contains(page, link) {
			t.Errorf("searching the word of acknowledged message %d does not find it", i)
		}
	}
}

// TestKillDuringWikiSaves kills the server (SIGKILL) while an
// administrator's clients save pages: after a restart, every revision the
// server answered 303 to is there with its text, and the search index
// finds each page's latest text.
func TestKillDuringWikiSaves(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	data := filepath.Join(apptest.TempDir(t), "data")
	runCLI(t, bin, data, password+"\n", "user", "add", "sam", "-admin")

	p := startProc(t, bin, data)
	const (
		writers = 6
		saves   = 200 // per writer at most
		killAt  = 120 // acknowledged saves before the kill
	)
	inst := p.instance()
	text := func(w, rev int) string {
		return fmt.Sprintf("# Page %d\n\nRévision %d de la fiche sur le potager, repère %s.\n", w, rev, marker("zw", w*1000+rev))
	}
	var (
		mu     sync.Mutex             // guards acked and total
		acked  = make([]int, writers) // the last revision acknowledged, per writer
		total  int
		killed = make(chan struct{})
		wg     sync.WaitGroup
	)
	// One session for every writer: logins are rate-limited.
	admin := inst.Login(t, "sam", password)
	token := inst.CSRF(t, admin, "/wiki/-/new")
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slug := fmt.Sprintf("page-%d", w)
			for rev := 1; rev <= saves; rev++ {
				select {
				case <-killed:
					return
				default:
				}
				form := url.Values{"csrf": {token}, "text": {text(w, rev)}, "summary": {fmt.Sprintf("révision %d", rev)}, "base": {strconv.Itoa(rev - 1)}}
				resp, err := admin.PostForm(inst.URL+"/wiki/"+slug+"/edit", form)
				if err != nil {
					return // the server is gone
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusSeeOther {
					t.Errorf("save %d of %s: status %d", rev, slug, resp.StatusCode)
					return
				}
				mu.Lock()
				acked[w] = rev
				total++
				n := total
				mu.Unlock()
				if n == killAt {
					p.kill(t)
					close(killed)
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-killed:
	default:
		t.Fatalf("the saves ended with %d acknowledged before the kill came", total)
	}
	t.Logf("acknowledged revisions per page at the kill: %v", acked)

	p = startProc(t, bin, data)
	inst = p.instance()
	c := inst.Client(t)
	for w, last := range acked {
		slug := fmt.Sprintf("page-%d", w)
		for rev := 1; rev <= last; rev++ {
			status, body := inst.Get(t, c, fmt.Sprintf("/wiki/%s/raw?rev=%d", slug, rev))
			if status != http.StatusOK || body != text(w, rev) {
				t.Errorf("acknowledged revision %d of %s after the restart: status %d, %q", rev, slug, status, body)
			}
		}
		// The page is at the last acknowledged revision, or at the one
		// being saved when the server died; with none acknowledged, it
		// may not exist.
		status, body := inst.Get(t, c, "/wiki/"+slug+"/raw")
		if last == 0 && status == http.StatusNotFound {
			continue
		}
		if status != http.StatusOK || body != text(w, last) && body != text(w, last+1) {
			t.Errorf("%s after the restart: status %d, %q; want revision %d or %d", slug, status, body, last, last+1)
		}
		if last == 0 {
			continue
		}
		current := last
		if body == text(w, last+1) {
			current = last + 1
		}
		if _, hist := inst.Get(t, c, "/wiki/"+slug+"/history"); !strings.Contains(hist, fmt.Sprintf("révision %d", current)) {
			t.Errorf("the history of %s does not show revision %d", slug, current)
		}
		word := marker("zw", w*1000+current)
		waitFor(t, 2*time.Minute, func() bool {
			return strings.Contains(searchPage(t, inst, c, word, "wiki"), `href="/wiki/`+slug+`"`)
		}, func() string {
			return fmt.Sprintf("after the restart searching %s (revision %d of %s) does not find the page", word, current, slug)
		})
	}
}

// TestKillDuringWikiImport kills the server (SIGKILL) in the middle of a
// wiki import (TestKillDuringImport does it to a list import): after a
// restart, every page committed before the kill is whole, and the search
// index catches up with all of them.
func TestKillDuringWikiImport(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	dir := apptest.TempDir(t)
	data := filepath.Join(dir, "data")
	pages := filepath.Join(dir, "pages")
	if err := os.Mkdir(pages, 0o700); err != nil {
		t.Fatal(err)
	}
	const total = 3000
	page := func(i int) string {
		return fmt.Sprintf("---\ntitle: Fiche %d\ntags: [atelier]\n---\n# Fiche %d\n\nUn atelier sur la citrouille, repère %s.\n", i, i, marker("zf", i))
	}
	for i := range total {
		if err := os.WriteFile(filepath.Join(pages, fmt.Sprintf("fiche-%d.md", i)), []byte(page(i)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := startProc(t, bin, data)
	// Kill the server once the import has committed a few batches.
	killDuringCLI(t, p, bin, data, "pages read", 3, "wiki", "import", pages)

	p = startProc(t, bin, data)
	out := filepath.Join(dir, "export.zip")
	runCLI(t, bin, data, "", "wiki", "export", "-o", out)
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	stored := 0
	for _, f := range zr.File {
		var i int
		if _, err := fmt.Sscanf(f.Name, "fiche-%d.md", &i); err != nil {
			continue
		}
		stored++
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "Un atelier sur la citrouille, repère "+marker("zf", i)) {
			t.Errorf("page %d after the restart is not the one imported:\n%s", i, b)
		}
	}
	if stored < 300 {
		t.Fatalf("%d of %d pages after the restart, want the 300 committed before the kill at least", stored, total)
	}
	t.Logf("the kill came at %d of %d pages", stored, total)
	inst := p.instance()
	c := inst.Client(t)
	var n int
	waitFor(t, 2*time.Minute, func() bool {
		n = searchCount(t, inst, c, "citrouille", "wiki")
		return n == stored
	}, func() string {
		return fmt.Sprintf("after the restart the index finds %d of the %d stored pages", n, stored)
	})
}
