package search

import (
	"regexp"
	"strings"
)

// Patterns of StripMarkdown. They are linear-time (RE2).
var (
	reWikiLink  = regexp.MustCompile(`\[\[([^\]|\n]*)(?:\|([^\]\n]*))?\]\]`)
	reImage     = regexp.MustCompile(`!\[([^\]\n]*)\]\([^)\n]*\)`)
	reLink      = regexp.MustCompile(`\[([^\]\n]*)\]\([^)\n]*\)`)
	reRefLink   = regexp.MustCompile(`\[([^\]\n]*)\]\[[^\]\n]*\]`)
	reAutoLink  = regexp.MustCompile(`<((?:https?|mailto):[^>\s]*)>`)
	reHTMLTag   = regexp.MustCompile(`</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>\n]*)?/?>`)
	reEmphasis  = regexp.MustCompile(`(\*{1,3}|_{1,3}|~~)([^*_~\n]+)(\*{1,3}|_{1,3}|~~)`)
	reListMark  = regexp.MustCompile(`^\s*(?:[-*+]|\d{1,9}[.)])\s+(?:\[[ xX]\]\s+)?`)
	reHeading   = regexp.MustCompile(`^\s{0,3}#{1,6}\s*`)
	reRefDef    = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*\S+.*$`)
	reTableRule = regexp.MustCompile(`^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$`)
)

// StripMarkdown returns the words a reader sees in a markdown page, as
// plain text for the index: the values of the YAML front matter (its keys
// dropped), headings, list items and table cells without their marks,
// [text](url) and [[Page|label]] as their text, emphasis and inline code
// without their marks, HTML tags removed, and code blocks kept as text.
// It is a light stripper, not a markdown parser: odd constructions come out
// as they were written, which is harmless for searching.
func StripMarkdown(src string) string {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(src))
	lines := strings.Split(src, "\n")
	i := 0
	if len(lines) > 0 && strings.TrimRight(lines[0], " \t") == "---" {
		for j := 1; j < len(lines); j++ {
			if t := strings.TrimRight(lines[j], " \t"); t == "---" || t == "..." {
				for _, l := range lines[1:j] {
					b.WriteString(frontMatterValue(l))
					b.WriteByte('\n')
				}
				i = j + 1
				break
			}
		}
	}
	fence := ""
	for _, l := range lines[i:] {
		t := strings.TrimSpace(l)
		if fence != "" {
			if strings.HasPrefix(t, fence) {
				fence = ""
				continue
			}
			b.WriteString(l)
			b.WriteByte('\n')
			continue
		}
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fence = t[:3]
			continue
		}
		if reRefDef.MatchString(l) || reTableRule.MatchString(l) || isRule(t) {
			continue
		}
		l = reHeading.ReplaceAllString(l, "")
		l = strings.TrimLeft(l, "> ")
		l = reListMark.ReplaceAllString(l, "")
		b.WriteString(stripInline(l))
		b.WriteByte('\n')
	}
	return strings.TrimSpace(b.String())
}

// stripInline removes the inline marks of one line.
func stripInline(l string) string {
	l = reWikiLink.ReplaceAllStringFunc(l, func(m string) string {
		sm := reWikiLink.FindStringSubmatch(m)
		if strings.TrimSpace(sm[2]) != "" {
			return sm[2]
		}
		return sm[1]
	})
	l = reImage.ReplaceAllString(l, "$1")
	l = reLink.ReplaceAllString(l, "$1")
	l = reRefLink.ReplaceAllString(l, "$1")
	l = reAutoLink.ReplaceAllString(l, "$1")
	l = reHTMLTag.ReplaceAllString(l, " ")
	for range 3 { // nested emphasis: ***a*** or **a _b_**
		l = reEmphasis.ReplaceAllString(l, "$2")
	}
	l = strings.ReplaceAll(l, "`", "")
	l = strings.ReplaceAll(l, "|", " ")
	return l
}

// frontMatterValue returns the value part of a front matter line: "tags:
// [a, b]" is "a, b"; "- item" is "item"; a line with a key and no value is
// empty.
func frontMatterValue(l string) string {
	t := strings.TrimSpace(l)
	if strings.HasPrefix(t, "#") {
		return ""
	}
	t = strings.TrimPrefix(t, "- ")
	if k, v, ok := strings.Cut(t, ":"); ok && !strings.ContainsAny(k, " \t\"'") && !strings.HasPrefix(v, "//") {
		t = v
	}
	t = strings.TrimSpace(t)
	t = strings.Trim(t, "[]")
	if t == "|" || t == ">" || t == "|-" || t == ">-" {
		return ""
	}
	return strings.NewReplacer(`"`, "", "'", "’").Replace(t)
}

// isRule reports whether t is a thematic break: ---, ***, ___.
func isRule(t string) bool {
	if len(t) < 3 {
		return false
	}
	c := t[0]
	if c != '-' && c != '*' && c != '_' {
		return false
	}
	n := 0
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case c:
			n++
		case ' ', '\t':
		default:
			return false
		}
	}
	return n >= 3
}
