package mailinglist

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// confirmTTL is how long a confirmation link works.
const confirmTTL = 7 * 24 * time.Hour

// b32 encodes tokens that live in local parts and subjects: lower-case
// letters and digits only, so that case-folding MTAs and readers keep them.
var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// mac returns the HMAC-SHA256 of parts under the service's secret.
func (s *Service) mac(parts ...string) []byte {
	h := hmac.New(sha256.New, s.secret)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

// MemberToken returns the secret of the link by which a member manages
// their own subscription (and unsubscribes in one click). It is the list
// and the address, signed; it does not expire, and works as long as the
// address is a member.
func (s *Service) MemberToken(list, addr string) string {
	addr = strings.ToLower(addr)
	payload := base64.RawURLEncoding.EncodeToString([]byte(list + ":" + addr))
	return payload + "." + base64.RawURLEncoding.EncodeToString(s.mac("member", list, addr)[:18])
}

// parseMemberToken returns the list and address token names, checking its
// signature.
func (s *Service) parseMemberToken(token string) (list, addr string, err error) {
	payload, sig, ok := strings.Cut(strings.TrimSpace(token), ".")
	if !ok || len(token) > 1024 {
		return "", "", ErrBadToken
	}
	raw, err1 := base64.RawURLEncoding.DecodeString(payload)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return "", "", ErrBadToken
	}
	list, addr, ok = strings.Cut(string(raw), ":")
	if !ok || !hmac.Equal(got, s.mac("member", list, addr)[:18]) {
		return "", "", ErrBadToken
	}
	return list, addr, nil
}

// MemberFromToken returns the list and member a MemberToken names, or
// ErrBadToken.
func (s *Service) MemberFromToken(token string) (*List, *Member, error) {
	list, addr, err := s.parseMemberToken(token)
	if err != nil {
		return nil, nil, err
	}
	var l *List
	var m *Member
	err = s.cfg.DB.View(func(tx *bolt.Tx) (err error) {
		if l, err = getList(tx, list); err != nil {
			return err
		}
		m, err = getMember(tx, list, addr)
		return err
	})
	if errors.Is(err, ErrNotFound) || err == nil && m == nil {
		return nil, nil, ErrBadToken
	}
	if err != nil {
		return nil, nil, err
	}
	return l, m, nil
}

// verpToken returns the token of addr in the VERP bounce address of list:
// 16 lower-case characters, a signature that findVERP matches against the
// members.
func (s *Service) verpToken(list, addr string) string {
	return b32.EncodeToString(s.mac("verp", list, strings.ToLower(addr))[:10])
}

// findVERP returns the member of list whose VERP token is token, or nil.
func (s *Service) findVERP(tx *bolt.Tx, list, token string) (*Member, error) {
	b := sub(tx, bucketMembers, list)
	if b == nil || token == "" {
		return nil, nil
	}
	token = strings.ToLower(token)
	var found *Member
	err := b.ForEach(func(k, v []byte) error {
		if found != nil || s.verpToken(list, string(k)) != token {
			return nil
		}
		var m Member
		if err := json.Unmarshal(v, &m); err != nil {
			return err
		}
		found = &m
		return nil
	})
	return found, err
}

// confirmation is a pending subscription or unsubscription.
type confirmation struct {
	Kind    string // "subscribe" or "unsubscribe"
	List    string
	Addr    string
	Name    string
	Lang    string
	Expires time.Time
}

// newConfirmation stores c under a new random token in tx and returns the
// token.
func (s *Service) newConfirmation(tx *bolt.Tx, c confirmation) (string, error) {
	raw := make([]byte, 15)
	rand.Read(raw)
	token := b32.EncodeToString(raw)
	c.Expires = s.cfg.Now().Add(confirmTTL).UTC()
	return token, putJSON(tx.Bucket(bucketConfirm), []byte(token), &c)
}

// takeConfirmation returns and deletes the confirmation of token in tx, or
// ErrBadToken when there is none or it expired.
func (s *Service) takeConfirmation(tx *bolt.Tx, token string) (*confirmation, error) {
	token = strings.ToLower(strings.TrimSpace(token))
	if token == "" || len(token) > 64 {
		return nil, ErrBadToken
	}
	b := tx.Bucket(bucketConfirm)
	var c confirmation
	ok, err := getJSON(b, []byte(token), &c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrBadToken
	}
	if err := b.Delete([]byte(token)); err != nil {
		return nil, err
	}
	if s.cfg.Now().After(c.Expires) {
		return nil, ErrBadToken
	}
	return &c, nil
}

