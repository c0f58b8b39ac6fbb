package mailmsg

import (
	"strings"

	"golang.org/x/net/html"
)

// unflow undoes RFC 3676 format=flowed: a line that ends with a space is
// joined to the next one of the same quote depth; space-stuffing is
// removed; with delSp the trailing space of a flowed line goes too. The
// signature separator "-- " is never flowed.
func unflow(s string, delSp bool) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	var out strings.Builder
	out.Grow(len(s))
	para := false // inside a flowed paragraph
	paraDepth := 0
	for _, l := range lines {
		depth := 0
		for depth < len(l) && l[depth] == '>' {
			depth++
		}
		body := l[depth:]
		if strings.HasPrefix(body, " ") {
			body = body[1:] // space-stuffing, or the space after the quote marks
		}
		if para && depth != paraDepth {
			out.WriteByte('\n') // a quote depth change ends a paragraph
			para = false
		}
		if !para && depth > 0 {
			out.WriteString(strings.Repeat(">", depth) + " ")
		}
		flowed := strings.HasSuffix(body, " ") && body != "-- "
		if flowed && delSp {
			body = body[:len(body)-1]
		}
		out.WriteString(body)
		if flowed {
			para, paraDepth = true, depth
		} else {
			out.WriteByte('\n')
			para = false
		}
	}
	r := out.String()
	if !strings.HasSuffix(s, "\n") {
		r = strings.TrimSuffix(r, "\n")
	}
	return r
}

// HTMLText returns the readable text of an HTML document: tags removed,
// block elements (paragraphs, line breaks, list items, table rows,
// headings) turned into line breaks, entities decoded, the content of
// script, style and head left out, spaces collapsed outside <pre>, and the
// target of a link written after its text when they differ. It is for
// reading and indexing, not for display as HTML.
func HTMLText(doc string) string {
	z := html.NewTokenizer(strings.NewReader(doc))
	z.SetMaxBuf(maxBodyBytes)
	var b strings.Builder
	skip := 0 // inside script/style/head/title
	pre := 0
	var href []string // link targets of open <a> elements
	var linkText []int
	newline := func(n int) {
		s := b.String()
		// Count the newlines already at the end.
		have := 0
		for i := len(s) - 1; i >= 0 && (s[i] == '\n' || s[i] == ' '); i-- {
			if s[i] == '\n' {
				have++
			}
		}
		if len(s) == 0 {
			return
		}
		for ; have < n; have++ {
			b.WriteByte('\n')
		}
	}
	for b.Len() < maxBodyBytes {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidyText(b.String())
		case html.TextToken:
			if skip > 0 {
				continue
			}
			t := string(z.Text())
			if pre > 0 {
				b.WriteString(t)
				continue
			}
			t = strings.Join(strings.Fields(t), " ")
			if t == "" {
				if s := b.String(); len(s) > 0 && s[len(s)-1] != ' ' && s[len(s)-1] != '\n' {
					b.WriteByte(' ')
				}
				continue
			}
			if s := b.String(); len(s) > 0 && s[len(s)-1] != ' ' && s[len(s)-1] != '\n' && startsWithSpace(string(z.Raw())) {
				b.WriteByte(' ')
			}
			b.WriteString(t)
			if endsWithSpace(string(z.Raw())) {
				b.WriteByte(' ')
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			end := tt == html.EndTagToken
			switch tag {
			case "script", "style", "head", "title", "noscript", "template":
				if tt == html.StartTagToken {
					skip++
				} else if end && skip > 0 {
					skip--
				}
				continue
			}
			if skip > 0 {
				continue
			}
			switch tag {
			case "br":
				b.WriteByte('\n')
			case "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol", "dl", "hr", "section", "article", "header", "footer", "address", "center", "form", "fieldset":
				newline(2)
			case "tr", "dt", "dd", "caption":
				newline(1)
			case "li":
				newline(1)
				if !end {
					b.WriteString("- ")
				}
			case "td", "th":
				if !end {
					if s := b.String(); len(s) > 0 && s[len(s)-1] != '\n' {
						b.WriteString("\t")
					}
				}
			case "pre":
				newline(2)
				if tt == html.StartTagToken {
					pre++
				} else if end && pre > 0 {
					pre--
				}
			case "img":
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "alt" && len(v) > 0 {
						b.WriteString(strings.Join(strings.Fields(string(v)), " "))
					}
				}
			case "a":
				if tt == html.StartTagToken {
					target := ""
					for hasAttr {
						var k, v []byte
						k, v, hasAttr = z.TagAttr()
						if string(k) == "href" {
							target = strings.TrimSpace(string(v))
						}
					}
					href = append(href, target)
					linkText = append(linkText, b.Len())
				} else if end && len(href) > 0 {
					target := href[len(href)-1]
					start := linkText[len(linkText)-1]
					href, linkText = href[:len(href)-1], linkText[:len(linkText)-1]
					shown := ""
					if start <= b.Len() {
						shown = strings.TrimSpace(b.String()[start:])
					}
					t := strings.TrimPrefix(target, "mailto:")
					if (strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") || strings.HasPrefix(target, "mailto:")) &&
						shown != t && shown != target && strings.TrimSuffix(shown, "/") != strings.TrimSuffix(t, "/") {
						b.WriteString(" <" + target + ">")
					}
				}
			}
		}
	}
	return tidyText(cutUTF8(b.String(), maxBodyBytes))
}

func startsWithSpace(s string) bool {
	return s != "" && strings.ContainsRune(" \t\r\n", rune(s[0]))
}

func endsWithSpace(s string) bool {
	return s != "" && strings.ContainsRune(" \t\r\n", rune(s[len(s)-1]))
}

// tidyText trims spaces at the ends of lines, keeps at most one blank line
// in a row and trims the whole.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		l = strings.TrimLeft(l, " ")
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
