package mailinglist

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"

	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/mailinglist/mailmsg"
)

// feedEntries is how many messages a feed holds.
const feedEntries = 30

// feedTextBytes bounds the text of a feed's entry.
const feedTextBytes = 8 << 10

//go:embed archive.css
var archiveCSS []byte

// archiveCSSPath is the address of the archive's style sheet, with a hash
// of its content so that browsers may keep it.
var archiveCSSPath = func() string {
	sum := sha256.Sum256(archiveCSS)
	return "/lists/archive.css?v=" + hex.EncodeToString(sum[:6])
}()

// listFile serves /lists/{file}: /lists/NAME.atom, a list's feed, and
// /lists/archive.css, the archive's style sheet; /lists/NAME goes to the
// list's page.
func (s *Service) listFile(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	if file == "archive.css" {
		h := w.Header()
		h.Set("Content-Type", "text/css; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Write(archiveCSS)
		return
	}
	name, ok := strings.CutSuffix(file, ".atom")
	if !ok {
		if _, err := s.List(file); err != nil {
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, listPath(file), http.StatusMovedPermanently)
		return
	}
	r.SetPathValue("list", name)
	l, _, ok := s.archiveOf(w, r)
	if !ok {
		return
	}
	msgs, err := s.Latest(l.Name, feedEntries)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serveAtom(w, r, l, l.title(), listPath(l.Name), msgs)
}

// atomFeed is an Atom document (RFC 4287).
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomEntry struct {
	Title   string     `xml:"title"`
	ID      string     `xml:"id"`
	Updated string     `xml:"updated"`
	Author  atomAuthor `xml:"author"`
	Link    atomLink   `xml:"link"`
	Content atomText   `xml:"content"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

// serveAtom answers with the feed of msgs (newest first), titled title,
// whose page is path; addresses are obfuscated in a public list's feed.
func (s *Service) serveAtom(w http.ResponseWriter, r *http.Request, l *List, title, path string, msgs []Archived) {
	obfuscate := !l.Private
	feed := atomFeed{
		Title: title,
		ID:    s.link(path),
		Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: s.link(path)}, {Rel: "self", Href: s.link(r.URL.Path)}},
	}
	updated := time.Unix(0, 0).UTC()
	if l.Created.After(updated) {
		updated = l.Created
	}
	for _, a := range msgs {
		if a.Date.After(updated) {
			updated = a.Date
		}
		text := ""
		if msg, err := mailmsg.Parse(s.rawOf(l.Name, a.Seq)); err == nil {
			text = withoutQuotes(msg.Text)
		}
		if len(text) > feedTextBytes {
			text = strings.ToValidUTF8(text[:feedTextBytes], "") + "…"
		}
		subject := a.Subject
		if obfuscate {
			text, subject = obfuscateText(text), obfuscateText(subject)
		}
		link := s.link(messagePath(l.Name, a.MessageID))
		feed.Entries = append(feed.Entries, atomEntry{
			Title:   xmlText(subject),
			ID:      link,
			Updated: a.Date.UTC().Format(time.RFC3339),
			Author:  atomAuthor{Name: xmlText(displayName(a.FromName, a.FromAddr))},
			Link:    atomLink{Rel: "alternate", Type: "text/html", Href: link},
			Content: atomText{Type: "text", Text: xmlText(text)},
		})
	}
	feed.Updated = updated.UTC().Format(time.RFC3339)
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(feed); err != nil {
		s.fail(w, r, fmt.Errorf("feed of %s: %w", l.Name, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/atom+xml; charset=utf-8")
	if l.Private {
		h.Set("Cache-Control", "private, no-cache")
	}
	w.Write(buf.Bytes())
}

// xmlText returns s without the characters XML 1.0 cannot carry.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF {
			return r
		}
		return -1
	}, s)
}

// mboxMonth serves /lists/{list}/mbox/{yyyy-mm}: the month's messages as
// an mboxrd file, addresses obfuscated in a public archive.
func (s *Service) mboxMonth(w http.ResponseWriter, r *http.Request) {
	from, err := time.Parse("2006-01", r.PathValue("month"))
	if err != nil || from.Year() < 1970 {
		s.cfg.Shell.NotFound(w, r)
		return
	}
	l, rd, ok := s.archiveOf(w, r)
	if !ok {
		return
	}
	msgs, err := s.MessagesBetween(l.Name, from, from.AddDate(0, 1, 0), 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(msgs) == 0 {
		s.cfg.Shell.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/mbox")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.mbox"`, l.Name, from.Format("2006-01")))
	h.Set("X-Robots-Tag", "noindex")
	if l.Private {
		h.Set("Cache-Control", "private, no-cache")
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, a := range msgs {
		raw := s.rawOf(l.Name, a.Seq)
		if raw == nil {
			continue
		}
		if rd.Obfuscate {
			raw = obfuscateMIME(raw)
		}
		writeMboxMessage(bw, &a, raw, rd.Obfuscate)
	}
	bw.Flush()
}

