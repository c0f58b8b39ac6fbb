package search

import (
	"html"
	"html/template"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// snippetBytes is the length of a snippet, about two lines.
	snippetBytes = 240
	// scanBytes is how much of a text is searched for the words to mark.
	scanBytes = 16 << 10
)

// marks are the analyzed terms of a query, French and English, whose
// words are marked in titles and snippets.
type marks struct {
	fr, en   map[string]bool
	prefixes map[string]bool // the first two letters of every term, folded
}

func newMarks() *marks {
	return &marks{fr: map[string]bool{}, en: map[string]bool{}, prefixes: map[string]bool{}}
}

func (m *marks) add(en bool, ts []string) {
	set := m.fr
	if en {
		set = m.en
	}
	for _, t := range ts {
		set[t] = true
		m.prefixes[prefix2(t)] = true
	}
}

// prefix2 returns the first two runes of s, lower case and folded.
func prefix2(s string) string {
	var buf [8]byte
	p, _ := appendPrefix2(buf[:0], s)
	return string(p)
}

// appendPrefix2 appends the first two runes of s, lower case and folded,
// to b, and says how many bytes the first one took, without allocating
// (the highlighter asks for every word of the texts it marks).
func appendPrefix2(b []byte, s string) ([]byte, int) {
	first := 0
	n := 0
	for _, r := range s {
		if n == 2 {
			break
		}
		r = unicode.ToLower(r)
		if r < utf8.RuneSelf {
			b = append(b, byte(r))
		} else {
			b = append(b, foldRune(r)...)
		}
		if n == 0 {
			first = len(b)
		}
		n++
	}
	return b, first
}

// foldRune folds the accented letters of French (and a few more) to ASCII,
// as the analyzers' asciifolding does, for the quick test of prefix2.
func foldRune(r rune) string {
	switch r {
	case 'à', 'á', 'â', 'ã', 'ä', 'å':
		return "a"
	case 'ç':
		return "c"
	case 'è', 'é', 'ê', 'ë':
		return "e"
	case 'ì', 'í', 'î', 'ï':
		return "i"
	case 'ñ':
		return "n"
	case 'ò', 'ó', 'ô', 'õ', 'ö':
		return "o"
	case 'ù', 'ú', 'û', 'ü':
		return "u"
	case 'ý', 'ÿ':
		return "y"
	case 'œ':
		return "oe"
	case 'æ':
		return "ae"
	}
	return string(r)
}

// foldString returns s in lower case with its accents folded.
func foldString(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteString(foldRune(unicode.ToLower(r)))
	}
	return b.String()
}

// highlighter marks the words of a query in the texts of one result page.
type highlighter struct {
	an    analyzers
	m     *marks
	cache [2]map[string]bool // French, English: word -> whether it matches
}

func (i *Index) newHighlighter(m *marks) *highlighter {
	return &highlighter{an: i.an, m: m, cache: [2]map[string]bool{{}, {}}}
}

// matches reports whether word, analyzed as the document's language, is
// one of the query's terms.
func (h *highlighter) matches(word string, en bool) bool {
	if h.m == nil {
		return false
	}
	set, an, cache := h.m.fr, h.an.fr, h.cache[0]
	if en {
		set, an, cache = h.m.en, h.an.en, h.cache[1]
	}
	if len(set) == 0 {
		return false
	}
	var buf [8]byte
	p, first := appendPrefix2(buf[:0], word)
	if !h.m.prefixes[string(p)] && !h.m.prefixes[string(p[:first])] {
		return false
	}
	if v, ok := cache[word]; ok {
		return v
	}
	v := false
	for _, t := range an.Analyze([]byte(word)) {
		if set[string(t.Term)] {
			v = true
			break
		}
	}
	cache[word] = v
	return v
}

// eachWord calls fn with the byte offsets of each word of s: a run of
// letters, digits and combining marks.
func eachWord(s string, fn func(start, end int)) {
	start := -1
	for i, r := range s {
		var in bool
		if r < utf8.RuneSelf {
			in = 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
		} else {
			in = unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
		}
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			fn(start, i)
			start = -1
		}
	}
	if start >= 0 {
		fn(start, len(s))
	}
}

// mark returns text as escaped HTML with the query's words in <mark>.
// With max > 0, it returns an extract of about max bytes around the
// place with the most marked words, with "…" where it cuts the text.
func (h *highlighter) mark(text string, en bool, max int) template.HTML {
	scan := truncate(text, scanBytes)
	type span struct{ start, end int }
	var spans []span
	eachWord(scan, func(start, end int) {
		if h.matches(scan[start:end], en) {
			spans = append(spans, span{start, end})
		}
	})
	from, to := 0, len(text)
	if max > 0 && len(text) > max {
		// The window of max bytes holding the most marked words.
		best, bestStart := 0, 0
		j := 0
		for k := range spans {
			for spans[k].end-spans[j].start > max {
				j++
			}
			if n := k - j + 1; n > best {
				best, bestStart = n, spans[j].start
			}
		}
		from = 0
		if best > 0 && bestStart > max/4 {
			from = wordStart(text, bestStart-max/4)
		}
		to = wordEnd(text, min(len(text), from+max))
	}
	var b strings.Builder
	if from > 0 {
		b.WriteString("… ")
	}
	pos := from
	for _, s := range spans {
		if s.start < from || s.end > to {
			continue
		}
		b.WriteString(html.EscapeString(text[pos:s.start]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(text[s.start:s.end]))
		b.WriteString("</mark>")
		pos = s.end
	}
	b.WriteString(html.EscapeString(text[pos:to]))
	if to < len(text) {
		b.WriteString(" …")
	}
	return template.HTML(b.String()) // escaped above, piece by piece
}

// wordStart moves i forward to the start of the next word, unless i is at
// a word's start or within a few bytes of the start of s.
func wordStart(s string, i int) int {
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	for j := i; j < len(s) && j < i+40; {
		r, n := utf8.DecodeRuneInString(s[j:])
		if unicode.IsSpace(r) {
			return j + n
		}
		j += n
	}
	return i
}

// wordEnd moves i back to the end of the previous word, unless no space
// is near.
func wordEnd(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	for j := i; j > 0 && j > i-40; j-- {
		if s[j] == ' ' || s[j] == '\n' {
			return j
		}
	}
	return i
}
