package mailinglist

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/net/html"
)

// testMsg writes a message for the archive.
type testMsg struct {
	ID, From, Subject, InReplyTo, References, Body, Extra string
	Date                                                  time.Time
}

func (m testMsg) raw() string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\n", m.From)
	fmt.Fprintf(&b, "To: entraide@example.org\r\n")
	fmt.Fprintf(&b, "Subject: %s\r\n", m.Subject)
	fmt.Fprintf(&b, "Date: %s\r\n", m.Date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s>\r\n", m.ID)
	if m.InReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: <%s>\r\n", m.InReplyTo)
	}
	if m.References != "" {
		fmt.Fprintf(&b, "References: %s\r\n", m.References)
	}
	b.WriteString(m.Extra)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(strings.ReplaceAll(m.Body, "\n", "\r\n"))
	b.WriteString("\r\n")
	return b.String()
}

// mbox joins messages as an mboxrd file.
func mbox(msgs ...testMsg) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "From x@y %s\n", m.Date.UTC().Format("Mon Jan _2 15:04:05 2006"))
		b.WriteString(strings.ReplaceAll(m.raw(), "\r\n", "\n"))
		b.WriteString("\n")
	}
	return b.String()
}

var day = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// sampleThread is a thread with quotes, a signature, links, addresses and
// an attachment, and a second thread the month before (the test site's
// clock says 14 March 2026: an imported date later than that is not
// believed).
func sampleThread() []testMsg {
	return []testMsg{
		{ID: "root@x", From: "Jean Dupont <jean.dupont@example.net>", Subject: "Atelier tablettes", Date: day,
			Body: "Bonjour,\n\nle programme est sur https://exemple.fr/atelier?id=3.\nÉcrivez à jean.dupont@example.net ou <script>alert(1)</script>.\n    indenté\n-- \nJean, médiathèque\njean.dupont@example.net"},
		{ID: "r1@x", From: "Ana <ana@example.org>", Subject: "Re: Atelier tablettes", Date: day.Add(time.Hour), InReplyTo: "root@x", References: "<root@x>",
			Body: "Merci !\n\n> Bonjour,\n>\n> le programme est sur https://exemple.fr/atelier?id=3.\n> Écrivez à jean.dupont@example.net\n> ligne 5\n\nJe viens."},
		{ID: "r2@x", From: "bob@example.org", Subject: "Re: Atelier tablettes", Date: day.Add(2 * time.Hour), InReplyTo: "r1@x", References: "<root@x> <r1@x>",
			Body: "> Je viens.\nMoi aussi."},
		{ID: "other@x", From: "Zoé <zoe@example.org>", Subject: "Autre sujet", Date: day.AddDate(0, -1, 0), Body: "Bonjour."},
	}
}

// attachmentMsg is a message with a PDF and an HTML file attached.
const attachmentMsg = "From: Zoé <zoe@example.org>\r\nSubject: Fichiers\r\nDate: Mon, 2 Mar 2026 12:00:00 +0000\r\nMessage-ID: <att@x>\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nVoici.\r\n" +
	"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"../../fiche zoe@example.org.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcfsj6IK\r\n" +
	"--b\r\nContent-Type: text/html\r\nContent-Disposition: attachment; filename=\"x.html\"\r\n\r\n<script>alert(1)</script> zoe.martin@example.org\r\n--b--\r\n"

// archiveSite is a test site with a public list "entraide" and a private
// list "secrete", each with the sample messages, and ana@example.org a
// member of both.
func archiveSite(t testing.TB) *testSite {
	t.Helper()
	s := newTestSite(t)
	for _, l := range []List{
		{Name: "entraide", Title: "Entraide", Policy: PolicyMembers},
		{Name: "secrete", Title: "Secrète", Policy: PolicyMembers, Private: true, Moderators: "karim@example.org"},
	} {
		if err := s.svc.CreateList(l); err != nil {
			t.Fatal(err)
		}
		if err := s.svc.AddMember(l.Name, Member{Addr: "ana@example.org", Name: "Ana"}); err != nil {
			t.Fatal(err)
		}
		in := mbox(sampleThread()...) + "From x@y Mon Mar  2 12:00:00 2026\n" + strings.ReplaceAll(attachmentMsg, "\r\n", "\n") + "\n"
		res, err := s.svc.Import(context.Background(), l.Name, strings.NewReader(in), nil)
		if err != nil || res.Added != 5 {
			t.Fatalf("import into %s: %+v, %v", l.Name, res, err)
		}
	}
	return s
}

