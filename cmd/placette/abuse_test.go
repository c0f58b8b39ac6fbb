package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/app/apptest"
)

// These tests abuse the real binary over real sockets: many connections
// at once, clients that send a byte at a time, bodies past every limit,
// floods of anonymous edits and subscriptions. Each checks that the
// server keeps answering others, that its memory stays bounded, and that
// the limits answer with clear errors. The SMTP protocol abuses (open
// relay, smuggling, stalled clients, per-network limits) are in the
// mailinglist package, against its in-process server.
//
// They do not call t.Parallel: run beside the package's other tests, the
// load they make slowed those down threefold on a two-core machine.

// memBound is how much the server's resident memory may grow under an
// abuse: generous, since the point is that it stays bounded whatever the
// number of abusers. Large web bodies share a budget of 16 MiB, held in a
// few copies, the mail being received one of 64 MiB, and the garbage
// collector lets the heap grow to twice what is live. Without the budgets
// the oversized bodies of TestAbuseOversized took the server past 300 MiB,
// and the big messages of TestAbuseBigMessages past 1 GiB.
const memBound = 128 << 20

// procMem returns the resident memory of process pid and its peak, in
// bytes, from /proc/PID/status.
func procMem(t *testing.T, pid int) (rss, peak int64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) int64 {
		m := regexp.MustCompile(`(?m)^` + name + `:\s+(\d+) kB`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("no %s in /proc/%d/status", name, pid)
		}
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		return n << 10
	}
	return field("VmRSS"), field("VmHWM")
}

// resetPeak resets the peak resident memory of process pid, so that a
// later VmHWM is the peak of what happened since.
func resetPeak(t *testing.T, pid int) {
	t.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		t.Fatalf("reset the peak memory: %v", err)
	}
}

// getOK fails the test unless GET path on the server answers 200 with a
// fresh connection (a client that is not one of the abusers).
func getOK(t *testing.T, p *proc, path string) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Minute}
	resp, err := c.Get("http://" + p.http + path)
	if err != nil {
		t.Fatalf("GET %s during the abuse: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s during the abuse: status %d", path, resp.StatusCode)
	}
}

