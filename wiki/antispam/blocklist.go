package antispam

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds of a blocklist.
const (
	MaxBlocklistPatterns = 10000 // patterns kept; lines past them are reported
	MaxPatternBytes      = 1000  // longer lines are reported, not compiled
	chunkPatterns        = 200   // patterns per combined expression
	maxLiterals          = 16    // literals a pattern's prefilter may have
)

// BlocklistError is a line of a blocklist that is not used, and why.
type BlocklistError struct {
	Line    int    // 1-based
	Pattern string // the line, comment removed
	Err     string // what is wrong, in English (Go's regexp messages)
}

func (e BlocklistError) Error() string {
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Pattern, e.Err)
}

// pattern is a valid line of a blocklist.
type pattern struct {
	line     int
	src      string
	literals []string // folded; every match contains one of them; nil: unknown
}

// Blocklist is a compiled regular-expression blocklist. Its zero value and
// nil block nothing. It is safe for concurrent use.
type Blocklist struct {
	patterns []pattern         // every valid pattern, in order
	byPrefix map[[3]byte][]int // first three bytes of a literal -> the patterns that have it
	rest     []*regexp.Regexp  // the others, combined by chunks
	restIdx  [][]int           // the patterns each of rest combines
	Errors   []BlocklistError  // the lines that are not used
}

// ParseBlocklist reads a blocklist in the format DokuWiki's wordblock.conf
// and MediaWiki's SpamBlacklist share, so that public lists can be pasted
// in: one regular expression per line; "#" starts a comment that runs to
// the end of the line (so a pattern cannot contain "#", as in both); blank
// lines are ignored. Patterns use Go's RE2 syntax, which is PCRE's without
// backreferences and lookaround, and match case-insensitively anywhere in
// the text, "." matching newlines too (DokuWiki's "si" flags). A MediaWiki
// entry, a URL fragment such as `\bexample\.com\b`, thus matches that
// domain in any link, and in plain text too.
//
// Lines that do not compile, that are longer than MaxPatternBytes, that
// match the empty text (they would refuse every edit) or that come after
// MaxBlocklistPatterns patterns are left out and listed in Errors; the rest
// is used. ParseBlocklist never fails.
func ParseBlocklist(text string) *Blocklist {
	b := &Blocklist{}
	text = strings.TrimPrefix(text, "\ufeff")
	n := 0
	for line := range strings.Lines(text) {
		n++
		p := line
		if i := strings.IndexByte(p, '#'); i >= 0 {
			p = p[:i]
		}
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		bad := func(msg string) {
			shown := p
			if len(shown) > 200 {
				shown = strings.ToValidUTF8(shown[:200], "") + "…"
			}
			b.Errors = append(b.Errors, BlocklistError{Line: n, Pattern: strings.ToValidUTF8(shown, "\uFFFD"), Err: msg})
		}
		switch {
		case !utf8.ValidString(p):
			bad("not valid UTF-8")
			continue
		case len(p) > MaxPatternBytes:
			bad(fmt.Sprintf("longer than %d bytes", MaxPatternBytes))
			continue
		case len(b.patterns) >= MaxBlocklistPatterns:
			bad(fmt.Sprintf("more than %d patterns", MaxBlocklistPatterns))
			continue
		}
		re, err := syntax.Parse(p, syntax.Perl|syntax.FoldCase|syntax.DotNL)
		if err != nil {
			bad(syntaxMessage(err))
			continue
		}
		if c, err := regexp.Compile("(?is:" + p + ")"); err != nil {
			bad(syntaxMessage(err))
			continue
		} else if c.MatchString("") {
			bad("matches empty text, so every edit")
			continue
		}
		b.patterns = append(b.patterns, pattern{line: n, src: p, literals: requiredLiterals(re.Simplify())})
	}
	var rest []int
	b.byPrefix = map[[3]byte][]int{}
	for i, p := range b.patterns {
		if p.literals == nil {
			rest = append(rest, i)
			continue
		}
		for _, lit := range p.literals {
			k := [3]byte{lit[0], lit[1], lit[2]}
			if l := b.byPrefix[k]; len(l) == 0 || l[len(l)-1] != i {
				b.byPrefix[k] = append(l, i)
			}
		}
	}
	for len(rest) > 0 {
		k := min(chunkPatterns, len(rest))
		b.addChunk(rest[:k])
		rest = rest[k:]
	}
	return b
}