// writeMboxMessage writes a and its raw bytes to w as one mboxrd message:
// a "From " line, the message with LF line endings and its "From " lines
// quoted, a blank line.
func writeMboxMessage(w *bufio.Writer, a *Archived, raw []byte, obfuscate bool) error {
	from := a.FromAddr
	if from == "" || strings.ContainsAny(from, " \t\r\n") {
		from = "MAILER-DAEMON"
	} else if obfuscate {
		from = obfuscateAddr(from, "...")
	}
	fmt.Fprintf(w, "From %s %s\n", from, a.Date.UTC().Format("Mon Jan _2 15:04:05 2006"))
	for line := range bytes.Lines(raw) {
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if mboxFromLine(line) {
			w.WriteByte('>')
		}
		w.Write(line)
		w.WriteByte('\n')
	}
	return w.WriteByte('\n')
}

// loginSentPage is the answer to a login link request.
type loginSentPage struct {
	List *List
	Addr string
}

// loginPage is the page of an emailed login link.
type loginPage struct {
	List  *List
	Token string
	Addr  string
}

// requestLogin handles the "send me a login link" form of a list's page.
// The answer is the same whether or not the address is a member's.
func (s *Service) requestLogin(w http.ResponseWriter, r *http.Request) {
	l, err := s.List(r.PathValue("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form := loginForm{Addr: keep(r.PostFormValue("addr"))}
	addr, err := parseAddress(r.PostFormValue("addr"))
	if err != nil {
		form.Errors = fieldErrors{"login_addr": "list.error.address"}
		s.showListPage(w, r, l, http.StatusBadRequest, form)
		return
	}
	if !s.web.byClient.Allow("login " + web.AddrKey(web.ClientAddr(r))) {
		w.Header().Set("Retry-After", "3600")
		form.Errors = fieldErrors{"login_addr": "list.login.error.too_many"}
		s.showListPage(w, r, l, http.StatusTooManyRequests, form)
		return
	}
	err = s.RequestLogin(l.Name, addr, s.cfg.Shell.Printer(r).Lang())
	if err == ErrTooMany {
		w.Header().Set("Retry-After", "3600")
		form.Errors = fieldErrors{"login_addr": "list.login.error.too_many"}
		s.showListPage(w, r, l, http.StatusTooManyRequests, form)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "login_sent.html", loginSentPage{List: l, Addr: addr})
}

// loginForm serves the page of an emailed login link: a button, so that
// mail scanners following the link log nobody in.
func (s *Service) loginLinkForm(w http.ResponseWriter, r *http.Request) {
	list, addr, err := s.parseLoginToken(r.PathValue("token"))
	if err != nil || list != r.PathValue("list") {
		s.linkInvalid(w, r, r.PathValue("list"))
		return
	}
	l, err := s.List(list)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "login.html", loginPage{List: l, Token: r.PathValue("token"), Addr: addr})
}

// login opens a member's session from an emailed link's page.
func (s *Service) login(w http.ResponseWriter, r *http.Request) {
	list, addr, err := s.parseLoginToken(r.PathValue("token"))
	if err != nil || list != r.PathValue("list") {
		s.linkInvalid(w, r, r.PathValue("list"))
		return
	}
	l, err := s.List(list)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.Member(list, addr); err != nil && !l.isModerator(addr) {
		s.linkInvalid(w, r, r.PathValue("list"))
		return
	}
	s.setSession(w, addr)
	web.Redirect(w, r, listPath(list))
}

// logout ends a member's session.
func (s *Service) logout(w http.ResponseWriter, r *http.Request) {
	s.setSession(w, "")
	web.Redirect(w, r, listPath(r.PathValue("list")))
}
