package markup

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxSlug is the longest slug Slug returns, in bytes.
const maxSlug = 100

// folds are the letters that compatibility decomposition does not turn
// into ASCII, spelled the way French readers expect.
var folds = map[rune]string{
	'œ': "oe", 'æ': "ae", 'ß': "ss", 'ł': "l", 'ø': "o", 'đ': "d",
	'ð': "d", 'þ': "th", 'ı': "i", 'ħ': "h", 'ŀ': "l",
}

// Slug returns the slug of a title: lower case, accents folded, every run
// of other characters turned into "-", no "-" at either end, at most 100
// bytes (cut at a "-" when there is one to cut at). It is the only way
// placette turns a title into a URL path segment, so it never changes: a
// change would move every page. A title made only of characters that do
// not fold to ASCII letters or digits has the empty slug.
func Slug(title string) string {
	var b strings.Builder
	b.Grow(len(title))
	appendSlug(&b, title)
	return cutSlug(b.String())
}

// appendSlug writes the folded form of s to b, with "-" between words and
// no "-" at either end.
func appendSlug(b *strings.Builder, s string) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		// NFKD splits "é" into "e" and a combining accent (dropped below),
		// and also turns ligatures and width variants into plain letters.
		// Invalid bytes become U+FFFD first, a separator as before (the
		// normaliser leaves the letter after an invalid byte undecomposed).
		s = norm.NFKD.String(strings.ToValidUTF8(s, "\uFFFD"))
	}
	dash := false
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
		case 'A' <= r && r <= 'Z':
			r += 'a' - 'A'
		case r < utf8.RuneSelf:
			dash = b.Len() > 0
			continue
		case unicode.Is(unicode.Mn, r):
			continue // an accent: "e" + "́" is "e"
		default:
			lr := unicode.ToLower(r)
			if f, ok := folds[lr]; ok {
				if dash {
					b.WriteByte('-')
					dash = false
				}
				b.WriteString(f)
				continue
			}
			if 'a' <= lr && lr <= 'z' {
				r = lr
				break
			}
			dash = b.Len() > 0
			continue
		}
		if dash {
			b.WriteByte('-')
			dash = false
		}
		b.WriteRune(r)
	}
}

// cutSlug shortens s to maxSlug bytes, at the last "-" that keeps it
// short enough when there is one.
func cutSlug(s string) string {
	if len(s) <= maxSlug {
		return s
	}
	if i := strings.LastIndexByte(s[:maxSlug+1], '-'); i > 0 {
		return s[:i]
	}
	return s[:maxSlug]
}