// addChunk combines the patterns idx into one expression, or, should the
// combination not compile, gives each its own.
func (b *Blocklist) addChunk(idx []int) {
	srcs := make([]string, len(idx))
	for i, j := range idx {
		srcs[i] = "(?:" + b.patterns[j].src + ")"
	}
	if re, err := regexp.Compile("(?is)" + strings.Join(srcs, "|")); err == nil {
		b.rest = append(b.rest, re)
		b.restIdx = append(b.restIdx, idx)
		return
	}
	for _, j := range idx {
		b.rest = append(b.rest, regexp.MustCompile("(?is:"+b.patterns[j].src+")"))
		b.restIdx = append(b.restIdx, []int{j})
	}
}

// syntaxMessage returns err's message without the "error parsing regexp: "
// that every one repeats.
func syntaxMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

// Len returns the number of patterns in use.
func (b *Blocklist) Len() int {
	if b == nil {
		return 0
	}
	return len(b.patterns)
}

// Match reports whether text matches a pattern of the list, and which: its
// line and source.
//
// Most patterns of public lists contain a literal (a domain, a word) that
// every match must contain: those are looked for first in the case-folded
// text, and a pattern is run only where its literal occurs, which keeps a
// list of thousands of lines fast. The others are run as combined
// expressions.
func (b *Blocklist) Match(text string) (line int, src string, ok bool) {
	if b == nil || len(b.patterns) == 0 || text == "" {
		return 0, "", false
	}
	if len(b.byPrefix) > 0 {
		if line, src, ok := b.matchFiltered(text); ok {
			return line, src, true
		}
	}
	for k, re := range b.rest {
		if !re.MatchString(text) {
			continue
		}
		idx := b.restIdx[k]
		if len(idx) > 1 {
			for _, i := range idx {
				if regexp.MustCompile("(?is:" + b.patterns[i].src + ")").MatchString(text) {
					return b.patterns[i].line, b.patterns[i].src, true
				}
			}
		}
		return b.patterns[idx[0]].line, b.patterns[idx[0]].src, true
	}
	return 0, "", false
}

// matchFiltered runs the patterns with literals whose literal occurs in
// text: one pass over the folded text finds the literals' first three
// bytes, then each candidate's literals are looked for in full, and only
// then is the pattern compiled and run. Compiling on a hit, rather than
// keeping thousands of compiled expressions, saves megabytes for a rare
// event.
func (b *Blocklist) matchFiltered(text string) (int, string, bool) {
	folded := foldString(text)
	var seen map[int]bool
	best := -1 // the first pattern of the list that matches
	for i := 0; i+3 <= len(folded); i++ {
		cands := b.byPrefix[[3]byte{folded[i], folded[i+1], folded[i+2]}]
		for _, c := range cands {
			if seen[c] || best >= 0 && c > best {
				continue
			}
			if seen == nil {
				seen = map[int]bool{}
			}
			seen[c] = true
			p := &b.patterns[c]
			hit := false
			for _, lit := range p.literals {
				if strings.Contains(folded, lit) {
					hit = true
					break
				}
			}
			if hit && regexp.MustCompile("(?is:"+p.src+")").MatchString(text) {
				best = c
			}
		}
	}
	if best < 0 {
		return 0, "", false
	}
	return b.patterns[best].line, b.patterns[best].src, true
}

// foldRune maps r to one rune of the runes that match it
// case-insensitively, as RE2 does, so that two strings equal under case
// folding fold to the same: the lower-case ASCII letter when the set has
// one ('K', 'k' and the Kelvin sign give 'k'), else the smallest rune.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			return unicode.ToLower(f)
		}
		m = min(m, f)
	}
	return m
}

// foldString folds every rune of s with foldRune.
func foldString(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return strings.Map(foldRune, s)
		}
	}
	return s
}

// requiredLiterals returns folded literals one of which every match of re
// contains, or nil when there is no such short set (or only literals too
// short to be worth looking for).
func requiredLiterals(re *syntax.Regexp) []string {
	lits := literalsOf(re)
	if len(lits) == 0 || len(lits) > maxLiterals {
		return nil
	}
	for _, l := range lits {
		if len(l) < 3 {
			return nil
		}
	}
	return lits
}

func literalsOf(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{foldString(string(re.Rune))}
	case syntax.OpCapture, syntax.OpPlus:
		return literalsOf(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return literalsOf(re.Sub[0])
		}
	case syntax.OpConcat:
		// The best of the parts' sets: the one whose shortest literal is
		// the longest.
		var best []string
		bestLen := 0
		for _, sub := range re.Sub {
			lits := literalsOf(sub)
			if len(lits) == 0 || len(lits) > maxLiterals {
				continue
			}
			short := len(lits[0])
			for _, l := range lits[1:] {
				short = min(short, len(l))
			}
			if short > bestLen {
				best, bestLen = lits, short
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			lits := literalsOf(sub)
			if len(lits) == 0 {
				return nil
			}
			all = append(all, lits...)
			if len(all) > maxLiterals {
				return nil
			}
		}
		return all
	}
	return nil
}
