package search

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of a query.
const (
	// MaxQueryRunes is the longest query read; the rest is ignored.
	MaxQueryRunes = 500
	// MaxTerms is the most words, phrases and filters a query keeps.
	MaxTerms = 32
)

// Query is a search box's text, read: what to find and the filters typed
// in it.
type Query struct {
	Words    []string  // plain words, to be found all
	Phrases  []string  // "quoted phrases", to be found as such
	Excluded []string  // -words and -"phrases", to be absent
	Kinds    []string  // in:wiki, in:lists (as KindWiki, KindList)
	Lists    []string  // list:NAME
	Tags     []string  // tag:NAME
	From     []string  // from:NAME, the author's name
	After    time.Time // after:YYYY-MM-DD, from that day on (UTC)
	Before   time.Time // before:YYYY-MM-DD, up to that day included (UTC)
	Problems []string  // catalog keys of what could not be read
	Ignored  []string  // the filters with an unreadable value, as typed
	terms    int       // number of parts kept, for MaxTerms
}

// Problem keys of a Query.
const (
	ProblemTooLong  = "search.problem.too_long"  // the text was cut at MaxQueryRunes
	ProblemTooMany  = "search.problem.too_many"  // parts beyond MaxTerms were dropped
	ProblemBadDate  = "search.problem.bad_date"  // after: or before: is not a date
	ProblemBadKind  = "search.problem.bad_kind"  // in: is neither wiki nor lists
	ProblemBadRange = "search.problem.bad_range" // after is later than before
)

// Empty reports whether q asks for nothing: no words, phrases or filters.
func (q *Query) Empty() bool {
	return len(q.Words) == 0 && len(q.Phrases) == 0 && len(q.Excluded) == 0 &&
		len(q.Kinds) == 0 && len(q.Lists) == 0 && len(q.Tags) == 0 && len(q.From) == 0 &&
		q.After.IsZero() && q.Before.IsZero()
}

func (q *Query) problem(key string) {
	for _, p := range q.Problems {
		if p == key {
			return
		}
	}
	q.Problems = append(q.Problems, key)
}

// keep reports whether one more part fits in MaxTerms, and counts it.
func (q *Query) keep() bool {
	if q.terms >= MaxTerms {
		q.problem(ProblemTooMany)
		return false
	}
	q.terms++
	return true
}

// Clean makes s safe to read as a query: invalid UTF-8 replaced, control
// and format characters turned into spaces, cut at MaxQueryRunes. It
// reports whether s was cut.
func Clean(s string) (string, bool) {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	n := 0
	cut := false
	for _, r := range s {
		if n == MaxQueryRunes {
			cut = true
			break
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\uFFFD' {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return b.String(), cut
}

// ParseQuery reads a search box's text. It never fails: whatever cannot be
// read is taken as words or dropped, and Problems says what the person
// should know. The syntax:
//
//	word              the word must be found (every word must)
//	"a phrase"        the words in that order; an unclosed quote runs to the end
//	-word  -"phrase"  must not be found
//	in:wiki  in:lists only pages, only messages
//	list:NAME         messages of that list
//	tag:NAME          pages with that tag (tag:"two words" too)
//	from:NAME         by that author (from:"Clémence Dupont" too)
//	after:YYYY-MM-DD  before:YYYY-MM-DD   dates, both days included
//
// Any other "x:y" is words. A lone "-" or empty quotes are ignored.
func ParseQuery(s string) Query {
	var q Query
	s, cut := Clean(s)
	if cut {
		q.problem(ProblemTooLong)
	}
	for len(s) > 0 {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		if s == "" {
			break
		}
		neg := false
		if s[0] == '-' {
			neg = true
			s = s[1:]
		}
		if len(s) > 0 && s[0] == '"' {
			var phrase string
			phrase, s = readQuoted(s[1:])
			q.addPhrase(phrase, neg)
			continue
		}
		var tok string
		tok, s = readToken(s)
		if tok == "" {
			continue
		}
		if !neg {
			if key, val, ok := strings.Cut(tok, ":"); ok && isFilter(key) {
				if val == "" && strings.HasPrefix(s, `"`) {
					val, s = readQuoted(s[1:])
				}
				q.addFilter(strings.ToLower(key), val, tok)
				continue
			}
		}
		q.addWords(tok, neg)
	}
	if !q.After.IsZero() && !q.Before.IsZero() && q.After.After(q.Before) {
		q.problem(ProblemBadRange)
	}
	return q
}

// readToken reads up to the next space or quote. A filter's quoted value
// ("tag:" followed by a quote) is read by the caller.
func readToken(s string) (string, string) {
	end := strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '"' })
	if end < 0 {
		return s, ""
	}
	if end == 0 { // a quote inside a word: skip it
		return "", s[1:]
	}
	tok := s[:end]
	if s[end] == '"' && !strings.HasSuffix(tok, ":") {
		return tok, s[end+1:]
	}
	return tok, s[end:]
}