// abuseServer starts the binary with an administrator (sam), a list
// (entraide, members m0…m3@example.org) and a page (accueil).
func abuseServer(t *testing.T) (*proc, *http.Client) {
	t.Helper()
	bin := binary(t)
	data := filepath.Join(apptest.TempDir(t), "data")
	runCLI(t, bin, data, password+"\n", "user", "add", "sam", "-admin")
	runCLI(t, bin, data, "", "list", "create", "entraide")
	runCLI(t, bin, data, "", "list", "members", "entraide", "add", "m0@example.org", "m1@example.org", "m2@example.org", "m3@example.org")
	p := startProc(t, bin, data)
	inst := p.instance()
	admin := inst.Login(t, "sam", password)
	resp, body := inst.Submit(t, admin, "/wiki/accueil/edit", "/wiki/accueil/edit", url.Values{"text": {"# Accueil\n\nBienvenue sur la placette.\n"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create the page: status %d\n%s", resp.StatusCode, body)
	}
	return p, admin
}

// TestAbuseConnections opens 500 SMTP and 500 HTTP connections at once:
// SMTP answers those past its limit with a 421 that says why, HTTP serves
// them all, and meanwhile a normal visitor gets /healthz and pages. Once
// the abusers leave, mail is taken again. Memory stays bounded.
func TestAbuseConnections(t *testing.T) {
	p, _ := abuseServer(t)
	before, _ := procMem(t, p.pid())

	const n = 500
	var (
		mu        sync.Mutex // guards the fields below
		greetings = map[string]int{}
		refusal   string
		smtpConns []net.Conn
		httpConns []net.Conn
		httpOK    int
		wg        sync.WaitGroup
	)
	defer func() {
		for _, c := range append(smtpConns, httpConns...) {
			c.Close()
		}
	}()
	for range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", p.smtp, time.Minute)
			if err != nil {
				mu.Lock()
				greetings["dial error"]++
				mu.Unlock()
				return
			}
			c.SetReadDeadline(time.Now().Add(time.Minute))
			line, err := bufio.NewReader(c).ReadString('\n')
			mu.Lock()
			defer mu.Unlock()
			smtpConns = append(smtpConns, c)
			if err != nil {
				greetings["read error"]++
				return
			}
			greetings[line[:min(3, len(line))]]++
			if strings.HasPrefix(line, "421") {
				refusal = line
			}
		}()
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", p.http, time.Minute)
			if err != nil {
				return
			}
			mu.Lock()
			httpConns = append(httpConns, c)
			mu.Unlock()
			// One request, then the connection stays open (keep-alive).
			c.SetDeadline(time.Now().Add(time.Minute))
			fmt.Fprintf(c, "GET /wiki/accueil HTTP/1.1\r\nHost: %s\r\n\r\n", p.http)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				mu.Lock()
				httpOK++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if greetings["220"] != 100 || greetings["421"] != n-100 {
		t.Errorf("SMTP greetings %v, want 100 × 220 (the limit) and %d × 421", greetings, n-100)
	}
	if !strings.Contains(refusal, "Too many connections") {
		t.Errorf("the 421 greeting does not say why: %q", refusal)
	}
	if httpOK != n {
		t.Errorf("%d of %d simultaneous HTTP clients got the page", httpOK, n)
	}
	// With every connection held, others are served.
	getOK(t, p, "/healthz")
	getOK(t, p, "/wiki/accueil")
	getOK(t, p, "/search?q=bienvenue")
	if rss, _ := procMem(t, p.pid()); rss-before > memBound {
		t.Errorf("with %d SMTP and %d HTTP connections open the server grew from %d MiB to %d MiB", n, n, before>>20, rss>>20)
	} else {
		t.Logf("resident memory %d MiB, %d MiB with the connections open", before>>20, rss>>20)
	}

	// Once the abusers leave, mail is taken again.
	mu.Lock()
	for _, c := range smtpConns {
		c.Close()
	}
	smtpConns = nil
	mu.Unlock()
	msg := "From: m0@example.org\r\nSubject: Après\r\nMessage-ID: <apres@example.org>\r\n\r\nDe retour.\r\n"
	var err error
	waitFor(t, time.Minute, func() bool {
		var c *smtpClient
		if c, err = dialSMTP(p.smtp); err != nil {
			return false
		}
		defer c.close()
		err = c.send("m0@example.org", []string{"entraide@localhost"}, msg)
		return err == nil
	}, func() string { return fmt.Sprintf("no mail taken after the connections closed: %v", err) })
}

// TestAbuseSlowloris: 200 clients send their request headers a byte at a
// time and never finish. The server cuts each of them off (its header
// read timeout) and serves others meanwhile.
func TestAbuseSlowloris(t *testing.T) {
	p, _ := abuseServer(t)
	const n = 200
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex // guards cut
		cut    int        // connections the server closed
		stop   = make(chan struct{})
		opened = make(chan struct{}, n)
	)
	defer close(stop)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", p.http, time.Minute)
			if err != nil {
				t.Errorf("dial: %v", err)
				opened <- struct{}{}
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "GET /wiki/accueil HTTP/1.1\r\nHost: %s\r\nX-Slow: ", p.http)
			opened <- struct{}{}
			closed := make(chan struct{})
			go func() {
				// The server closing the connection ends this read; the
				// client's own deadline, past waitFor's bound below, is
				// not a cut.
				c.SetReadDeadline(time.Now().Add(4 * time.Minute))
				if _, err := io.Copy(io.Discard, c); errors.Is(err, os.ErrDeadlineExceeded) {
					return
				}
				close(closed)
			}()
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-closed:
					mu.Lock()
					cut++
					mu.Unlock()
					return
				case <-stop:
					return
				case <-tick.C:
					c.Write([]byte("a")) // an error too means the server is gone from it
				}
			}
		}()
	}
	for range n {
		<-opened
	}
	// While they trickle, others are served.
	getOK(t, p, "/healthz")
	getOK(t, p, "/wiki/accueil")
	waitFor(t, 3*time.Minute, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return cut == n
	}, func() string {
		return fmt.Sprintf("the server cut %d of %d clients that never finish their headers", cut, n)
	})
	wg.Wait()
	getOK(t, p, "/healthz")

	// Headers past the limit are refused at once.
	c, err := net.Dial("tcp", p.http)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	go fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nX-Big: %s\r\n\r\n", p.http, strings.Repeat("a", 1<<20))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a megabyte of headers: %v, %v; want 431", resp, err)
	}
}

