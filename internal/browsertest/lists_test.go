//go:build browser

package browsertest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/smtp"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/app/apptest"
	"github.com/chromedp/chromedp"
)

var words = strings.Fields("atelier médiation numérique tablette smartphone bibliothèque association bénévoles " +
	"inscription courriel imprimante réunion accompagnement démarches administratives jeunes " +
	"formation café rencontre quartier espace public logiciel libre sauvegarde")

// archive writes an mboxrd of n messages in threads: one thread of 56
// messages, the others of 1 to 8, spread over two years. It returns the
// Message-IDs and the id of the big thread's first message.
func archive(n int) (mbox []byte, ids []string, bigRoot string) {
	var b bytes.Buffer
	start := time.Date(2024, 1, 3, 9, 0, 0, 0, time.UTC)
	seq := 0
	for seq < n {
		size := 1 + seq%8
		if seq >= 1000 && bigRoot == "" {
			size = 56
		}
		if seq+size > n {
			size = n - seq
		}
		var refs []string
		subject := fmt.Sprintf("%s et %s, fil %d", words[seq%len(words)], words[(seq/3)%len(words)], seq)
		for i := 0; i < size; i++ {
			id := fmt.Sprintf("m%05d@bench.example", seq)
			ids = append(ids, id)
			date := start.Add(time.Duration(seq) * 47 * time.Minute)
			fmt.Fprintf(&b, "From membre%d@example.org %s\n", seq%300, date.Format(time.ANSIC))
			fmt.Fprintf(&b, "From: Membre %d <membre%d@example.org>\nTo: archives@localhost\n", seq%300, seq%300)
			subj := subject
			if i > 0 {
				subj = "Re: " + subject
			}
			fmt.Fprintf(&b, "Subject: %s\nDate: %s\nMessage-ID: <%s>\n", mimeWord(subj), date.Format(time.RFC1123Z), id)
			if i > 0 {
				fmt.Fprintf(&b, "In-Reply-To: <%s>\nReferences: %s\n", refs[len(refs)-1], "<"+strings.Join(refs, "> <")+">")
			} else if size == 56 {
				bigRoot = id
			}
			refs = append(refs, id)
			fmt.Fprintf(&b, "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n")
			fmt.Fprintf(&b, "Bonjour à toutes et à tous,\n\nPour le %s, voici ce que je propose : %s, %s et %s.\n", words[(seq+1)%len(words)], words[(seq+2)%len(words)], words[(seq+5)%len(words)], words[(seq+7)%len(words)])
			if i > 0 {
				b.WriteString("\n> Message précédent cité,\n> sur deux lignes.\n")
			}
			b.WriteString("\n-- \nMembre de l’association\n\n")
			seq++
		}
	}
	return b.Bytes(), ids, bigRoot
}

// mimeWord encodes s as one RFC 2047 word when it is not ASCII.
func mimeWord(s string) string {
	for _, r := range s {
		if r > 127 {
			return mime.BEncoding.Encode("utf-8", s)
		}
	}
	return s
}

