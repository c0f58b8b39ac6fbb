package mailinglist

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/mailinglist/delivery"
	bolt "go.etcd.io/bbolt"
)

// heldNoticeEvery is how often at most a list's moderators are told of
// held mail.
const heldNoticeEvery = 15 * time.Minute

// printer returns the catalog printer of lang.
func (s *Service) printer(lang string) *web.Printer {
	return s.cfg.Shell.Catalog().Printer(lang)
}

// newMessageID returns a fresh Message-ID at domain, with angle brackets.
func newMessageID(domain string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return "<" + hex.EncodeToString(b) + "@" + domain + ">"
}

// encodeHeader returns v as a header value: as is when ASCII, else as
// RFC 2047 encoded words.
func encodeHeader(v string) string {
	v = strings.Map(noControl, v)
	return mime.QEncoding.Encode("utf-8", v)
}

// composeNotice returns a notice of list l to addr: plain UTF-8 text,
// Auto-Submitted, with CRLF line endings. extra are header fields
// ("Name: value") added as they are.
func (s *Service) composeNotice(l *List, to, subject, body string, extra ...string) []byte {
	var b bytes.Buffer
	from := mail.Address{Name: l.title(), Address: l.addr("-request")}
	h := []string{
		"From: " + from.String(),
		"To: <" + to + ">",
		"Subject: " + encodeHeader(subject),
		"Date: " + s.cfg.Now().Format(time.RFC1123Z),
		"Message-ID: " + newMessageID(l.Domain),
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: quoted-printable",
		"Auto-Submitted: auto-generated",
		"X-Loop: " + loopValue(l),
		"List-Id: " + listID(l),
	}
	h = append(h, extra...)
	for _, f := range h {
		b.WriteString(f)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body = strings.ReplaceAll(body, "\r\n", "\n")
	qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n")))
	qp.Close()
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// sendNotice queues, in tx, a notice of list l to addr with an empty
// envelope sender.
func (s *Service) sendNotice(tx *bolt.Tx, l *List, to, subject, body string, extra ...string) error {
	msg := s.composeNotice(l, to, subject, body, extra...)
	return s.queue.Enqueue(tx, msg, []delivery.Job{{From: "", To: to, Domain: l.Domain, Tag: l.Name}})
}

// memberLang returns the language of the notices to m.
func memberLang(l *List, m *Member) string {
	if m != nil && m.Lang != "" {
		return m.Lang
	}
	return l.lang()
}

// welcome queues the welcome notice of a new member.
func (s *Service) welcome(tx *bolt.Tx, l *List, m *Member) error {
	p := s.printer(memberLang(l, m))
	body := p.T("list.mail.welcome.body", l.title(), l.Address(), s.link(listPath(l.Name)),
		s.link(listPath(l.Name, "member", s.MemberToken(l.Name, m.Addr))))
	return s.sendNotice(tx, l, m.Addr, p.T("list.mail.welcome.subject", l.title()), body)
}

// goodbye queues the notice that tells a former member they left.
func (s *Service) goodbye(tx *bolt.Tx, l *List, m *Member) error {
	p := s.printer(memberLang(l, m))
	body := p.T("list.mail.goodbye.body", m.Addr, l.title(), s.link(listPath(l.Name, "subscribe")))
	return s.sendNotice(tx, l, m.Addr, p.T("list.mail.goodbye.subject", l.title()), body)
}

// toModerators queues a notice to each moderator of l.
func (s *Service) toModerators(tx *bolt.Tx, l *List, subjectKey, bodyKey string, args ...any) error {
	p := s.printer(l.lang())
	for _, mod := range l.moderators() {
		if err := s.sendNotice(tx, l, mod, p.T(subjectKey, l.title()), p.T(bodyKey, args...)); err != nil {
			return err
		}
	}
	return nil
}

// heldNoticeDue reports whether the moderators of list may be told of held
// mail now, and if so counts it.
func (s *Service) heldNoticeDue(list string) bool {
	s.noticeMu.Lock()
	defer s.noticeMu.Unlock()
	now := s.cfg.Now()
	if last, ok := s.heldNotice[list]; ok && now.Sub(last) < heldNoticeEvery && !now.Before(last) {
		return false
	}
	s.heldNotice[list] = now
	return true
}

// moderationURL returns the address of list's moderation page.
func (s *Service) moderationURL(list string) string {
	return s.link("/admin/moderation")
}