// archiveURLs returns every page of list's archive, given its root
// thread.
func archiveURLs(t testing.TB, s *testSite, list string) []string {
	t.Helper()
	ths, _, err := s.svc.ThreadsPage(list, 0, 10)
	if err != nil || len(ths) == 0 {
		t.Fatalf("threads of %s: %v, %v", list, ths, err)
	}
	var root uint64
	for _, th := range ths {
		if th.Subject == "Atelier tablettes" {
			root = th.Root
		}
	}
	m := "/lists/" + list + "/m/"
	return []string{
		fmt.Sprintf("/lists/%s/t/%d", list, root),
		fmt.Sprintf("/lists/%s/t/%d.atom", list, root),
		"/lists/" + list + "/2026/03/",
		"/lists/" + list + "/2026/02/",
		"/lists/" + list + ".atom",
		"/lists/" + list + "/mbox/2026-03",
		m + "root@x", m + "r1@x", m + "root@x/raw",
		m + "att@x", m + "att@x/a/1", m + "att@x/a/2", m + "att@x/raw",
		m + "root@x/erase",
	}
}

// TestPrivateArchiveHidden tries every page of a private list's archive
// anonymously, as a logged-in account that is not staff, and with a forged
// member cookie: each is a 404, and the list's page shows no message and
// no count. Staff and a member who followed their emailed link read
// everything.
func TestPrivateArchiveHidden(t *testing.T) {
	s := archiveSite(t)
	urls := archiveURLs(t, s, "secrete")
	forged := s.client(t, "")
	u, _ := url.Parse(s.srv.URL + "/lists/")
	forged.Jar.SetCookies(u, []*http.Cookie{{Name: memberCookie, Value: "YW5hQGV4YW1wbGUub3Jn.99999999999.AAAAAAAAAAAAAAAAAAAAAAAA", Path: "/lists/"}})
	outsider := s.client(t, "")
	// A member's session of another list opens nothing here.
	if err := s.svc.AddMember("entraide", Member{Addr: "eve@example.org"}); err != nil {
		t.Fatal(err)
	}
	s.loginMember(t, outsider, "entraide", "eve@example.org")
	for _, who := range []struct {
		name string
		c    *http.Client
	}{{"anonymous", s.client(t, "")}, {"bob", s.client(t, "bob")}, {"forged cookie", forged}, {"member of another list", outsider}} {
		for _, p := range urls {
			t.Run(who.name+p, func(t *testing.T) {
				r := s.get(t, who.c, p, "en")
				if r.status != http.StatusNotFound {
					t.Errorf("status %d, want 404", r.status)
				}
				for _, secret := range []string{"tablettes", "Ana", "Jean", "jean.dupont"} {
					if strings.Contains(r.body, secret) {
						t.Errorf("the page shows %q:\n%s", secret, r.body)
					}
				}
			})
		}
		t.Run(who.name+"/list page", func(t *testing.T) {
			r := s.get(t, who.c, "/lists/secrete/", "en")
			if r.status != http.StatusOK || !strings.Contains(r.body, "Secrète") || !strings.Contains(r.body, `action="/lists/secrete/login"`) {
				t.Fatalf("status %d:\n%s", r.status, r.body)
			}
			for _, secret := range []string{"tablettes", "Autre sujet", "/t/", "repl", "2026", ".atom"} {
				if strings.Contains(r.body, secret) {
					t.Errorf("the private list's page shows %q", secret)
				}
			}
		})
	}
	t.Run("directory and home", func(t *testing.T) {
		r := s.get(t, s.client(t, ""), "/lists/", "en")
		if strings.Contains(r.body, "member") && strings.Count(r.body, " member") > 1 {
			t.Errorf("the directory counts a private list's members:\n%s", r.body)
		}
		items, err := s.svc.Recent(context.Background(), nil, 20)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if strings.Contains(it.URL, "secrete") {
				t.Errorf("recent threads show the private list: %+v", it)
			}
		}
	})

	member := s.client(t, "")
	s.loginMember(t, member, "secrete", "ana@example.org")
	moderator := s.client(t, "")
	s.loginMember(t, moderator, "secrete", "karim@example.org")
	for _, who := range []struct {
		name string
		c    *http.Client
	}{{"member", member}, {"list moderator", moderator}, {"staff", s.client(t, "mo")}} {
		for _, p := range urls {
			t.Run(who.name+p, func(t *testing.T) {
				r := s.get(t, who.c, p, "en")
				want := http.StatusOK
				if strings.HasSuffix(p, "/erase") && who.name == "member" {
					want = http.StatusForbidden
				}
				if r.status != want {
					t.Errorf("status %d, want %d", r.status, want)
				}
			})
		}
	}
	// A member who leaves loses access at once.
	if err := s.svc.RemoveMember("secrete", "ana@example.org"); err != nil {
		t.Fatal(err)
	}
	if r := s.get(t, member, urls[0], ""); r.status != http.StatusNotFound {
		t.Errorf("a former member reads the archive: %d", r.status)
	}
}

