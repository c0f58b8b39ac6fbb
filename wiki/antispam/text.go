package antispam

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// AddedText returns what new adds to old, for the blocklist: the lines of
// new that old does not have (as a multiset: a line repeated once more is
// added), and of those lines only the words (runs between white space)
// that appear nowhere in old, in their order, separated by one space. A
// word that was already in the page is not held against the writer who
// moves or repeats it, and a changed line is judged on the words that
// changed. Phrases whose words are all new keep their single spaces, so
// that a pattern of several words still matches them.
func AddedText(old, new string) string {
	if old == "" {
		return new
	}
	oldLines := map[string]int{}
	oldWords := map[string]struct{}{}
	for line := range strings.Lines(old) {
		line = strings.TrimRight(line, "\r\n")
		oldLines[line]++
		for _, w := range strings.Fields(line) {
			oldWords[w] = struct{}{}
		}
	}
	var b strings.Builder
	for line := range strings.Lines(new) {
		line = strings.TrimRight(line, "\r\n")
		if oldLines[line] > 0 {
			oldLines[line]--
			continue
		}
		start := b.Len()
		for _, w := range strings.Fields(line) {
			if _, ok := oldWords[w]; ok {
				continue
			}
			if b.Len() > start {
				b.WriteByte(' ')
			}
			b.WriteString(w)
		}
		if b.Len() > start {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// NewLinks returns the external links of new that old does not have, each
// once, in their order in new, normalised as ExtractLinks does.
func NewLinks(old, new string) []string {
	had := map[string]struct{}{}
	for _, l := range ExtractLinks(old) {
		had[l] = struct{}{}
	}
	var out []string
	for _, l := range ExtractLinks(new) {
		if _, ok := had[l]; ok {
			continue
		}
		had[l] = struct{}{}
		out = append(out, l)
	}
	return out
}

// ExtractLinks finds the links to other sites in a page's source, without
// parsing its markdown, so that it cannot be fooled by markup the renderer
// would understand differently: every "http:" or "https:" in any case
// (followed by any number of slashes or backslashes, as browsers accept),
// every "www." that starts a word, and every "//" that starts a link
// destination (after "(", "<", a quote or "="). Each link is returned as
// "//host/path", its host in lower case (user information dropped), the
// scheme left out so that http and https count as one link; trailing
// punctuation and an unbalanced ")" are not part of it. A link without a
// host is not counted. The result may contain duplicates.
//
// Scanning the text rather than asking the renderer for its external links
// keeps the guard independent of the renderer and errs on the side of
// counting: a URL in a code block counts too.
func ExtractLinks(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		start, needDot := -1, false
		switch c := s[i]; {
		case c == 'h' || c == 'H':
			if n := schemeLen(s[i:]); n > 0 {
				start = i + n
				for start < len(s) && (s[start] == '/' || s[start] == '\\') {
					start++
				}
			}
		case c == 'w' || c == 'W':
			if hasPrefixFold(s[i:], "www.") && (i == 0 || !isWordByte(s[i-1])) {
				start, needDot = i, true
			}
		case c == '/':
			if i > 0 && strings.IndexByte("(<\"'=", s[i-1]) >= 0 && strings.HasPrefix(s[i:], "//") {
				start, needDot = i+2, true
			}
		}
		if start < 0 {
			i++
			continue
		}
		link, end := readLink(s, start)
		if link != "" && (!needDot || strings.Contains(link[2:hostEnd(link)], ".")) {
			out = append(out, link)
		}
		if end <= i {
			end = i + 1
		}
		i = end
	}
	return out
}

// schemeLen returns the length of "http:" or "https:" (any case) at the
// start of s, or 0.
func schemeLen(s string) int {
	switch {
	case hasPrefixFold(s, "http:"):
		return 5
	case hasPrefixFold(s, "https:"):
		return 6
	}
	return 0
}

// hasPrefixFold reports whether s begins with prefix, ignoring ASCII case;
// prefix is lower case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

func isWordByte(c byte) bool {
	return c == '.' || c == '/' || c == '_' || c == '-' || c >= 0x80 ||
		'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isLinkEnd reports whether r ends a link.
func isLinkEnd(r rune) bool {
	return unicode.IsSpace(r) || r == utf8.RuneError || strings.ContainsRune("<>\"'`[]{}|^«»", r)
}

// readLink reads the link whose host starts at s[start], and returns it
// normalised ("" when it has no host) with the offset where it ends.
func readLink(s string, start int) (string, int) {
	end := start
	for end < len(s) {
		r, n := utf8.DecodeRuneInString(s[end:])
		if isLinkEnd(r) {
			break
		}
		end += n
	}
	raw := s[start:end]
	// Trailing punctuation belongs to the sentence, and a ")" to the
	// parenthesis around the link unless the link opened one.
	for raw != "" {
		last := raw[len(raw)-1]
		if strings.IndexByte(".,;:!?*_~", last) >= 0 {
			raw = raw[:len(raw)-1]
			continue
		}
		if last == ')' && strings.Count(raw, "(") < strings.Count(raw, ")") {
			raw = raw[:len(raw)-1]
			continue
		}
		break
	}
	hostLen := strings.IndexAny(raw, "/\\?#()")
	if hostLen < 0 {
		hostLen = len(raw)
	}
	host, rest := raw[:hostLen], raw[hostLen:]
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		host = host[at+1:]
	}
	host = strings.TrimRight(strings.ToLower(host), ".")
	if host == "" || strings.Trim(host, ".:") == "" {
		return "", start + len(raw)
	}
	return "//" + host + rest, start + len(raw)
}

// hostEnd returns the end of the host in a link made by readLink.
func hostEnd(link string) int {
	if i := strings.IndexAny(link[2:], "/\\?#()"); i >= 0 {
		return i + 2
	}
	return len(link)
}
