package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
)

// CSRFCookie is the name of the cookie a form's CSRF token is bound to.
const CSRFCookie = "placette_csrf"

// CSRFField is the name of the form field that carries the CSRF token.
const CSRFField = "csrf"

// csrfToken returns the token for the browser of r, setting the cookie it is
// bound to when there is none yet. The token is an HMAC of the cookie under
// the site's secret (a signed double-submit cookie): a page of another site
// can neither read it nor make one.
func (s *Shell) csrfToken(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(CSRFCookie)
	value := ""
	if err == nil && validCSRFCookie(c.Value) {
		value = c.Value
	} else {
		raw := make([]byte, 18)
		rand.Read(raw)
		value = base64.RawURLEncoding.EncodeToString(raw)
		http.SetCookie(w, s.cookie(CSRFCookie, value, 0))
		// Later renders of the same request reuse it.
		r.AddCookie(&http.Cookie{Name: CSRFCookie, Value: value})
	}
	return s.sign("csrf", value)
}

func validCSRFCookie(v string) bool {
	return len(v) == 24 && !strings.ContainsAny(v, " ;,")
}

// sign returns the HMAC of value under the site's secret for purpose.
func (s *Shell) sign(purpose, value string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Sign returns a signature of value for purpose under the site's secret,
// for handlers that hand out values they must recognise later (signed form
// timestamps, setup links).
func (s *Shell) Sign(purpose, value string) string { return s.sign("app:"+purpose, value) }

// Verify reports whether sig is Sign(purpose, value).
func (s *Shell) Verify(purpose, value, sig string) bool {
	return hmac.Equal([]byte(s.Sign(purpose, value)), []byte(sig))
}

var errCSRF = errors.New("missing or wrong CSRF token")

// checkCSRF checks the token of a state-changing request whose form has
// been parsed.
func (s *Shell) checkCSRF(r *http.Request) error {
	c, err := r.Cookie(CSRFCookie)
	if err != nil || !validCSRFCookie(c.Value) {
		return errCSRF
	}
	got := r.PostFormValue(CSRFField)
	if !hmac.Equal([]byte(got), []byte(s.sign("csrf", c.Value))) {
		return errCSRF
	}
	return nil
}