// loginMember follows the login link of addr for list in c, as a person
// would: the form on the list's page, then the link's button.
func (s *testSite) loginMember(t *testing.T, c *http.Client, list, addr string) {
	t.Helper()
	r := s.submit(t, c, "/lists/"+list+"/", "/lists/"+list+"/login", url.Values{"addr": {addr}})
	if r.status != http.StatusOK || !strings.Contains(r.body, addr) {
		t.Fatalf("ask for a login link: %d:\n%s", r.status, r.body)
	}
	// The link the mail carries.
	token := s.svc.loginToken(list, addr, s.svc.cfg.Now().Add(loginTTL))
	page := "/lists/" + list + "/login/" + token
	if r := s.get(t, c, page, ""); r.status != http.StatusOK {
		t.Fatalf("login link's page: %d", r.status)
	}
	r = s.submit(t, c, page, page, nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("log in: %d:\n%s", r.status, r.body)
	}
}

// TestLoginLinks checks the login links: expired, forged or of another
// list, they open nothing; the request page says the same for members and
// strangers.
func TestLoginLinks(t *testing.T) {
	s := archiveSite(t)
	c := s.client(t, "")
	member := s.submit(t, c, "/lists/secrete/", "/lists/secrete/login", url.Values{"addr": {"ana@example.org"}})
	stranger := s.submit(t, s.client(t, ""), "/lists/secrete/", "/lists/secrete/login", url.Values{"addr": {"zed@example.org"}})
	if member.status != stranger.status || strings.ReplaceAll(member.body, "ana@", "zed@") != stranger.body {
		t.Errorf("the answer tells a member from a stranger")
	}
	bad := s.submit(t, c, "/lists/secrete/", "/lists/secrete/login", url.Values{"addr": {"not an address"}})
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, `value="not an address"`) || !strings.Contains(bad.body, `id="err-login-addr"`) {
		t.Errorf("a bad address: %d:\n%s", bad.status, bad.body)
	}
	tokens := map[string]string{
		"expired":      s.svc.loginToken("secrete", "ana@example.org", s.svc.cfg.Now().Add(-time.Minute)),
		"other list":   s.svc.loginToken("entraide", "ana@example.org", s.svc.cfg.Now().Add(time.Hour)),
		"forged":       "c2VjcmV0ZQBhbmFAZXhhbXBsZS5vcmcAOTk5OTk5OTk5OTk.AAAAAAAAAAAAAAAAAAAAAAAA",
		"not a member": s.svc.loginToken("secrete", "zed@example.org", s.svc.cfg.Now().Add(time.Hour)),
	}
	for name, tok := range tokens {
		t.Run(name, func(t *testing.T) {
			c := s.client(t, "")
			page := "/lists/secrete/login/" + tok
			r := s.get(t, c, page, "")
			if name == "not a member" {
				r = s.submit(t, c, page, page, nil)
			}
			if r.status != http.StatusNotFound {
				t.Errorf("status %d, want 404", r.status)
			}
			if r := s.get(t, c, "/lists/secrete/2026/03/", ""); r.status != http.StatusNotFound {
				t.Errorf("the archive opened: %d", r.status)
			}
		})
	}
	stats, err := s.svc.QueueStats()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(stats) == "" {
		t.Error("no queue stats")
	}
}

var (
	scriptTag = regexp.MustCompile(`(?i)<script`)
	clearAddr = regexp.MustCompile(`[a-z]{2,}\.?[a-z]*@example\.(net|org)`)
)

