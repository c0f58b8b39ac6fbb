package mailinglist

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"codeberg.org/placette/placette/internal/web"
	bolt "go.etcd.io/bbolt"
)

// Who reads a private archive.
//
// A private list's archive is readable by staff accounts (administrators
// and moderators of placette) and by the list's members and moderators,
// who log in by a link sent to their address: the list's page has a form
// that takes an address and, when it is a member's or a moderator's, mails
// a signed link that works for loginTTL. The link's page shows a button
// (mail scanners follow links, they do not press buttons); pressing it
// sets the member cookie: the address, an expiry and a signature under
// the lists' secret, HttpOnly, SameSite=Lax, Secure under HTTPS, for the
// /lists/ pages. The cookie names an address, not a list: it opens the
// archive of every list that address belongs to, checked at each request,
// so that a member who leaves loses access at once. Anyone else gets 404
// from every page of the archive (threads, months, messages, raw
// messages, attachments, feeds, mboxes), as if it had no messages.

// memberCookie is the name of the cookie of a member's session.
const memberCookie = "placette_member"

// loginTTL is how long an emailed login link works; sessionTTL how long
// the session it opens lasts.
const (
	loginTTL   = 24 * time.Hour
	sessionTTL = 30 * 24 * time.Hour
)

// readerOf is who reads a list's archive, and what they may do.
type readerOf struct {
	Addr      string // the member's address of the session; "" when none
	Member    bool   // Addr is a member of the list (or one of its moderators)
	Moderator bool   // Addr moderates the list, or a staff account reads it
	Staff     bool   // an administrator or moderator of placette
	Read      bool   // may read the archive
	Obfuscate bool   // addresses are hidden (a public archive)
}

// reader returns what the visitor of r may do with l's archive.
func (s *Service) reader(r *http.Request, l *List) readerOf {
	rd := readerOf{Staff: web.UserFrom(r.Context()).Staff(), Obfuscate: !l.Private}
	rd.Moderator = rd.Staff
	if addr := s.sessionAddr(r); addr != "" {
		rd.Addr = addr
		if l.isModerator(addr) {
			rd.Member, rd.Moderator = true, true
		} else {
			s.cfg.DB.View(func(tx *bolt.Tx) error {
				m, err := getMember(tx, l.Name, addr)
				rd.Member = err == nil && m != nil
				return nil
			})
		}
	}
	rd.Read = !l.Private || rd.Staff || rd.Member
	return rd
}

// loginToken returns the secret of the link that logs addr in, valid
// until exp.
func (s *Service) loginToken(list, addr string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	payload := base64.RawURLEncoding.EncodeToString([]byte(list + "\x00" + addr + "\x00" + e))
	return payload + "." + base64.RawURLEncoding.EncodeToString(s.mac("login", list, addr, e)[:18])
}

// parseLoginToken returns the list and address of a login token that is
// signed and not expired, or ErrBadToken.
func (s *Service) parseLoginToken(token string) (list, addr string, err error) {
	payload, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 1024 {
		return "", "", ErrBadToken
	}
	raw, err1 := base64.RawURLEncoding.DecodeString(payload)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	parts := strings.Split(string(raw), "\x00")
	if err1 != nil || err2 != nil || len(parts) != 3 {
		return "", "", ErrBadToken
	}
	if !hmac.Equal(got, s.mac("login", parts[0], parts[1], parts[2])[:18]) {
		return "", "", ErrBadToken
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || s.cfg.Now().Unix() > exp {
		return "", "", ErrBadToken
	}
	return parts[0], parts[1], nil
}

// sessionValue returns the member cookie's value for addr until exp.
func (s *Service) sessionValue(addr string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return base64.RawURLEncoding.EncodeToString([]byte(addr)) + "." + e + "." +
		base64.RawURLEncoding.EncodeToString(s.mac("session", addr, e)[:18])
}

// sessionAddr returns the address of r's member session, "" when it has
// none or it is forged or expired.
func (s *Service) sessionAddr(r *http.Request) string {
	c, err := r.Cookie(memberCookie)
	if err != nil || len(c.Value) > 1024 {
		return ""
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 {
		return ""
	}
	addr, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	sig, err2 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || !hmac.Equal(sig, s.mac("session", string(addr), parts[1])[:18]) {
		return ""
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || s.cfg.Now().Unix() > exp {
		return ""
	}
	return string(addr)
}

// setSession sets (or, with addr "", clears) the member cookie. Its path
// is the whole site: the search page reads it too.
func (s *Service) setSession(w http.ResponseWriter, addr string) {
	c := &http.Cookie{
		Name:     memberCookie,
		Path:     "/",
		HttpOnly: true,
		Secure:   s.cfg.Shell.Secure(),
		SameSite: http.SameSiteLaxMode,
	}
	if addr == "" {
		c.MaxAge = -1
	} else {
		exp := s.cfg.Now().Add(sessionTTL)
		c.Value = s.sessionValue(addr, exp)
		c.MaxAge = int(sessionTTL / time.Second)
	}
	http.SetCookie(w, c)
}

// RequestLogin mails addr a link that opens list's archive, when addr is
// one of its members or moderators; otherwise it does nothing, so that
// the answer tells a stranger nothing. lang is the notice's language ("" for
// the member's or the list's).
func (s *Service) RequestLogin(list, addr, lang string) error {
	a, err := cleanAddr(addr)
	if err != nil {
		return err
	}
	if !s.confirmRate.Allow("login " + list + " " + a) {
		return ErrTooMany
	}
	err = s.cfg.DB.Update(func(tx *bolt.Tx) error {
		l, err := getList(tx, list)
		if err != nil {
			return err
		}
		m, err := getMember(tx, list, a)
		if err != nil {
			return err
		}
		if m == nil && !l.isModerator(a) {
			return nil
		}
		if lang == "" {
			lang = memberLang(l, m)
		}
		p := s.printer(lang)
		link := s.link(listPath(list, "login", s.loginToken(list, a, s.cfg.Now().Add(loginTTL))))
		return s.sendNotice(tx, l, a, p.T("list.mail.login.subject", l.title()), p.T("list.mail.login.body", l.title(), link))
	})
	s.queue.Kick()
	return err
}

// ReadableLists returns the private lists whose archives the visitor of r
// may read through a member session (staff read every list: see
// web.User.Staff), for the search index's visibility. It reads the lists
// and memberships in one transaction.
func (s *Service) ReadableLists(r *http.Request) []string {
	addr := s.sessionAddr(r)
	if addr == "" {
		return nil
	}
	var out []string
	err := s.cfg.DB.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLists).ForEach(func(k, v []byte) error {
			var l List
			if err := json.Unmarshal(v, &l); err != nil {
				return fmt.Errorf("list %q: %w", k, err)
			}
			if !l.Private {
				return nil
			}
			if m, err := getMember(tx, l.Name, addr); l.isModerator(addr) || err == nil && m != nil {
				out = append(out, l.Name)
			}
			return nil
		})
	})
	if err != nil {
		s.logger.Error("read the lists a member may read", "error", err)
		return nil
	}
	return out
}
