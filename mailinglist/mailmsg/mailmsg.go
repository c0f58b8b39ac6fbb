// Package mailmsg reads the mail a list receives: it normalises line
// endings, parses the header and MIME structure with go-message (charsets
// included, iso-8859-1 read as windows-1252 as browsers do), tells
// auto-responders (RFC 3834) and loops apart, and reads bounces (RFC 3464
// delivery status notifications and the usual non-standard ones) and spam
// complaints (RFC 5965). It never fails on a broken header or an unknown
// charset: it falls back on the raw bytes.
//
// It implements, as a reader: RFC 5322 (message format, with the obsolete
// syntax), RFC 2045–2047 and RFC 2231 (MIME, encoded words and
// parameters), RFC 3676 (format=flowed), RFC 3834 (automatic responses),
// RFC 3464 and RFC 3462/6522 (delivery status notifications), RFC 5965
// (abuse reports) and RFC 2919 (List-Id).
//
// Everything is bounded: the header (256 KiB), the number of MIME parts
// (500), their nesting (20), the text and HTML bodies (1 MiB each).
// Attachments are only counted; Part gives their bytes on demand. Nothing
// here keeps state between calls, and every function is safe for
// concurrent use.
package mailmsg

import (
	"bytes"
	"errors"
	"io"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"

	mtextproto "github.com/emersion/go-message/textproto"
)

// ErrNotMail is returned for input that has no header at all.
var ErrNotMail = errors.New("not a mail message")

// Address is a mailbox: a display name, decoded, and an address.
type Address struct {
	Name string
	Addr string // as written; compare with strings.EqualFold
}

// Attachment is a part of a message that is not its text.
type Attachment struct {
	Filename    string // sanitised: no path, no control characters; can be ""
	ContentType string // "application/pdf"
	Size        int    // decoded size in bytes
	Part        []int  // the path of the part in the MIME tree, for finding it again
}

// Message is what placette reads of a message.
//
// Every string is valid UTF-8. Header values are unfolded and made valid
// UTF-8 (bytes that are not are read as windows-1252) but not otherwise
// decoded: use DecodeHeader on them. Text and HTML use "\n" line endings.
type Message struct {
	Header      textproto.MIMEHeader // the top-level header, decoded field names
	MessageID   string               // without angle brackets; "" when missing
	Date        time.Time            // zero when missing or unreadable
	From        Address
	ReplyTo     []Address
	To, Cc      []Address
	Subject     string   // decoded to UTF-8
	InReplyTo   string   // first id, without angle brackets
	References  []string // without angle brackets, oldest first
	Text        string   // the text body in UTF-8 (text/plain, else text from the HTML)
	HTML        string   // the HTML body in UTF-8, unsanitised; "" when none
	Attachments []Attachment
	Problems    []string // what could not be read and was kept raw
}

// Parse reads raw, a whole message. It fails only with ErrNotMail; every
// other problem is recorded in Problems.
//
// The text body is every inline text/plain part (format=flowed undone)
// joined by blank lines; when there is none, it is the text of the first
// inline text/html part (tags stripped, block elements as line breaks,
// entities decoded). HTML is that first text/html part, unsanitised. Every
// other leaf (images, files, message/rfc822, text parts with a file name
// or an attachment disposition) is listed in Attachments with its decoded
// size. Parse keeps no reference to raw.
func Parse(raw []byte) (*Message, error) {
	h, body, problems, err := readHeader(raw)
	if err != nil {
		return nil, err
	}
	m := &Message{Header: textproto.MIMEHeader{}, Problems: problems}
	m.readHeader(h, mboxFromLine(raw))

	var text, html strings.Builder
	var textCut, htmlCut bool
	w := &walker{}
	w.visit = func(p *part) error {
		inline := p.disp != "attachment" && p.filename() == "" && p.encoding == ""
		switch {
		case inline && p.mediaType == "text/plain":
			s, cut := readText(p, maxBodyBytes-text.Len())
			if text.Len() > 0 && s != "" {
				text.WriteString("\n\n")
			}
			text.WriteString(s)
			textCut = textCut || cut
			return nil
		case inline && p.mediaType == "text/html" && html.Len() == 0:
			s, cut := readBody(p, maxBodyBytes)
			html.WriteString(s)
			htmlCut = cut
			return nil
		}
		n, _ := io.Copy(io.Discard, p.body)
		ct := p.mediaType
		m.Attachments = append(m.Attachments, Attachment{
			Filename:    p.filename(),
			ContentType: ct,
			Size:        int(min(n, int64(maxInt))),
			Part:        p.path,
		})
		return nil
	}
	_ = w.entity(h, byteReader(body), nil, 0, "text/plain")
	m.Problems = append(m.Problems, w.problems...)
	if textCut {
		m.Problems = append(m.Problems, "text body longer than 1 MiB, cut")
	}
	if htmlCut {
		m.Problems = append(m.Problems, "HTML body longer than 1 MiB, cut")
	}
	m.Text = text.String()
	m.HTML = html.String()
	if m.Text == "" && m.HTML != "" {
		m.Text = HTMLText(m.HTML)
	}
	return m, nil
}

// maxInt is the largest int, on 32-bit platforms too.
const maxInt = int(^uint(0) >> 1)