// TestPublicArchive reads a public list's archive: every page answers,
// shows no address in clear (except the list's own), runs no script from a
// message, folds quotes and signatures, makes links, and serves
// attachments as downloads.
func TestPublicArchive(t *testing.T) {
	s := archiveSite(t)
	urls := archiveURLs(t, s, "entraide")
	c := s.client(t, "")
	for _, p := range append(urls[:len(urls)-1], "/lists/entraide/") {
		for _, lang := range []string{"fr", "en"} {
			t.Run(lang+p, func(t *testing.T) {
				r := s.get(t, c, p, lang)
				if r.status != http.StatusOK {
					t.Fatalf("status %d:\n%s", r.status, r.body)
				}
				body := strings.ReplaceAll(r.body, "entraide@example.org", "")
				body = strings.ReplaceAll(body, "entraide-subscribe@example.org", "")
				body = strings.ReplaceAll(body, "entraide-subscribe</code>@example.org", "")
				if m := clearAddr.FindString(body); m != "" {
					t.Errorf("address %q in clear", m)
				}
				if strings.Contains(r.header.Get("Content-Type"), "html") {
					if scriptTag.MatchString(r.body) {
						t.Error("a <script> in the page")
					}
					checkPage(t, r.body, lang)
				}
			})
		}
	}
	thread := s.get(t, c, urls[0], "en")
	for _, want := range []string{
		`<a href="https://exemple.fr/atelier?id=3" rel="nofollow ugc noopener">https://exemple.fr/atelier?id=3</a>.`,
		`<details class="quote"><summary>5 quoted lines</summary>`,
		`<details class="signature"><summary>Signature</summary>`,
		`&lt;script&gt;alert(1)&lt;/script&gt;`,
		`jea…@example.net`,
		"    indenté",
		`class="msg depth-1"`, `class="msg depth-2"`,
		`href="/lists/entraide/m/r1@x"`,
		"in reply to Ana",
	} {
		if !strings.Contains(thread.body, want) {
			t.Errorf("the thread page lacks %q", want)
		}
	}
	if strings.Contains(thread.body, "mailto:entraide@example.org?In-Reply-To") {
		t.Error("a reply link for an anonymous reader")
	}
	member := s.client(t, "")
	s.loginMember(t, member, "entraide", "ana@example.org")
	if r := s.get(t, member, urls[0], ""); !strings.Contains(r.body, `href="mailto:entraide@example.org?In-Reply-To=%3Croot%40x%3E&amp;subject=Re%3A%20Atelier%20tablettes"`) {
		t.Errorf("no reply link for a member:\n%s", r.body)
	}

	att := s.get(t, c, "/lists/entraide/m/att@x/a/1", "")
	if att.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(att.header.Get("Content-Disposition"), `attachment; filename="fiche zoe...@example.org.pdf"`) && !strings.HasPrefix(att.header.Get("Content-Disposition"), "attachment;") || att.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("PDF attachment: %v", att.header)
	}
	if strings.Contains(att.header.Get("Content-Disposition"), "/") {
		t.Errorf("a path in the file name: %s", att.header.Get("Content-Disposition"))
	}
	html := s.get(t, c, "/lists/entraide/m/att@x/a/2", "")
	if html.header.Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(html.header.Get("Content-Disposition"), "attachment;") {
		t.Errorf("HTML attachment: %v", html.header)
	}
	for _, p := range []string{"/lists/entraide/m/att@x/a/3", "/lists/entraide/m/att@x/a/0", "/lists/entraide/m/att@x/a/x", "/lists/entraide/m/nope@x", "/lists/entraide/t/999", "/lists/entraide/t/x", "/lists/entraide/2026/13/", "/lists/entraide/1999/01/", "/lists/entraide/mbox/2025-01", "/lists/nope.atom"} {
		if r := s.get(t, c, p, ""); r.status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, r.status)
		}
	}
	raw := s.get(t, c, "/lists/entraide/m/root@x/raw", "")
	if !strings.Contains(raw.body, "Message-ID: <root@x>") || strings.Contains(raw.body, "jean.dupont@") || !strings.Contains(raw.body, "jea...@example.net") || raw.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("raw message:\n%s", raw.body)
	}
	box := s.get(t, c, "/lists/entraide/mbox/2026-03", "")
	if box.header.Get("Content-Type") != "application/mbox" || strings.Count(box.body, "\nFrom ")+1 != 4 || strings.Contains(box.body, "jean.dupont@") {
		t.Errorf("month mbox (%v):\n%s", box.header, box.body)
	}
	feed := s.get(t, c, "/lists/entraide.atom", "")
	if !strings.Contains(feed.body, "<feed xmlns=\"http://www.w3.org/2005/Atom\">") || strings.Count(feed.body, "<entry>") != 5 || strings.Contains(feed.body, "jean.dupont@") {
		t.Errorf("feed:\n%s", feed.body)
	}
	if r := s.get(t, c, "/lists/entraide", ""); r.status != http.StatusMovedPermanently {
		t.Errorf("/lists/entraide: %d", r.status)
	}
	// A private archive shows addresses to its readers.
	if r := s.get(t, s.client(t, "alice"), "/lists/secrete/m/root@x/raw", ""); !strings.Contains(r.body, "jean.dupont@example.net") {
		t.Errorf("the raw message of a private list is obfuscated for staff")
	}
}