// TestArchiveJourney: the 20,000-message archive reads well in a browser
// (list page, a month, a thread of 56 messages, a message, the feed); a
// private list shows nothing to an anonymous visitor and everything to a
// member who followed the link mailed to them; export gives back every
// Message-ID that was imported.
func TestArchiveJourney(t *testing.T) {
	inst := apptest.Start(t)
	inst.Call(t, nil, "list", "create", "archives", "-title", "Les archives de l’association")
	inst.Call(t, nil, "list", "create", "bureau", "-title", "Bureau", "-private")
	inst.Call(t, nil, "list", "members", "bureau", "add", "karim@example.org")

	mbox, ids, bigRoot := archive(20000)
	inst.Call(t, bytes.NewReader(mbox), "list", "import", "archives", "archives.mbox")
	inst.Call(t, strings.NewReader("From karim@example.org Mon Nov 23 10:00:00 2026\nFrom: Karim <karim@example.org>\nTo: bureau@localhost\nSubject: Budget du bureau\nMessage-ID: <bureau-1@example.org>\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n\nLe budget prévisionnel, strictement confidentiel.\n"),
		"list", "import", "bureau", "bureau.mbox")

	b := New(t)
	if status := b.Open(t, inst.URL+"/lists/archives/"); status != http.StatusOK {
		t.Fatalf("list page: status %d", status)
	}
	if h1 := b.Text(t, "h1"); h1 != "Les archives de l’association" {
		t.Errorf("list page heading %q", h1)
	}
	threads, _ := Get(t, b, chromedp.Evaluate[int](`document.querySelectorAll("ul.threads li").length`))
	if threads < 10 {
		t.Errorf("the list page shows %d threads", threads)
	}
	// A month.
	b.Load(t, chromedp.Click(chromedp.CSS(`ul.months a`)))
	if loc := b.Location(t); !regexp.MustCompile(`/lists/archives/\d{4}/\d{2}/$`).MatchString(loc) {
		t.Errorf("the month link led to %s", loc)
	}
	if !strings.Contains(b.Text(t, "main"), "Membre") {
		t.Errorf("the month page shows no message: %q", b.Text(t, "main"))
	}
	// The big thread, from its first message's permalink.
	if status := b.Open(t, inst.URL+"/lists/archives/m/"+bigRoot); status != http.StatusOK {
		t.Fatalf("permalink: status %d", status)
	}
	if h1 := b.Text(t, "h1"); !strings.Contains(h1, "fil 10") {
		t.Errorf("the message page's heading is %q", h1)
	}
	b.Load(t, chromedp.Click(chromedp.CSS(`p.crumbs a:last-child`)))
	n, _ := Get(t, b, chromedp.Evaluate[int](`document.querySelectorAll("article.msg").length`))
	if n != 56 {
		t.Errorf("the thread page shows %d messages, want 56", n)
	}
	body := b.Text(t, "main")
	if !strings.Contains(body, "Bonjour à toutes et à tous") {
		t.Errorf("the thread's text lost its accents: %q", body[:min(len(body), 300)])
	}
	if strings.Contains(body, "membre1@example.org") || strings.Contains(body, "@example.org") {
		t.Error("a public archive shows an address in clear")
	}
	// The feed.
	if status := b.Open(t, inst.URL+"/lists/archives.atom"); status != http.StatusOK {
		t.Errorf("feed: status %d", status)
	}

	// The private list, anonymously: nothing.
	b.Open(t, inst.URL+"/lists/bureau/")
	if main := b.Text(t, "main"); strings.Contains(main, "Budget") {
		t.Errorf("the private list shows its messages to an anonymous visitor: %q", main)
	}
	if status := b.Open(t, inst.URL+"/lists/bureau/m/bureau-1@example.org"); status != http.StatusNotFound {
		t.Errorf("private permalink, anonymous: status %d, want 404", status)
	}
	// Karim asks for a link, and follows it from his mail.
	b.Open(t, inst.URL+"/lists/bureau/")
	b.Run(t, chromedp.SendKeys(chromedp.CSS(`#login-addr`), "karim@example.org"))
	b.Submit(t, `#login-addr`)
	link := mailedLink(t, inst, "karim@example.org", regexp.MustCompile(`https?://[^\s]+/lists/bureau/login/[A-Za-z0-9_.\-]+`))
	b.Open(t, link)
	b.Submit(t, `main form button`)
	b.Open(t, inst.URL+"/lists/bureau/")
	if main := b.Text(t, "main"); !strings.Contains(main, "Budget du bureau") {
		t.Fatalf("the member does not see the private archive: %q", main)
	}
	b.Open(t, inst.URL+"/lists/bureau/m/bureau-1@example.org")
	if !strings.Contains(b.Text(t, "main"), "strictement confidentiel") {
		t.Error("the member cannot read the private message")
	}

	// Export: every Message-ID that went in comes out.
	out := inst.Call(t, nil, "list", "export", "archives")
	got := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Message-ID: <"); ok {
			got[strings.TrimSuffix(v, ">")] = true
		}
	}
	missing := 0
	for _, id := range ids {
		if !got[id] {
			missing++
		}
	}
	if missing != 0 || len(got) != len(ids) {
		t.Errorf("export: %d Message-IDs, %d of the %d imported missing", len(got), missing, len(ids))
	}
}

// mailedLink returns the first link matching re in the local outbox's
// mail to rcpt, waiting for it to be written.
func mailedLink(t *testing.T, inst *apptest.Instance, rcpt string, re *regexp.Regexp) string {
	t.Helper()
	m := waitMail(t, inst, rcpt, func(m sentMail) bool { return re.MatchString(m.Text) }, "a link matching "+re.String())
	return re.FindString(m.Text)
}

// sentMail is a message placette wrote to its local outbox (DATA/outbox,
// one file per message and recipient).
type sentMail struct {
	Header mail.Header
	Text   string // the body, its transfer encoding undone
}

// waitMail waits until inst's outbox holds a message to rcpt for which ok
// is true, and returns it; what says what is awaited, for the failure.
func waitMail(t *testing.T, inst *apptest.Instance, rcpt string, ok func(sentMail) bool, what string) sentMail {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(inst.DataDir, "outbox", "*.eml"))
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil || !bytes.Contains(raw, []byte("X-Envelope-To: <"+rcpt+">")) {
				continue
			}
			msg, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("outbox file %s: %v", f, err)
			}
			var body io.Reader = msg.Body
			if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
				body = quotedprintable.NewReader(body)
			}
			text, err := io.ReadAll(body)
			if err != nil {
				t.Fatalf("outbox file %s: %v", f, err)
			}
			if m := (sentMail{Header: msg.Header, Text: string(text)}); ok(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail to %s with %s in %d outbox files", rcpt, what, len(files))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// members returns the addresses subscribed to list, from the command line.
func members(t *testing.T, inst *apptest.Instance, list string) string {
	t.Helper()
	return inst.Call(t, nil, "list", "members", list, "export")
}

// post sends msg to rcpt through inst's SMTP listener, as a mail server
// would deliver it (no TLS on loopback).
func post(t *testing.T, inst *apptest.Instance, from, rcpt, msg string) {
	t.Helper()
	c, err := smtp.Dial(inst.Mail)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("mx.example.net"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(from); err != nil {
		t.Fatalf("MAIL FROM:<%s>: %v", from, err)
	}
	if err := c.Rcpt(rcpt); err != nil {
		t.Fatalf("RCPT TO:<%s>: %v", rcpt, err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, strings.ReplaceAll(msg, "\n", "\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("DATA: %v", err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
}
