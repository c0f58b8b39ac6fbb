package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SessionCookie is the name of the cookie that carries a login session.
const SessionCookie = "placette_session"

type session struct {
	Login   string    `json:"login"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

type userKey struct{}

// UserFrom returns the person logged in for the request whose context is
// ctx, or nil for an anonymous visitor.
func UserFrom(ctx context.Context) *User {
	u, _ := ctx.Value(userKey{}).(*User)
	return u
}

// WithUser returns ctx carrying u as the logged-in person, for tests and
// for handlers that act on behalf of someone.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

func sessionID(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// StartSession logs login in: it stores a new session and sets its cookie.
// A session the browser had before is ended, so that a session id known
// before login is worth nothing after it.
func (s *Shell) StartSession(w http.ResponseWriter, r *http.Request, login string) error {
	raw := make([]byte, 32)
	rand.Read(raw)
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now()
	v, err := json.Marshal(session{Login: login, Created: now, Expires: now.Add(s.cfg.SessionTTL)})
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketSessions))
		if c, err := r.Cookie(SessionCookie); err == nil {
			if err := b.Delete(sessionID(c.Value)); err != nil {
				return err
			}
		}
		return b.Put(sessionID(token), v)
	})
	if err != nil {
		return fmt.Errorf("start session for %q: %w", login, err)
	}
	http.SetCookie(w, s.cookie(SessionCookie, token, s.cfg.SessionTTL))
	return nil
}

// EndSession logs out the browser of r: its session is deleted and its
// cookie cleared.
func (s *Shell) EndSession(w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, s.cookie(SessionCookie, "", -1))
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketSessions)).Delete(sessionID(c.Value))
	})
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// EndSessionsOf ends every session of login, in every browser: after a
// password change or when the account is removed.
func (s *Shell) EndSessionsOf(login string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		return s.deleteSessions(tx, func(se *session) bool { return se.Login == login })
	})
	if err != nil {
		return fmt.Errorf("end sessions of %q: %w", login, err)
	}
	return nil
}

func (s *Shell) sweepSessions() error {
	now := s.now()
	return s.db.Update(func(tx *bolt.Tx) error {
		return s.deleteSessions(tx, func(se *session) bool { return !now.Before(se.Expires) })
	})
}

// deleteSessions deletes the sessions for which match is true, and those
// that cannot be read.
func (s *Shell) deleteSessions(tx *bolt.Tx, match func(*session) bool) error {
	c := tx.Bucket([]byte(bucketSessions)).Cursor()
	for k, v := c.First(); k != nil; {
		var se session
		if json.Unmarshal(v, &se) != nil || match(&se) {
			if err := c.Delete(); err != nil {
				return err
			}
			k, v = c.Seek(k)
			continue
		}
		k, v = c.Next()
	}
	return nil
}

// sessionUser returns the account of the session r carries, or nil.
func (s *Shell) sessionUser(w http.ResponseWriter, r *http.Request) *User {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil
	}
	box := s.users.Load()
	if box == nil {
		return nil
	}
	id := sessionID(c.Value)
	var se session
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bucketSessions)).Get(id)
		if v == nil {
			return errNoSession
		}
		return json.Unmarshal(v, &se)
	})
	now := s.now()
	if err != nil || !now.Before(se.Expires) {
		http.SetCookie(w, s.cookie(SessionCookie, "", -1))
		return nil
	}
	u, err := box.LookupUser(r.Context(), se.Login)
	if err != nil {
		s.logger.Error("look up session user", "login", se.Login, "error", err)
		return nil
	}
	if u == nil {
		http.SetCookie(w, s.cookie(SessionCookie, "", -1))
		return nil
	}
	// Sliding expiry, written at most once a day (or, for a TTL of less than
	// two days, once per half TTL) to spare the SD card.
	if se.Expires.Sub(now) < s.cfg.SessionTTL-min(24*time.Hour, s.cfg.SessionTTL/2) {
		switch err := s.extendSession(id, se, now); {
		case errors.Is(err, errNoSession):
			// Ended (logout elsewhere, password change) since it was read.
			http.SetCookie(w, s.cookie(SessionCookie, "", -1))
			return nil
		case err != nil:
			s.logger.Error("extend session", "error", err)
		default:
			http.SetCookie(w, s.cookie(SessionCookie, c.Value, s.cfg.SessionTTL))
		}
	}
	return u
}

// extendSession moves the expiry of session id to a full TTL from now. It
// returns errNoSession, and writes nothing, if the session was ended
// meanwhile: a session deleted by EndSessionsOf must not come back.
func (s *Shell) extendSession(id []byte, se session, now time.Time) error {
	se.Expires = now.Add(s.cfg.SessionTTL)
	v, err := json.Marshal(se)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	return s.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketSessions))
		if b.Get(id) == nil {
			return errNoSession
		}
		return b.Put(id, v)
	})
}

var errNoSession = errors.New("no such session")

// cookie makes a cookie with the shell's attributes: HttpOnly, SameSite=Lax,
// Secure under HTTPS. A negative maxAge deletes it.
func (s *Shell) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   s.cfg.Secure,
		SameSite: http.SameSiteLaxMode,
	}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge / time.Second)
	}
	return c
}