// TestErase removes a message and checks it is gone everywhere: thread,
// month, feeds, mbox, raw message and attachments answer without it, its
// permalink 410, a new import does not bring it back, and the index is told.
func TestErase(t *testing.T) {
	s := archiveSite(t)
	idx := &recIndexer{}
	s.svc.cfg.Indexer = idx
	urls := archiveURLs(t, s, "entraide")
	c := s.client(t, "")
	// Fill the cache of rendered bodies first.
	before := s.get(t, c, urls[0], "en")
	if !strings.Contains(before.body, "Merci") {
		t.Fatal("the thread lacks r1")
	}
	if r := s.submit(t, s.client(t, "bob"), "/lists/entraide/m/r1@x", "/lists/entraide/m/r1@x/erase", nil); r.status != http.StatusForbidden {
		t.Errorf("bob erases: %d", r.status)
	}
	mo := s.client(t, "mo")
	if r := s.get(t, mo, "/lists/entraide/m/r1@x/erase", "en"); r.status != http.StatusOK || !strings.Contains(r.body, `class="danger"`) {
		t.Fatalf("confirmation page: %d", r.status)
	}
	r := s.submit(t, mo, "/lists/entraide/m/r1@x/erase", "/lists/entraide/m/r1@x/erase", nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("erase: %d:\n%s", r.status, r.body)
	}
	for _, p := range []string{"/lists/entraide/m/r1@x", "/lists/entraide/m/r1@x/raw", "/lists/entraide/m/r1@x/a/1"} {
		if r := s.get(t, c, p, "en"); r.status != http.StatusGone || !strings.Contains(r.body, "removed") {
			t.Errorf("%s: status %d, want 410", p, r.status)
		}
	}
	for _, p := range urls[:6] {
		if r := s.get(t, c, p, "en"); strings.Contains(r.body, "Merci") || !strings.Contains(p, "mbox") && strings.Contains(r.body, "r1@x") {
			t.Errorf("%s still shows the erased message", p)
		}
	}
	after := s.get(t, c, urls[0], "en")
	if !strings.Contains(after.body, "Moi aussi") || !strings.Contains(after.body, "2 messages") {
		t.Errorf("the thread lost its other messages:\n%s", after.body)
	}
	if r := s.get(t, c, "/lists/entraide/", "en"); !strings.Contains(r.body, "1 reply") {
		t.Errorf("the list's page does not count one reply")
	}
	if ms, _ := s.svc.Months("entraide"); len(ms) != 2 || ms[1].Count != 3 {
		t.Errorf("months: %+v", ms)
	}
	res, err := s.svc.Import(context.Background(), "entraide", strings.NewReader(mbox(sampleThread()...)), nil)
	if err != nil || res.Added != 0 {
		t.Errorf("reimport: %+v, %v", res, err)
	}
	if _, _, err := s.svc.ArchivedMessage("entraide", "r1@x"); err == nil {
		t.Error("the erased message came back")
	}
	if idx.removed() != 1 {
		t.Errorf("the index was told of %d removals", idx.removed())
	}
	if r := s.submit(t, mo, "/lists/entraide/m/r2@x", "/lists/entraide/m/nope@x/erase", nil); r.status != http.StatusNotFound {
		t.Errorf("erase an unknown message: %d", r.status)
	}
}

// recIndexer records what the archive tells the index.
type recIndexer struct {
	mu   sync.Mutex // guards docs
	docs []*MessageDoc
}

func (x *recIndexer) MessageChanged(tx *bolt.Tx, list string, seq uint64, doc *MessageDoc) error {
	if !tx.Writable() {
		panic("MessageChanged outside a write transaction")
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.docs = append(x.docs, doc)
	return nil
}

func (x *recIndexer) removed() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for _, d := range x.docs {
		if d == nil {
			n++
		}
	}
	return n
}

