package antispam

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"codeberg.org/placette/placette/internal/web"
)

// Purposes of the values the guard signs with the shell's secret.
const (
	signForm   = "wiki-antispam-form"
	signAnswer = "wiki-antispam-answer"
	signAddr   = "wiki-antispam-addr"
)

// AnswerCookie is the name of the cookie that remembers, for about
// AnswerTTL, that the browser answered a question correctly.
const AnswerCookie = "placette_wiki_ok"

// AnswerTTL is how long a correct answer is remembered.
const AnswerTTL = 30 * 24 * time.Hour

// tokenError is why a form token is refused: one of the reasons' keys.
type tokenError string

const (
	tokenOK      tokenError = ""
	tokenBad     tokenError = ReasonToken
	tokenTooFast tokenError = ReasonTooFast
	tokenTooOld  tokenError = ReasonTooOld
)

// signer signs and verifies values; *web.Shell is one.
type signer interface {
	Sign(purpose, value string) string
	Verify(purpose, value, sig string) bool
}

var _ signer = (*web.Shell)(nil)

// makeToken returns a form token issued at now for the page slug:
// "UNIXSECONDS.SIGNATURE", the signature covering the time and the slug.
func makeToken(s signer, slug string, now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	return ts + "." + s.Sign(signForm, ts+"\x00"+slug)
}

// checkToken judges a form token posted for slug at now: forged, for
// another page or malformed; sent sooner than min after the form was made;
// or later than max.
func checkToken(s signer, token, slug string, now time.Time, min, max time.Duration) tokenError {
	ts, sig, ok := strings.Cut(token, ".")
	if !ok || len(ts) == 0 || len(ts) > 12 || len(sig) > 100 {
		return tokenBad
	}
	issued, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || issued < 0 || !s.Verify(signForm, ts+"\x00"+slug, sig) {
		return tokenBad
	}
	age := now.Sub(time.Unix(issued, 0))
	switch {
	case age < min:
		return tokenTooFast
	case age > max:
		return tokenTooOld
	}
	return tokenOK
}

// answerCookie returns the value of the cookie remembering a correct
// answer until expires.
func answerCookie(s signer, expires time.Time) string {
	ts := strconv.FormatInt(expires.Unix(), 10)
	return ts + "." + s.Sign(signAnswer, ts)
}

// validAnswerCookie reports whether the answer cookie r carries is ours and
// not expired at now.
func validAnswerCookie(s signer, r *http.Request, now time.Time) bool {
	c, err := r.Cookie(AnswerCookie)
	if err != nil {
		return false
	}
	ts, sig, ok := strings.Cut(c.Value, ".")
	if !ok || len(ts) > 12 || len(sig) > 100 {
		return false
	}
	exp, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || !s.Verify(signAnswer, ts, sig) {
		return false
	}
	return now.Before(time.Unix(exp, 0))
}
