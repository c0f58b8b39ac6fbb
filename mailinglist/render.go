package mailinglist

import (
	"html/template"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Plain text in the archive's pages.
//
// A message's text is shown as it was written: its line breaks and
// indentation kept (the page's CSS says white-space: pre-wrap), every
// character escaped, and the http and https addresses in it made links
// (rel="nofollow ugc noopener"). Quoted lines (starting with ">") of a
// block of four or more are folded in a <details> element, which opens
// without JavaScript; shorter quotes stay in view, as context of the
// answer. The signature, after a "-- " line, is folded too. HTML-only
// mail is shown as the text mailmsg reads from it: nothing of its markup,
// images or styles reaches the page.

// textLabels are the words of the folded parts, in the reader's language.
type textLabels struct {
	Quote     func(n int) string // "12 quoted lines"
	Signature string
}

// urlRE matches an http or https address in text.
var urlRE = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"'\x60\x7f]+`)

// foldQuoteLines is the size from which a quoted block is folded.
const foldQuoteLines = 4

// renderText returns text as HTML: escaped, links made, quotes and
// signature folded; addresses obfuscated when obfuscate.
func renderText(text string, obfuscate bool, labels textLabels) template.HTML {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.TrimRight(text, "\n\t ")
	lines := strings.Split(text, "\n")
	var sig []string
	for i, l := range lines {
		if l == "-- " || l == "--" && i > 0 && i >= len(lines)-15 {
			sig = lines[i+1:]
			lines = lines[:i]
			break
		}
	}
	var b strings.Builder
	b.Grow(len(text) + len(text)/4 + 128)
	b.WriteString(`<div class="mail-text">`)
	for i := 0; i < len(lines); {
		if !isQuoted(lines[i]) {
			j := i
			for j < len(lines) && !isQuoted(lines[j]) {
				j++
			}
			writeLines(&b, lines[i:j], obfuscate)
			i = j
			continue
		}
		j := i
		for j < len(lines) && isQuoted(lines[j]) {
			j++
		}
		if j-i >= foldQuoteLines {
			b.WriteString(`<details class="quote"><summary>`)
			b.WriteString(template.HTMLEscapeString(labels.Quote(j - i)))
			b.WriteString(`</summary><blockquote>`)
			writeLines(&b, lines[i:j], obfuscate)
			b.WriteString(`</blockquote></details>`)
		} else {
			b.WriteString(`<blockquote>`)
			writeLines(&b, lines[i:j], obfuscate)
			b.WriteString(`</blockquote>`)
		}
		i = j
	}
	if len(sig) > 0 {
		b.WriteString(`<details class="signature"><summary>`)
		b.WriteString(template.HTMLEscapeString(labels.Signature))
		b.WriteString(`</summary>`)
		writeLines(&b, append([]string{"-- "}, sig...), obfuscate)
		b.WriteString(`</details>`)
	}
	b.WriteString(`</div>`)
	return template.HTML(b.String())
}

// isQuoted reports whether line is quoted text.
func isQuoted(line string) bool {
	return strings.HasPrefix(strings.TrimLeft(line, " "), ">")
}

// writeLines writes lines as a <p> of escaped text with links.
func writeLines(b *strings.Builder, lines []string, obfuscate bool) {
	b.WriteString(`<p>`)
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		if obfuscate {
			l = obfuscateText(l)
		}
		b.WriteString(string(linkify(l)))
	}
	b.WriteString(`</p>`)
}

// linkify returns s escaped, its http and https addresses made links.
func linkify(s string) template.HTML {
	locs := urlRE.FindAllStringIndex(s, -1)
	if len(locs) == 0 {
		return template.HTML(template.HTMLEscapeString(s))
	}
	var b strings.Builder
	last := 0
	for _, loc := range locs {
		start, end := loc[0], loc[1]
		if start < last {
			continue
		}
		end = start + len(trimURL(s[start:end]))
		u := s[start:end]
		b.WriteString(template.HTMLEscapeString(s[last:start]))
		if p, err := url.Parse(u); err == nil && p.Host != "" && (strings.EqualFold(p.Scheme, "http") || strings.EqualFold(p.Scheme, "https")) {
			b.WriteString(`<a href="`)
			b.WriteString(template.HTMLEscapeString(u))
			b.WriteString(`" rel="nofollow ugc noopener">`)
			b.WriteString(template.HTMLEscapeString(u))
			b.WriteString(`</a>`)
		} else {
			b.WriteString(template.HTMLEscapeString(u))
		}
		last = end
	}
	b.WriteString(template.HTMLEscapeString(s[last:]))
	return template.HTML(b.String())
}

// trimURL drops the punctuation that ends a sentence rather than an
// address, and a closing bracket that opened before it.
func trimURL(u string) string {
	for len(u) > 0 {
		c := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?*", c) >= 0:
			u = u[:len(u)-1]
		case c == ')' && strings.Count(u, "(") < strings.Count(u, ")"),
			c == ']' && strings.Count(u, "[") < strings.Count(u, "]"),
			c == '}' && strings.Count(u, "{") < strings.Count(u, "}"):
			u = u[:len(u)-1]
		default:
			return u
		}
	}
	return u
}

// quoteLabel returns the words of a folded quote, for tests and the
// catalog-less paths.
func quoteLabel(n int) string { return strconv.Itoa(n) + " quoted lines" }