// TestIndexerDocs checks what the index is given of imported messages.
func TestIndexerDocs(t *testing.T) {
	s := newTestSite(t)
	idx := &recIndexer{}
	s.svc.cfg.Indexer = idx
	if err := s.svc.CreateList(List{Name: "entraide", Policy: PolicyMembers, Private: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Import(context.Background(), "entraide", strings.NewReader(mbox(sampleThread()...)), nil); err != nil {
		t.Fatal(err)
	}
	if len(idx.docs) != 4 {
		t.Fatalf("%d docs", len(idx.docs))
	}
	d := idx.docs[1]
	if d.List != "entraide" || d.ID != "r1@x" || d.From != "Ana" || !d.Private || d.Thread != idx.docs[0].Seq || strings.Contains(d.Text, "programme") || !strings.Contains(d.Text, "Je viens") {
		t.Errorf("doc: %+v", d)
	}
	if strings.Contains(idx.docs[0].Text, "médiathèque") {
		t.Errorf("the signature is indexed: %q", idx.docs[0].Text)
	}
	n := len(idx.docs)
	l, _ := s.svc.List("entraide")
	l.Private = false
	if err := s.svc.UpdateList(*l); err != nil {
		t.Fatal(err)
	}
	if len(idx.docs) != n+4 || idx.docs[n].Private {
		t.Errorf("a list made public is not reindexed: %d docs", len(idx.docs)-n)
	}
	var all int
	if err := s.svc.MessageDocs(context.Background(), func(*MessageDoc) error { all++; return nil }); err != nil || all != 4 {
		t.Errorf("MessageDocs: %d, %v", all, err)
	}
	if err := s.svc.DeleteList("entraide"); err != nil {
		t.Fatal(err)
	}
	if idx.removed() != 4 {
		t.Errorf("a deleted list's messages stay in the index: %d removed", idx.removed())
	}
}

// TestRethreading checks replies that arrive before their parents are
// re-attached when the parents arrive, whatever the order, and that
// loops in References do not hang or lose messages.
func TestRethreading(t *testing.T) {
	a := testMsg{ID: "a@x", From: "A <a@x.org>", Subject: "Sujet", Date: day}
	b := testMsg{ID: "b@x", From: "B <b@x.org>", Subject: "Re: Sujet", Date: day.Add(time.Hour), InReplyTo: "a@x", References: "<a@x>"}
	c := testMsg{ID: "c@x", From: "C <c@x.org>", Subject: "Re: Sujet", Date: day.Add(2 * time.Hour), InReplyTo: "b@x", References: "<a@x> <b@x>"}
	d := testMsg{ID: "d@x", From: "D <d@x.org>", Subject: "Re: Sujet", Date: day.Add(3 * time.Hour), InReplyTo: "c@x", References: "<a@x> <b@x> <c@x>"}
	other := testMsg{ID: "o@x", From: "O <o@x.org>", Subject: "Autre", Date: day}
	orders := map[string][]testMsg{
		"in order":         {a, b, c, d, other},
		"reversed":         {d, c, b, a, other},
		"middle last":      {a, c, d, other, b},
		"root last":        {other, d, b, c, a},
		"leaf then parent": {c, a, d, b},
	}
	for name, msgs := range orders {
		t.Run(name, func(t *testing.T) {
			s := newTestSite(t)
			if err := s.svc.CreateList(List{Name: "l", Policy: PolicyMembers}); err != nil {
				t.Fatal(err)
			}
			// One message per import: each arrives in its own transaction.
			for _, m := range msgs {
				if _, err := s.svc.Import(context.Background(), "l", strings.NewReader(m.raw()), nil); err != nil {
					t.Fatal(err)
				}
			}
			parents := map[string]string{}
			threads := map[uint64]bool{}
			bySeq := map[uint64]string{}
			for _, id := range []string{"a@x", "b@x", "c@x", "d@x"} {
				m, _, err := s.svc.ArchivedMessage("l", id)
				if err != nil {
					t.Fatal(err)
				}
				bySeq[m.Seq] = id
				threads[m.Thread] = true
			}
			for _, id := range []string{"a@x", "b@x", "c@x", "d@x"} {
				m, _, _ := s.svc.ArchivedMessage("l", id)
				parents[id] = bySeq[m.Parent]
			}
			if len(threads) != 1 {
				t.Errorf("%d threads, want 1", len(threads))
			}
			want := map[string]string{"a@x": "", "b@x": "a@x", "c@x": "b@x", "d@x": "c@x"}
			if fmt.Sprint(parents) != fmt.Sprint(want) {
				t.Errorf("parents %v, want %v", parents, want)
			}
			ths, _, _ := s.svc.ThreadsPage("l", 0, 10)
			total := 0
			for _, th := range ths {
				total += th.Count
				if th.Subject == "Re: Sujet" {
					t.Errorf("the thread is named after a reply")
				}
			}
			if total != len(msgs) {
				t.Errorf("threads count %d messages, want %d: %+v", total, len(msgs), ths)
			}
			if r := s.get(t, s.client(t, ""), fmt.Sprintf("/lists/l/t/%d", ths[0].Root), ""); r.status != http.StatusOK {
				t.Errorf("thread page: %d", r.status)
			}
		})
	}
	t.Run("loop", func(t *testing.T) {
		s := newTestSite(t)
		if err := s.svc.CreateList(List{Name: "l", Policy: PolicyMembers}); err != nil {
			t.Fatal(err)
		}
		x := testMsg{ID: "x@x", From: "X <x@x.org>", Subject: "Boucle", Date: day, InReplyTo: "y@x", References: "<y@x> <x@x>"}
		y := testMsg{ID: "y@x", From: "Y <y@x.org>", Subject: "Re: Boucle", Date: day.Add(time.Hour), InReplyTo: "x@x", References: "<x@x> <y@x>"}
		z := testMsg{ID: "z@x", From: "Z <z@x.org>", Subject: "Re: Boucle", Date: day.Add(2 * time.Hour), InReplyTo: "z@x", References: "<z@x>"}
		for _, m := range []testMsg{x, y, z} {
			if _, err := s.svc.Import(context.Background(), "l", strings.NewReader(m.raw()), nil); err != nil {
				t.Fatal(err)
			}
		}
		ths, _, _ := s.svc.ThreadsPage("l", 0, 10)
		if len(ths) != 1 || ths[0].Count != 3 {
			t.Fatalf("threads: %+v", ths)
		}
		r := s.get(t, s.client(t, ""), fmt.Sprintf("/lists/l/t/%d", ths[0].Root), "")
		if r.status != http.StatusOK || strings.Count(r.body, `<article class="msg`) != 3 {
			t.Errorf("thread page: %d, %d messages", r.status, strings.Count(r.body, `<article class="msg`))
		}
	})
}

// TestImportPrivateStaysPrivate imports into a private list and, at every
// progress report of the import, tries its archive anonymously.
func TestImportPrivateStaysPrivate(t *testing.T) {
	s := newTestSite(t)
	if err := s.svc.CreateList(List{Name: "secrete", Policy: PolicyMembers, Private: true}); err != nil {
		t.Fatal(err)
	}
	var msgs []testMsg
	for i := range 1200 {
		msgs = append(msgs, testMsg{ID: fmt.Sprintf("m%d@x", i), From: "A <a@example.org>", Subject: fmt.Sprintf("Sujet %d", i%50), Date: day.Add(time.Duration(i) * time.Minute), Body: "Texte secret."})
	}
	c := s.client(t, "")
	checks := 0
	progress := writerFunc(func(p []byte) (int, error) {
		checks++
		for _, path := range []string{"/lists/secrete/", "/lists/secrete/t/1", "/lists/secrete/m/m1@x", "/lists/secrete/m/m1@x/raw", "/lists/secrete.atom", "/lists/secrete/mbox/2026-03", "/lists/secrete/2026/03/"} {
			r := s.get(t, c, path, "")
			if path != "/lists/secrete/" && r.status != http.StatusNotFound || strings.Contains(r.body, "Sujet") || strings.Contains(r.body, "secret.") {
				t.Errorf("mid-import, %s: %d", path, r.status)
			}
		}
		return len(p), nil
	})
	res, err := s.svc.Import(context.Background(), "secrete", strings.NewReader(mbox(msgs...)), progress)
	if err != nil || res.Added != 1200 {
		t.Fatalf("import: %+v, %v", res, err)
	}
	if checks < 3 {
		t.Errorf("%d progress reports, want one per batch", checks)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestExportRoundTrip imports a generated archive, exports it, imports the
// export into another list, and finds every Message-ID and the same raw
// bytes.
func TestExportRoundTrip(t *testing.T) {
	s := newTestSite(t)
	for _, n := range []string{"a", "b"} {
		if err := s.svc.CreateList(List{Name: n, Policy: PolicyMembers}); err != nil {
			t.Fatal(err)
		}
	}
	var msgs []testMsg
	for i := range 300 {
		m := testMsg{ID: fmt.Sprintf("m%d@x", i), From: fmt.Sprintf("P%d <p%d@example.org>", i%7, i%7), Subject: fmt.Sprintf("Sujet %d", i/10), Date: day.Add(time.Duration(i) * time.Hour),
			Body: "From the start\n>From quoted\n>>From twice\nFrom end."}
		if i%10 != 0 {
			m.Subject = "Re: " + m.Subject
			m.InReplyTo = fmt.Sprintf("m%d@x", i-1)
		}
		msgs = append(msgs, m)
	}
	if _, err := s.svc.Import(context.Background(), "a", strings.NewReader(mbox(msgs...)), nil); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if n, err := s.svc.Export(context.Background(), "a", &out); err != nil || n != 300 {
		t.Fatalf("export: %d, %v", n, err)
	}
	res, err := s.svc.Import(context.Background(), "b", &out, nil)
	if err != nil || res.Added != 300 || len(res.Broken) != 0 {
		t.Fatalf("import the export: %+v, %v", res, err)
	}
	for _, m := range msgs {
		_, ra, err1 := s.svc.ArchivedMessage("a", m.ID)
		_, rb, err2 := s.svc.ArchivedMessage("b", m.ID)
		if err1 != nil || err2 != nil || !bytes.Equal(ra, rb) {
			t.Fatalf("%s: %v %v, same bytes %v", m.ID, err1, err2, bytes.Equal(ra, rb))
		}
	}
	ths, _, _ := s.svc.ThreadsPage("b", 0, 100)
	if len(ths) != 30 {
		t.Errorf("%d threads after the round trip, want 30", len(ths))
	}
}

// TestCorpusArchive imports every message of the shared test data, one by
// one as .eml files would be, and reads every thread and message page:
// each answers 200 with parseable HTML and no script. The export,
// imported into another list, gives back the same raw bytes.
func TestCorpusArchive(t *testing.T) {
	s := newTestSite(t)
	for _, n := range []string{"corpus", "copie"} {
		if err := s.svc.CreateList(List{Name: n, Policy: PolicyMembers}); err != nil {
			t.Fatal(err)
		}
	}
	var files []string
	filepath.WalkDir(testdataMail, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains("README.md COPYRIGHT LICENSE", d.Name()) {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 100 {
		t.Skipf("only %d files in %s", len(files), testdataMail)
	}
	added := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.svc.Import(context.Background(), "corpus", bytes.NewReader(data), nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, b := range res.Broken {
			t.Logf("%s skipped: %s", filepath.Base(f), b)
		}
		added += res.Added
	}
	t.Logf("%d files, %d messages archived", len(files), added)
	c := s.client(t, "")
	ths, _, err := s.svc.ThreadsPage("corpus", 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	pages, seen := 0, 0
	for _, th := range ths {
		_, msgs, err := s.svc.Thread("corpus", th.Root)
		if err != nil {
			t.Fatal(err)
		}
		paths := []string{fmt.Sprintf("/lists/corpus/t/%d", th.Root)}
		for _, m := range msgs {
			seen++
			paths = append(paths, messagePath("corpus", m.MessageID), messagePath("corpus", m.MessageID)+"/raw")
		}
		for _, p := range paths {
			r := s.get(t, c, p, "fr")
			pages++
			if r.status != http.StatusOK {
				t.Errorf("%s: status %d", p, r.status)
				continue
			}
			if strings.HasSuffix(p, "/raw") {
				// A public list: no address in clear once every header
				// field and text part is decoded.
				if a := clearAddresses(decodedMessage(t, []byte(r.body))); len(a) > 0 {
					t.Errorf("%s: addresses in clear %q", p, a)
				}
				continue
			}
			if scriptTag.MatchString(r.body) {
				t.Errorf("%s: a <script> in the page", p)
			}
			if err := wellFormed(r.body); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		}
	}
	if seen != added {
		t.Errorf("threads hold %d messages, %d were archived", seen, added)
	}
	for _, p := range []string{"/lists/corpus/", "/lists/corpus.atom"} {
		if r := s.get(t, c, p, ""); r.status != http.StatusOK {
			t.Errorf("%s: %d", p, r.status)
		}
	}
	var out bytes.Buffer
	if _, err := s.svc.Export(context.Background(), "corpus", &out); err != nil {
		t.Fatal(err)
	}
	res, err := s.svc.Import(context.Background(), "copie", &out, nil)
	if err != nil || res.Added != added {
		t.Fatalf("reimport of the export: %+v, %v (want %d)", res, err, added)
	}
	s.svc.cfg.DB.View(func(tx *bolt.Tx) error {
		return sub(tx, bucketMsgIDs, "corpus").ForEach(func(k, v []byte) error {
			a := sub(tx, bucketRaw, "corpus").Get(v)
			v2 := sub(tx, bucketMsgIDs, "copie").Get(k)
			if v2 == nil {
				t.Errorf("%s lost by the round trip", k)
				return nil
			}
			if b := sub(tx, bucketRaw, "copie").Get(v2); !bytes.Equal(a, b) {
				t.Errorf("%s changed by the round trip", k)
			}
			return nil
		})
	})
}

// wellFormed checks that every element our templates open is closed in
// order, ignoring void elements: what a page's message bodies could break.
func wellFormed(page string) error {
	z := html.NewTokenizer(strings.NewReader(page))
	var stack []string
	void := map[string]bool{"br": true, "meta": true, "link": true, "input": true, "img": true, "hr": true}
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() == io.EOF {
				if len(stack) > 0 {
					return fmt.Errorf("unclosed %v", stack)
				}
				return nil
			}
			return z.Err()
		case html.StartTagToken:
			name, _ := z.TagName()
			if !void[string(name)] {
				stack = append(stack, string(name))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(stack) == 0 || stack[len(stack)-1] != string(name) {
				return fmt.Errorf("</%s> closes %v", name, stack)
			}
			stack = stack[:len(stack)-1]
		}
	}
}