// readHeader fills the fields of m that come from the top-level header.
// unixFrom is the mbox "From " line before the header, if any.
func (m *Message) readHeader(h mtextproto.Header, unixFrom string) {
	for f := h.Fields(); f.Next(); {
		if len(m.Header) >= maxHeaderKeys {
			m.Problems = append(m.Problems, "too many header fields, the rest not kept")
			break
		}
		k := textproto.CanonicalMIMEHeaderKey(utf8OrCP1252([]byte(f.Key())))
		m.Header[k] = append(m.Header[k], utf8OrCP1252([]byte(f.Value())))
	}
	get := func(k string) string { return h.Get(k) }

	m.MessageID = parseMsgID(get("Message-Id"))
	if get("Message-Id") == "" {
		m.Problems = append(m.Problems, "no Message-ID")
	}
	if v := get("Date"); v == "" {
		m.Problems = append(m.Problems, "no Date")
	} else if t, ok := parseDate(v); ok {
		m.Date = t
	} else {
		m.Problems = append(m.Problems, "unreadable Date "+clip(v, 60))
	}
	if m.Date.IsZero() {
		// Resent-Date, else the date of the mbox "From " line.
		if t, ok := parseDate(get("Resent-Date")); ok {
			m.Date = t
			m.Problems = append(m.Problems, "date taken from Resent-Date")
		} else if t, ok := unixFromDate(unixFrom); ok {
			m.Date = t
			m.Problems = append(m.Problems, "date taken from the mbox From line")
		}
	}
	if v := get("From"); v != "" {
		list, ok := parseAddressList(v)
		if len(list) > 0 {
			m.From = list[0]
		}
		if !ok || len(list) == 0 {
			m.Problems = append(m.Problems, "unreadable From "+clip(v, 60))
			if len(list) == 0 {
				m.From.Name = DecodeHeader(v)
			}
		}
	}
	for _, f := range []struct {
		key string
		dst *[]Address
	}{{"Reply-To", &m.ReplyTo}, {"To", &m.To}, {"Cc", &m.Cc}} {
		var vals []string
		for fs := h.FieldsByKey(f.key); fs.Next(); {
			vals = append(vals, fs.Value())
		}
		for _, v := range vals {
			list, ok := parseAddressList(v)
			*f.dst = append(*f.dst, list...)
			if !ok {
				m.Problems = append(m.Problems, "part of "+f.key+" unreadable: "+clip(v, 60))
			}
		}
	}
	m.Subject = DecodeHeader(get("Subject"))
	m.InReplyTo = parseMsgID(get("In-Reply-To"))
	var refs []string
	for fs := h.FieldsByKey("References"); fs.Next(); {
		refs = append(refs, fs.Value())
	}
	m.References = parseMsgIDs(strings.Join(refs, " "))
}

// byteReader returns a reader over b.
func byteReader(b []byte) io.Reader { return &sliceReader{b: b} }

type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// readBody reads a text part, at most limit bytes of it, decodes its
// charset and returns it with "\n" line endings. cut tells that the part
// was longer.
func readBody(p *part, limit int) (s string, cut bool) {
	if limit <= 0 {
		n, _ := io.Copy(io.Discard, p.body)
		return "", n > 0
	}
	b, _ := io.ReadAll(io.LimitReader(p.body, int64(limit)+1))
	if p.b64 != nil && p.encoded != nil && p.b64.bad > 8 && p.b64.bad*20 > p.b64.all {
		b = p.encoded.b.Bytes()
		if p.problem != nil {
			p.problem("text part is not base64 as it claims, kept as written")
		}
	}
	if len(b) > limit {
		b = b[:limit]
		cut = true
		_, _ = io.Copy(io.Discard, p.body)
	}
	s, known := decodeCharset(p.params["charset"], b)
	if !known && p.problem != nil {
		p.problem("unknown charset %q, read as UTF-8 or windows-1252", clip(p.params["charset"], 40))
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = dropControls(s)
	if len(s) > limit {
		s = cutUTF8(s, limit)
		cut = true
	}
	return s, cut
}

// limitedBuffer keeps the first n bytes written to it.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// readText reads a text/plain part: readBody, then format=flowed undone.
func readText(p *part, limit int) (string, bool) {
	s, cut := readBody(p, limit)
	if strings.EqualFold(p.params["format"], "flowed") {
		s = unflow(s, strings.EqualFold(p.params["delsp"], "yes"))
	}
	return s, cut
}

// cutUTF8 cuts s to at most n bytes on a rune boundary.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// dropControls removes the control characters other than tab, line feed
// and form feed from s.
func dropControls(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\n' && c != '\t' && c != '\f' || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' && r != '\f' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// mboxFromLine returns the mbox "From " line at the start of raw, or "".
func mboxFromLine(raw []byte) string {
	if !bytes.HasPrefix(raw, []byte("From ")) {
		return ""
	}
	if i := bytes.IndexByte(raw, '\n'); i >= 0 {
		raw = raw[:i]
	}
	return string(bytes.TrimRight(raw, "\r"))
}

// unixFromDate reads the date of an mbox "From " line
// ("From a@b  Mon Nov  9 21:54:11 1999"), in UTC.
func unixFromDate(line string) (time.Time, bool) {
	f := strings.Fields(line)
	if len(f) < 7 {
		return time.Time{}, false
	}
	t, err := time.Parse("Mon Jan 2 15:04:05 2006", strings.Join(f[len(f)-5:], " "))
	return t, err == nil
}
