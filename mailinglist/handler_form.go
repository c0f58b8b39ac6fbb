package mailinglist

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// fieldErrors maps the fields of a refused form to the catalog key saying
// what is wrong with each; the key "form" is about the form as a whole.
// Templates read it with index, which gives "" for a field without error.
type fieldErrors map[string]string

// maxAddress is the longest mail address (RFC 5321's path limit less the
// angle brackets).
const maxAddress = 254

// Limits of the free-text fields of the lists' forms, in bytes.
const (
	maxName        = 200  // a member's name, a list's title
	maxDescription = 2000 // a list's description
	maxReason      = 2000 // a moderator's reason for a rejection
)

// parseAddress returns the mail address a person typed in a form, trimmed
// and lower-cased (a member's key), or ErrBadAddress. It takes a bare
// address only: one "@", a local part without spaces, controls or the
// characters that delimit addresses in a header, and a domain of labels of
// letters, digits and hyphens separated by dots.
func parseAddress(s string) (string, error) {
	// Check the encoding first: ToLower turns invalid bytes into U+FFFD.
	if !utf8.ValidString(s) {
		return "", ErrBadAddress
	}
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > maxAddress {
		return "", ErrBadAddress
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 || domain == "" {
		return "", ErrBadAddress
	}
	for _, c := range local {
		if c <= ' ' || c == 0x7f || unicode.IsSpace(c) || !unicode.IsPrint(c) || strings.ContainsRune(`<>()[]\,;:"@`, c) {
			return "", ErrBadAddress
		}
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "", ErrBadAddress
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", ErrBadAddress
		}
		for _, c := range label {
			if c != '-' && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
				return "", ErrBadAddress
			}
		}
	}
	return s, nil
}

// checkText trims a free-text field and returns it with the catalog key of
// what is wrong with it ("" when nothing is): invalid UTF-8, or longer than
// max bytes. Line breaks are kept only when multiline.
func checkText(s string, max int, multiline bool) (string, string) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return strings.ToValidUTF8(s, "\uFFFD"), "form.error.encoding"
	}
	if len(s) > max {
		return s, "form.error.too_long"
	}
	if !multiline && strings.ContainsAny(s, "\r\n") {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s, ""
}

// keep returns what a person typed, as valid UTF-8, to show it again in a
// refused form.
func keep(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
