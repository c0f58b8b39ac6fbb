package mailmsg

import (
	"bytes"
	"io"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

// Charsets. A label is looked up as browsers do (the WHATWG Encoding
// Standard, through htmlindex): "iso-8859-1", "latin1" and "us-ascii" all
// mean windows-1252, which is a superset of ISO-8859-1 for every printable
// character and is what mail labelled Latin-1 really holds (curly quotes,
// the euro sign, "œ"). Labels that the WHATWG does not know are then looked
// up in the IANA registry (ianaindex.MIME, with and without the "cs"
// prefix).
//
// Text labelled UTF-8 or US-ASCII, or not labelled at all, is read as UTF-8
// where it is valid and each byte that is not valid UTF-8 is read as
// windows-1252: mislabelled Latin-1 mail keeps its accents, real UTF-8 is
// untouched. An unknown label is read the same way and noted in Problems.
//
// This package does not import github.com/emersion/go-message/charset: that
// package sets the global message.CharsetReader in its init function and
// maps iso-8859-1 to ISO-8859-1; the charset decoders here are passed
// explicitly instead, so that no global state is read or written.

// charsetKind tells how to decode a label.
type charsetKind int

const (
	kindUTF8    charsetKind = iota // UTF-8, invalid bytes as windows-1252
	kindEnc                        // a known encoding
	kindUnknown                    // unknown label: as kindUTF8, with a problem noted
)

// lookupCharset returns how to decode text labelled label.
func lookupCharset(label string) (charsetKind, encoding.Encoding) {
	l := strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	if i := strings.IndexByte(l, '*'); i >= 0 {
		l = l[:i] // RFC 2231 language: "utf-8*fr"
	}
	switch l {
	case "", "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "x-unknown", "unknown-8bit", "default", "unknown":
		return kindUTF8, nil
	case "x-user-defined":
		// WHATWG's x-user-defined maps high bytes to private-use
		// characters, which helps nobody reading mail.
		return kindUTF8, nil
	}
	if enc, err := htmlindex.Get(l); err == nil && enc != nil {
		if isUTF8(enc) {
			return kindUTF8, nil
		}
		return kindEnc, enc
	}
	if enc, err := ianaindex.MIME.Encoding(l); err == nil && enc != nil {
		if isUTF8(enc) {
			return kindUTF8, nil
		}
		return kindEnc, enc
	}
	if enc, err := ianaindex.MIME.Encoding("cs" + l); err == nil && enc != nil {
		return kindEnc, enc
	}
	return kindUnknown, nil
}

func isUTF8(enc encoding.Encoding) bool {
	name, err := htmlindex.Name(enc)
	return err == nil && name == "utf-8"
}

// knownCharset reports whether label names a charset this package decodes.
func knownCharset(label string) bool {
	k, _ := lookupCharset(label)
	return k != kindUnknown
}

// decodeCharset turns b, text labelled label, into valid UTF-8. known is
// false when the label is unknown (b was then read as UTF-8 with
// windows-1252 for invalid bytes).
func decodeCharset(label string, b []byte) (s string, known bool) {
	kind, enc := lookupCharset(label)
	if kind == kindEnc {
		out, err := enc.NewDecoder().Bytes(b)
		if err == nil {
			return toValidUTF8(out), true
		}
		return utf8OrCP1252(b), true
	}
	return utf8OrCP1252(b), kind != kindUnknown
}

// utf8OrCP1252 returns b as a string, valid sequences read as UTF-8 and
// every other byte read as windows-1252.
func utf8OrCP1252(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			sb.WriteRune(cp1252Rune(b[0]))
			b = b[1:]
			continue
		}
		sb.Write(b[:n])
		b = b[n:]
	}
	return sb.String()
}

// cp1252Rune decodes one windows-1252 byte.
func cp1252Rune(c byte) rune {
	if c < 0x80 {
		return rune(c)
	}
	r := charmap.Windows1252.DecodeByte(c)
	if r == utf8.RuneError {
		return '\uFFFD'
	}
	return r
}

// toValidUTF8 returns b as a string with invalid sequences replaced.
func toValidUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

// wordDecoder decodes RFC 2047 encoded words with this package's charsets.
// It keeps no state: one can be shared.
var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// charsetReader is a mime.WordDecoder CharsetReader that never fails: an
// unknown charset is read as UTF-8 with windows-1252 for invalid bytes.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	label = strings.TrimPrefix(label, wordPrefix)
	b, err := io.ReadAll(io.LimitReader(r, maxHeaderBytes))
	if err != nil {
		return nil, err
	}
	s, _ := decodeCharset(label, b)
	return strings.NewReader(s), nil
}

// DecodeHeader returns the value of a header field as readable UTF-8: RFC
// 2047 encoded words decoded (unknown or broken charsets read as UTF-8 with
// windows-1252 for the bytes that are not), raw 8-bit bytes read the same
// way, folding undone, control characters removed and spaces trimmed. It
// never fails: what cannot be decoded is kept as written.
func DecodeHeader(v string) string {
	v = utf8OrCP1252([]byte(v))
	if strings.Contains(v, "=?") {
		if d, err := wordDecoder.DecodeHeader(routeWords(v)); err == nil {
			// Words the decoder left alone get their charset back.
			v = strings.ReplaceAll(utf8OrCP1252([]byte(d)), "=?"+wordPrefix, "=?")
		}
	}
	return cleanText(v)
}

// cleanText unfolds a header value and removes control characters: CR and
// LF go, tabs become spaces, runs of spaces become one.
func cleanText(v string) string {
	var sb strings.Builder
	sb.Grow(len(v))
	space := false
	for _, r := range v {
		switch {
		case r == '\r' || r == '\n':
			continue
		case r == '\t' || r == ' ':
			if !space {
				sb.WriteByte(' ')
			}
			space = true
			continue
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' || r == '\uFEFF':
			continue
		}
		space = false
		sb.WriteRune(r)
	}
	return strings.TrimSpace(sb.String())
}

// wordPrefix is put before the charset of every encoded word, so that the
// mime package hands every charset to charsetReader (it would otherwise read
// iso-8859-1 as ISO-8859-1 and us-ascii as strict ASCII itself).
const wordPrefix = "x-mailmsg-"

// encodedWordStart matches the beginning of an RFC 2047 encoded word.
var encodedWordStart = regexp.MustCompile(`=\?([^?\s]{1,64})\?([bBqQ])\?`)

// routeWords prefixes the charset of every encoded word in v with
// wordPrefix.
func routeWords(v string) string {
	return encodedWordStart.ReplaceAllString(v, "=?"+wordPrefix+"$1?$2?")
}

// DecodeText turns b, text labelled with the charset label, into valid
// UTF-8 by the rules above. known is false when the label is unknown (b was
// then read as UTF-8 with windows-1252 for invalid bytes).
func DecodeText(label string, b []byte) (s string, known bool) {
	return decodeCharset(label, b)
}

// CharsetEncoding returns the encoding DecodeText reads text labelled label
// with, or nil when such text is read as UTF-8 (UTF-8 and US-ASCII labels,
// no label, unknown labels).
func CharsetEncoding(label string) encoding.Encoding {
	if kind, enc := lookupCharset(label); kind == kindEnc {
		return enc
	}
	return nil
}
