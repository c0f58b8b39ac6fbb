package wiki

import (
	"strings"
	"unicode"
	"unicode/utf8"

	udiff "github.com/aymanbagabas/go-udiff"
)

// merge3 merges the edits base → theirs and base → mine, line by line, with
// go-udiff's Merge. ok is false when the edits overlap; out is then "".
func merge3(base, theirs, mine string) (out string, ok bool) {
	if theirs == mine {
		return mine, true
	}
	x := udiff.Lines(base, theirs)
	y := udiff.Lines(base, mine)
	m, ok := udiff.Merge(x, y)
	if !ok {
		return "", false
	}
	out, err := udiff.Apply(base, m)
	if err != nil {
		return "", false
	}
	return out, true
}

// Kinds of diff lines.
const (
	opEqual = "equal"
	opDel   = "del"
	opIns   = "ins"
	opSkip  = "skip" // unchanged lines left out
)

// diffSpan is a piece of a changed line: changed or not.
type diffSpan struct {
	Text    string
	Changed bool
}

// diffLine is a line of a diff.
type diffLine struct {
	Op    string
	Old   int // line number in the old text; 0 when none
	New   int // line number in the new text; 0 when none
	Spans []diffSpan
	Skip  int // for opSkip: how many lines
}

// diffView is a diff as the pages show it.
type diffView struct {
	Lines     []diffLine
	Added     int
	Removed   int
	Identical bool
}

// splitLines splits s after each "\n".
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n")
}

// lineDiff returns the diff of a and b, line by line with three lines of
// context, and word by word inside lines that changed.
func lineDiff(a, b string) diffView {
	if !strings.HasSuffix(a, "\n") && a != "" {
		a += "\n"
	}
	if !strings.HasSuffix(b, "\n") && b != "" {
		b += "\n"
	}
	var all []diffLine
	oldN, newN := 1, 1
	pos := 0
	equal := func(text string) {
		for _, l := range splitLines(text) {
			all = append(all, diffLine{Op: opEqual, Old: oldN, New: newN, Spans: []diffSpan{{Text: strings.TrimSuffix(l, "\n")}}})
			oldN++
			newN++
		}
	}
	v := diffView{}
	for _, e := range udiff.Lines(a, b) {
		equal(a[pos:e.Start])
		dels := splitLines(a[e.Start:e.End])
		inss := splitLines(e.New)
		v.Removed += len(dels)
		v.Added += len(inss)
		var delLines, insLines []diffLine
		for i, l := range dels {
			var spans []diffSpan
			if i < len(inss) {
				spans, _ = wordDiff(strings.TrimSuffix(l, "\n"), strings.TrimSuffix(inss[i], "\n"))
			} else {
				spans = []diffSpan{{Text: strings.TrimSuffix(l, "\n"), Changed: true}}
			}
			delLines = append(delLines, diffLine{Op: opDel, Old: oldN, Spans: spans})
			oldN++
		}
		for i, l := range inss {
			var spans []diffSpan
			if i < len(dels) {
				_, spans = wordDiff(strings.TrimSuffix(dels[i], "\n"), strings.TrimSuffix(l, "\n"))
			} else {
				spans = []diffSpan{{Text: strings.TrimSuffix(l, "\n"), Changed: true}}
			}
			insLines = append(insLines, diffLine{Op: opIns, New: newN, Spans: spans})
			newN++
		}
		all = append(all, delLines...)
		all = append(all, insLines...)
		pos = e.End
	}
	equal(a[pos:])
	v.Identical = v.Added == 0 && v.Removed == 0
	// Keep three lines of context around changes.
	const ctx = 3
	keep := make([]bool, len(all))
	for i, l := range all {
		if l.Op != opEqual {
			for j := max(0, i-ctx); j <= min(len(all)-1, i+ctx); j++ {
				keep[j] = true
			}
		}
	}
	for i := 0; i < len(all); {
		if keep[i] {
			v.Lines = append(v.Lines, all[i])
			i++
			continue
		}
		j := i
		for j < len(all) && !keep[j] {
			j++
		}
		v.Lines = append(v.Lines, diffLine{Op: opSkip, Skip: j - i})
		i = j
	}
	return v
}

// tokens splits s into words, runs of spaces and single other characters.
func tokens(s string) []string {
	var out []string
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		class := func(r rune) int {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '\'' || r == '’':
				return 1
			case unicode.IsSpace(r):
				return 2
			}
			return 0
		}
		c := class(r)
		if c == 0 {
			out = append(out, s[:n])
			s = s[n:]
			continue
		}
		i := n
		for i < len(s) {
			r2, m := utf8.DecodeRuneInString(s[i:])
			if class(r2) != c {
				break
			}
			i += m
		}
		out = append(out, s[:i])
		s = s[i:]
	}
	return out
}

// wordDiff returns the spans of a and b, the words that changed marked: each
// token becomes one rune of a private-use plane, and go-udiff compares the
// two strings of runes.
func wordDiff(a, b string) (old, new []diffSpan) {
	ta, tb := tokens(a), tokens(b)
	ids := map[string]rune{}
	next := rune(0xF0000)
	encode := func(ts []string) (string, bool) {
		var sb strings.Builder
		for _, t := range ts {
			id, ok := ids[t]
			if !ok {
				if next > 0x10FFFD {
					return "", false
				}
				id = next
				ids[t] = id
				next++
				if next == 0xFFFFE {
					next = 0x100000
				}
			}
			sb.WriteRune(id)
		}
		return sb.String(), true
	}
	ea, ok1 := encode(ta)
	eb, ok2 := encode(tb)
	if !ok1 || !ok2 {
		return []diffSpan{{Text: a, Changed: true}}, []diffSpan{{Text: b, Changed: true}}
	}
	// Byte offsets in the encoded strings map to token indexes: every
	// rune there is 4 bytes long.
	add := func(spans []diffSpan, text string, changed bool) []diffSpan {
		if text == "" {
			return spans
		}
		if n := len(spans); n > 0 && spans[n-1].Changed == changed {
			spans[n-1].Text += text
			return spans
		}
		return append(spans, diffSpan{Text: text, Changed: changed})
	}
	join := func(ts []string, from, to int) string { return strings.Join(ts[from:to], "") }
	pa, pb := 0, 0
	for _, e := range udiff.Strings(ea, eb) {
		s, en := e.Start/4, e.End/4
		// Unchanged tokens before the edit, in both.
		k := s - pa
		old = add(old, join(ta, pa, s), false)
		new = add(new, join(tb, pb, pb+k), false)
		pb += k
		old = add(old, join(ta, s, en), true)
		nn := utf8.RuneCountInString(e.New)
		new = add(new, join(tb, pb, pb+nn), true)
		pa, pb = en, pb+nn
	}
	old = add(old, join(ta, pa, len(ta)), false)
	new = add(new, join(tb, pb, len(tb)), false)
	return old, new
}