// rawRequest sends a request with head (its request line and header
// fields, without the blank line) and a body of size bytes from body
// (chunked when size < 0, up to -size bytes) over a new connection, and
// returns the response and its body. The body is written while the
// response is read: a server that answers early and closes is seen as it
// answered.
func rawRequest(addr, head string, size int64, body io.Reader) (*http.Response, string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Minute)
	if err != nil {
		return nil, "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	go func() {
		w := bufio.NewWriter(c)
		if size >= 0 {
			fmt.Fprintf(w, "%s\r\nContent-Length: %d\r\n\r\n", head, size)
			io.Copy(w, io.LimitReader(body, size))
		} else {
			fmt.Fprintf(w, "%s\r\nTransfer-Encoding: chunked\r\n\r\n", head)
			cw := httputil.NewChunkedWriter(w)
			io.Copy(cw, io.LimitReader(body, -size))
			cw.Close()            // the last, empty chunk
			w.WriteString("\r\n") // no trailer
		}
		w.Flush()
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b), err
}

// filler is an endless reader of the letter a.
type filler struct{}

var letters = bytes.Repeat([]byte("a"), 32<<10)

func (filler) Read(p []byte) (int, error) { return copy(p, letters), nil }

// multipartUpload returns the head fields and a reader of a multipart
// body carrying the form fields and a PDF file of size bytes.
func multipartUpload(fields url.Values, size int64) (string, io.Reader, int64) {
	const boundary = "abuseboundary"
	var pre bytes.Buffer
	for k, vs := range fields {
		for _, v := range vs {
			fmt.Fprintf(&pre, "--%s\r\nContent-Disposition: form-data; name=%q\r\n\r\n%s\r\n", boundary, k, v)
		}
	}
	fmt.Fprintf(&pre, "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"gros.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%%PDF-1.4\n", boundary)
	post := fmt.Sprintf("\r\n--%s--\r\n", boundary)
	r := io.MultiReader(&pre, io.LimitReader(filler{}, size-9), strings.NewReader(post))
	total := int64(pre.Len()) + size - 9 + int64(len(post))
	return "Content-Type: multipart/form-data; boundary=" + boundary, r, total
}

// TestAbuseOversized sends bodies past every limit at once, from clients
// that declare their size and from clients that do not: forms, page
// texts, uploads. Each gets a clear refusal (413 with a page that says
// so, or the form again with its error), never a 500; the server's
// memory stays bounded, and others are served.
func TestAbuseOversized(t *testing.T) {
	p, _ := abuseServer(t)
	inst := p.instance()

	// A visitor's form: the CSRF cookie and token of the edit and files
	// pages.
	jar, _ := cookiejar.New(nil)
	visitor := &http.Client{Jar: jar}
	token := inst.CSRF(t, visitor, "/wiki/accueil/files")
	u, _ := url.Parse(inst.URL)
	var cookies []string
	for _, c := range jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	head := func(method, path string, fields ...string) string {
		return strings.Join(append([]string{
			method + " " + path + " HTTP/1.1",
			"Host: " + p.http,
			"Accept-Language: fr",
			"Cookie: " + strings.Join(cookies, "; "),
		}, fields...), "\r\n")
	}
	form := "Content-Type: application/x-www-form-urlencoded"

	type result struct {
		name   string
		status int
		body   string
		err    error
	}
	type abuse struct {
		name   string
		n      int // clients at once
		status int // the answer each must get
		says   string
		send   func() (*http.Response, string, error)
	}
	pageText := url.Values{"csrf": {token}, "base": {"1"}, "text": {"# Accueil\n\n" + strings.Repeat("Une longue page. ", 36000)}}.Encode()
	abuses := []abuse{
		{"a form declaring 64 MiB", 40, http.StatusRequestEntityTooLarge, "Envoi trop volumineux", func() (*http.Response, string, error) {
			return rawRequest(p.http, head("POST", "/wiki/accueil/edit", form), 64<<20, filler{})
		}},
		{"a chunked form of 8 MiB", 20, http.StatusRequestEntityTooLarge, "Envoi trop volumineux", func() (*http.Response, string, error) {
			return rawRequest(p.http, head("POST", "/wiki/accueil/edit", form), -8<<20, io.MultiReader(strings.NewReader("csrf="+token+"&text="), filler{}))
		}},
		{"an upload declaring 40 MiB", 20, http.StatusRequestEntityTooLarge, "Envoi trop volumineux", func() (*http.Response, string, error) {
			ct, r, size := multipartUpload(url.Values{"csrf": {token}}, 40<<20)
			return rawRequest(p.http, head("POST", "/wiki/accueil/files", ct), size, r)
		}},
		{"a chunked upload of 40 MiB", 4, http.StatusRequestEntityTooLarge, "Envoi trop volumineux", func() (*http.Response, string, error) {
			ct, r, _ := multipartUpload(url.Values{"csrf": {token}}, 40<<20)
			return rawRequest(p.http, head("POST", "/wiki/accueil/files", ct), -40<<20, r)
		}},
		{"a file of 10 MiB (over the attachments' 8 MiB)", 6, http.StatusRequestEntityTooLarge, "Le fichier est trop gros", func() (*http.Response, string, error) {
			ct, r, size := multipartUpload(url.Values{"csrf": {token}}, 10<<20)
			return rawRequest(p.http, head("POST", "/wiki/accueil/files", ct), size, r)
		}},
		{"an anonymous file of 7 MiB from a robot", 10, http.StatusUnprocessableEntity, "Ce formulaire n’a pas pu être vérifié", func() (*http.Response, string, error) {
			ct, r, size := multipartUpload(url.Values{"csrf": {token}}, 7<<20)
			return rawRequest(p.http, head("POST", "/wiki/accueil/files", ct), size, r)
		}},
		{"a page text of 600 KiB (over the pages' 512 KiB)", 10, http.StatusRequestEntityTooLarge, "Votre texte est gardé", func() (*http.Response, string, error) {
			return rawRequest(p.http, head("POST", "/wiki/accueil/edit", form), int64(len(pageText)), strings.NewReader(pageText))
		}},
	}
	resetPeak(t, p.pid())
	before, _ := procMem(t, p.pid())
	results := make(chan result, 200)
	var wg sync.WaitGroup
	for _, a := range abuses {
		for range a.n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, body, err := a.send()
				r := result{name: a.name, body: body, err: err}
				if resp != nil {
					r.status = resp.StatusCode
				}
				results <- r
			}()
		}
	}
	// Meanwhile, others are served.
	getOK(t, p, "/healthz")
	getOK(t, p, "/wiki/accueil")
	wg.Wait()
	close(results)
	_, peak := procMem(t, p.pid())
	want := map[string]abuse{}
	for _, a := range abuses {
		want[a.name] = a
	}
	bad := map[string]int{}
	for r := range results {
		a := want[r.name]
		text := html.UnescapeString(r.body)
		if r.err != nil || r.status != a.status || !strings.Contains(text, a.says) {
			if bad[r.name]++; bad[r.name] == 1 {
				t.Errorf("%s: status %d, %v, want %d saying %q:\n%s", r.name, r.status, r.err, a.status, a.says, tail(text, 2000))
			}
		}
		if r.name == abuses[len(abuses)-1].name && !strings.Contains(text, "Une longue page. Une longue page.") {
			t.Errorf("%s: the text is not kept in the form", r.name)
		}
	}
	if peak-before > memBound {
		t.Errorf("the server's memory peaked at %d MiB (from %d MiB) under the oversized bodies", peak>>20, before>>20)
	} else {
		t.Logf("resident memory %d MiB, peak %d MiB under the oversized bodies", before>>20, peak>>20)
	}
	getOK(t, p, "/healthz")
}