// readQuoted reads up to the closing quote, or to the end.
func readQuoted(s string) (string, string) {
	end := strings.IndexByte(s, '"')
	if end < 0 {
		return s, ""
	}
	return s[:end], s[end+1:]
}

func isFilter(key string) bool {
	switch strings.ToLower(key) {
	case "in", "list", "tag", "from", "after", "before":
		return true
	}
	return false
}

// hasWord reports whether s holds a letter or a digit.
func hasWord(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) >= 0
}

func (q *Query) addPhrase(p string, neg bool) {
	p = strings.Join(strings.Fields(p), " ")
	if !hasWord(p) || !q.keep() {
		return
	}
	if neg {
		q.Excluded = append(q.Excluded, p)
		return
	}
	if !strings.ContainsFunc(p, unicode.IsSpace) {
		q.Words = append(q.Words, p)
		return
	}
	q.Phrases = append(q.Phrases, p)
}

func (q *Query) addWords(tok string, neg bool) {
	tok = strings.Trim(tok, "-")
	if !hasWord(tok) || !q.keep() {
		return
	}
	if neg {
		q.Excluded = append(q.Excluded, tok)
		return
	}
	q.Words = append(q.Words, tok)
}

// addFilter adds filter key with value val; raw is the filter as typed.
func (q *Query) addFilter(key, val, raw string) {
	val = strings.Join(strings.Fields(val), " ")
	if val == "" {
		return
	}
	if !q.keep() {
		return
	}
	switch key {
	case "in":
		switch k := ParseKind(val); k {
		case "":
			q.problem(ProblemBadKind)
			q.Ignored = append(q.Ignored, raw)
		default:
			q.Kinds = appendNew(q.Kinds, k)
		}
	case "list":
		q.Lists = appendNew(q.Lists, strings.ToLower(val))
	case "tag":
		q.Tags = appendNew(q.Tags, val)
	case "from":
		q.From = appendNew(q.From, val)
	case "after", "before":
		t, ok := ParseDate(val)
		if !ok {
			q.problem(ProblemBadDate)
			q.Ignored = append(q.Ignored, raw)
			return
		}
		if key == "after" {
			q.After = t
		} else {
			q.Before = t
		}
	}
}

// ParseKind reads a kind as typed in in: or sent by the form: "wiki",
// "lists" (or "list", "messages"), in any case; "" if it is neither.
func ParseKind(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "wiki", "pages", "page":
		return KindWiki
	case "lists", "list", "messages", "listes", "liste":
		return KindList
	}
	return ""
}

// ParseDate reads YYYY-MM-DD (also YYYY-MM and YYYY, taken as their first
// day) as a UTC day.
func ParseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 10 || !utf8.ValidString(s) {
		return time.Time{}, false
	}
	for _, layout := range []string{"2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() < 1970 || t.Year() > 2199 {
				return time.Time{}, false
			}
			return t, true
		}
	}
	return time.Time{}, false
}

func appendNew(s []string, v string) []string {
	for _, x := range s {
		if strings.EqualFold(x, v) {
			return s
		}
	}
	return append(s, v)
}