// expireConfirmations deletes the confirmations past their expiry.
func (s *Service) expireConfirmations() error {
	now := s.cfg.Now()
	return s.cfg.DB.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketConfirm)
		var old [][]byte
		if err := b.ForEach(func(k, v []byte) error {
			var c confirmation
			if json.Unmarshal(v, &c) != nil || now.After(c.Expires) {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// ErrTooMany is returned when an address was sent too many confirmation
// mails lately.
var ErrTooMany = errors.New("too many requests for this address; try again later")

// RequestSubscription sends addr the mail with the link that confirms a
// subscription to list, in lang; nothing changes until it is followed.
// A member already subscribed gets nothing, so that the answer tells a
// stranger nothing.
func (s *Service) RequestSubscription(ctx context.Context, list, addr, name, lang string) error {
	a, err := cleanAddr(addr)
	if err != nil {
		return err
	}
	if !s.confirmRate.Allow(list + " " + a) {
		return ErrTooMany
	}
	err = s.cfg.DB.Update(func(tx *bolt.Tx) error {
		return s.requestTx(tx, "subscribe", list, a, name, lang)
	})
	s.queue.Kick()
	return err
}

// requestTx stores a confirmation of kind for addr and queues the mail
// that asks for it, in tx; a subscription of a member or an
// unsubscription of a stranger sends nothing.
func (s *Service) requestTx(tx *bolt.Tx, kind, list, addr, name, lang string) error {
	l, err := getList(tx, list)
	if err != nil {
		return err
	}
	m, err := getMember(tx, list, addr)
	if err != nil {
		return err
	}
	if kind == "subscribe" && m != nil || kind == "unsubscribe" && m == nil {
		return nil
	}
	if lang == "" {
		lang = l.lang()
		if m != nil && m.Lang != "" {
			lang = m.Lang
		}
	}
	token, err := s.newConfirmation(tx, confirmation{Kind: kind, List: list, Addr: addr, Name: name, Lang: lang})
	if err != nil {
		return err
	}
	p := s.printer(lang)
	var subject, body string
	if kind == "subscribe" {
		subject = p.T("list.mail.confirm.subject", l.title(), token)
		body = p.T("list.mail.confirm.body", addr, l.title(), l.Address(), s.link(listPath(list, "confirm", token)), l.addr("-request"), token)
	} else {
		subject = p.T("list.mail.unsubconfirm.subject", l.title(), token)
		body = p.T("list.mail.unsubconfirm.body", addr, l.title(), l.Address(), l.addr("-request"), token)
	}
	return s.sendNotice(tx, l, addr, subject, body, "Reply-To: "+l.addr("-request"))
}

// ConfirmSubscription subscribes the address a confirmation token was
// sent to; ErrBadToken when it is invalid or expired.
func (s *Service) ConfirmSubscription(token string) (*List, *Member, error) {
	var l *List
	var m *Member
	err := s.cfg.DB.Update(func(tx *bolt.Tx) error {
		c, err := s.takeConfirmation(tx, token)
		if err != nil {
			return err
		}
		if c.Kind != "subscribe" {
			return ErrBadToken
		}
		l, m, err = s.applyConfirmation(tx, c)
		return err
	})
	s.queue.Kick()
	if err != nil {
		return nil, nil, err
	}
	return l, m, nil
}

// applyConfirmation does what c asked for in tx, with its welcome or
// goodbye notice.
func (s *Service) applyConfirmation(tx *bolt.Tx, c *confirmation) (*List, *Member, error) {
	l, err := getList(tx, c.List)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil, ErrBadToken
		}
		return nil, nil, err
	}
	m, err := getMember(tx, c.List, c.Addr)
	if err != nil {
		return nil, nil, err
	}
	switch c.Kind {
	case "subscribe":
		if m != nil {
			return l, m, nil
		}
		m = &Member{Addr: c.Addr, Name: c.Name, Lang: c.Lang}
		if err := s.addMemberTx(tx, c.List, m); err != nil {
			return nil, nil, err
		}
		return l, m, s.welcome(tx, l, m)
	case "unsubscribe":
		if m == nil {
			return l, &Member{Addr: c.Addr}, nil
		}
		if err := removeMemberTx(tx, c.List, c.Addr); err != nil {
			return nil, nil, err
		}
		return l, m, s.goodbye(tx, l, m)
	}
	return nil, nil, fmt.Errorf("confirmation of unknown kind %q: %w", c.Kind, ErrBadToken)
}

// Unsubscribe removes the member a MemberToken names, with a goodbye
// notice: the one-click unsubscription of RFC 8058 and of the mailto link.
func (s *Service) Unsubscribe(token string) (*List, *Member, error) {
	list, addr, err := s.parseMemberToken(token)
	if err != nil {
		return nil, nil, err
	}
	var l *List
	var m *Member
	err = s.cfg.DB.Update(func(tx *bolt.Tx) error {
		l, m, err = s.applyConfirmation(tx, &confirmation{Kind: "unsubscribe", List: list, Addr: addr})
		return err
	})
	s.queue.Kick()
	return l, m, err
}