// TestAbuseFloods: a flood of anonymous edits from one network is
// answered with the form again, the text kept, then with a 429 that says
// to wait, while an administrator still saves; a flood of subscription
// requests, by the web form and by mail, is cut short with a clear answer
// on the web and at most a few confirmation mails.
func TestAbuseFloods(t *testing.T) {
	p, admin := abuseServer(t)
	inst := p.instance()

	// Anonymous edits: a bot that neither waits nor answers the question.
	visitor := inst.Client(t)
	token := inst.CSRF(t, visitor, "/wiki/accueil/edit")
	const edits = 100
	statuses := map[int]int{}
	var mu sync.Mutex // guards statuses
	var wg sync.WaitGroup
	for i := range edits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			text := fmt.Sprintf("# Accueil\n\nPublicité numéro %d.\n", i)
			resp, err := visitor.PostForm(inst.URL+"/wiki/accueil/edit", url.Values{"csrf": {token}, "base": {"1"}, "text": {text}})
			if err != nil {
				t.Errorf("anonymous edit %d: %v", i, err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := html.UnescapeString(string(b))
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
			switch {
			case !strings.Contains(body, text):
				t.Errorf("anonymous edit %d: status %d, the text is not kept", i, resp.StatusCode)
			case resp.StatusCode == http.StatusTooManyRequests:
				if !strings.Contains(body, "Trop de modifications viennent de votre connexion") || resp.Header.Get("Retry-After") == "" {
					t.Errorf("anonymous edit %d: a 429 that does not say to wait:\n%s", i, tail(body, 2000))
				}
			case resp.StatusCode >= 500 || resp.StatusCode < 400:
				t.Errorf("anonymous edit %d: status %d", i, resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	// The per-network limit is 60 attempts per ten minutes (one more
	// every ten seconds).
	if n := statuses[http.StatusTooManyRequests]; n == 0 || n > edits-60 {
		t.Errorf("answers to %d anonymous edits: %v, want at most %d × 429 and at least one", edits, statuses, edits-60)
	}
	if _, body := inst.Get(t, visitor, "/wiki/accueil/raw"); strings.Contains(body, "Publicité") {
		t.Errorf("an anonymous edit was saved: %q", body)
	}
	// The administrator still saves, from the same network.
	resp, body := inst.Submit(t, admin, "/wiki/accueil/edit", "/wiki/accueil/edit", url.Values{"base": {"1"}, "text": {"# Accueil\n\nToujours là.\n"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the administrator's save during the flood: status %d\n%s", resp.StatusCode, tail(body, 2000))
	}

	// Subscriptions by the web form: five per network, then a 429 that
	// says so and keeps the address.
	sub := inst.Client(t)
	subToken := inst.CSRF(t, sub, "/lists/entraide/subscribe")
	subStatuses := map[int]int{}
	for i := range 20 {
		addr := fmt.Sprintf("inconnu%d@example.net", i)
		resp, body := inst.Post(t, sub, "/lists/entraide/subscribe", url.Values{"csrf": {subToken}, "addr": {addr}})
		subStatuses[resp.StatusCode]++
		body = html.UnescapeString(body)
		if resp.StatusCode == http.StatusTooManyRequests && (!strings.Contains(body, "Trop de demandes d’abonnement") || !strings.Contains(body, addr)) {
			t.Errorf("subscription %d: a 429 that does not explain or lost the address:\n%s", i, tail(body, 2000))
		}
	}
	if subStatuses[http.StatusOK] != 5 || subStatuses[http.StatusTooManyRequests] != 15 {
		t.Errorf("answers to 20 subscription requests: %v, want 5 × 200 and 15 × 429", subStatuses)
	}

	// Subscriptions by mail: 30 requests for one address ask it to
	// confirm three times at most.
	c, err := dialSMTP(p.smtp)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		msg := fmt.Sprintf("From: cible@example.net\r\nSubject: subscribe\r\nMessage-ID: <abonne-%d@example.net>\r\n\r\nsubscribe\r\n", i)
		if err := c.send("cible@example.net", []string{"entraide-subscribe@localhost"}, msg); err != nil {
			t.Fatalf("subscription request %d by mail: %v", i, err)
		}
	}
	c.close()
	bin := binary(t)
	waitFor(t, 2*time.Minute, func() bool {
		return strings.Contains(runCLI(t, bin, p.data, "", "doctor", "-no-dns"), " 0 waiting, 0 failing")
	}, func() string { return "the mail queue never emptied" })
	toTarget, toWeb := 0, 0
	for cp := range readOutbox(t, p.data) {
		switch {
		case cp.to == "cible@example.net":
			toTarget++
		case strings.HasPrefix(cp.to, "inconnu"):
			toWeb++
		}
	}
	if toTarget != 3 || toWeb != 5 {
		t.Errorf("confirmation mails: %d to the address asked for by mail 30 times (want 3), %d to the addresses asked for on the web (want 5)", toTarget, toWeb)
	}
}

// TestAbuseBigMessages: 30 clients at once send messages past the size
// limit (30 MiB each). The server reads them into a memory budget: those
// that get to the limit are refused for their size (552), the others,
// once the budget is spent, with a 451 that asks to try again later (how
// many of each depends on how the clients are scheduled); nothing is
// stored, memory stays bounded, and once they are gone a big message alone
// gets its 552 and mail is taken again.
func TestAbuseBigMessages(t *testing.T) {
	p, _ := abuseServer(t)
	resetPeak(t, p.pid())
	before, _ := procMem(t, p.pid())
	const n = 30
	line := strings.Repeat("a", 998) + "\r\n"
	// sendBig sends message i of 30 MiB and returns the server's answer.
	sendBig := func(i int) string {
		c, err := dialSMTP(p.smtp)
		if err != nil {
			return err.Error()
		}
		defer c.close()
		if _, err := c.cmd(250, "MAIL FROM:<m0@example.org>"); err != nil {
			return err.Error()
		}
		if _, err := c.cmd(250, "RCPT TO:<entraide@localhost>"); err != nil {
			return err.Error()
		}
		if _, err := c.cmd(354, "DATA"); err != nil {
			return err.Error()
		}
		w := bufio.NewWriterSize(c.conn, 64<<10)
		c.conn.SetDeadline(time.Now().Add(2 * time.Minute))
		fmt.Fprintf(w, "From: m0@example.org\r\nSubject: Gros %d\r\nMessage-ID: <gros-%d@example.org>\r\n\r\n", i, i)
		for range 30 << 10 {
			w.WriteString(line)
		}
		w.WriteString(".\r\n")
		if err := w.Flush(); err != nil {
			return err.Error()
		}
		_, msg, err := c.text.ReadResponse(250)
		if err != nil {
			return err.Error()
		}
		return "250 " + msg
	}
	replies := make(chan string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies <- sendBig(i)
		}()
	}
	getOK(t, p, "/healthz")
	wg.Wait()
	close(replies)
	_, peak := procMem(t, p.pid())
	counts := map[string]int{}
	for r := range replies {
		switch {
		case strings.HasPrefix(r, "552 ") && strings.Contains(r, "size"):
			counts["552"]++
		case strings.HasPrefix(r, "451 ") && strings.Contains(r, "try again later"):
			counts["451"]++
		default:
			t.Errorf("a message past the size limit: %q, want a 552 or a 451 that says why", r)
		}
	}
	if peak-before > memBound {
		t.Errorf("the server's memory peaked at %d MiB (from %d MiB) under %d messages of 30 MiB", peak>>20, before>>20, n)
	} else {
		t.Logf("resident memory %d MiB, peak %d MiB under %d messages of 30 MiB; answers %v", before>>20, peak>>20, n, counts)
	}
	if r := sendBig(n); !strings.HasPrefix(r, "552 ") || !strings.Contains(r, "size") {
		t.Errorf("a message past the size limit, alone: %q, want a 552 that says it is too big", r)
	}
	if export := runCLI(t, binary(t), p.data, "", "list", "export", "entraide"); strings.Contains(export, "Subject: Gros") {
		t.Error("a message past the size limit was stored")
	}
	c, err := dialSMTP(p.smtp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	if err := c.send("m0@example.org", []string{"entraide@localhost"}, "From: m0@example.org\r\nSubject: Petit\r\nMessage-ID: <petit@example.org>\r\n\r\nUn petit message.\r\n"); err != nil {
		t.Errorf("a small message after the big ones: %v", err)
	}
}
