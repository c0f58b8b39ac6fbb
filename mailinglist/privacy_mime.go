package mailinglist

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"codeberg.org/placette/placette/mailinglist/mailmsg"
)

// Encoded addresses in public raw messages and mboxes.
//
// obfuscateRaw works on the bytes as written, so an address it cannot see
// — inside a base64 or quoted-printable text part, split by a soft line
// break, or inside an RFC 2047 encoded word — would reach a harvester that
// decodes the message. obfuscateMIME walks the MIME tree instead:
//
//   - Every header field (except keptFields) goes through obfuscateRaw's
//     rule; a field holding encoded words is then decoded, and when the
//     decoded text still shows an address, the field is written again:
//     the address obfuscated, the words that need it encoded as RFC 2047
//     B words in UTF-8. Content-Type and Content-Disposition parameters
//     (file names, RFC 2231 included) are read decoded as well; a
//     boundary that looks like an address is obfuscated in the field and
//     in the delimiter lines alike, so that the parts stay readable.
//   - A text part (text/*, and the application types that are text: JSON,
//     XML, PGP keys…) is transfer-decoded, read in its charset, obfuscated
//     and encoded again with the same transfer encoding and charset. When
//     the charset does not give back the same bytes it was read from, the
//     part is written in UTF-8 and its charset parameter says so. A part
//     without any address is left byte for byte as it was.
//   - A multipart is split on its boundary, each part walked; its preamble
//     and epilogue get obfuscateRaw's rule. A message/rfc822 part is walked
//     as a message.
//   - Other parts (images, PDF, archives…) are left byte for byte as they
//     were: their bytes as written, base64 most often, hold no address a
//     reader sees, and changing them would break the file.
//   - A part that cannot be read (a header without end, a nesting deeper
//     than maxMIMEDepth, more than maxMIMEParts parts) gets obfuscateRaw's
//     rule on its bytes. A text part whose transfer encoding cannot be
//     decoded — base64 with bytes outside the base64 alphabet, an unknown
//     encoding such as x-uuencode — has its body replaced with
//     undecodableNotice: decoders differ on such bytes (some skip them,
//     some stop), so what a reader would see, and what it should not, is
//     unknown; the notice is written in the part's transfer encoding.
//
// The result keeps the line endings of the message (CRLF, else LF) and
// never panics, whatever the input.

// Limits of the walk.
const (
	maxMIMEDepth = 20
	maxMIMEParts = 500
)

// undecodableNotice replaces the body of a text part that cannot be
// decoded. It is in English and ASCII: it is part of a raw message, not of
// a page.
const undecodableNotice = "[placette: this part could not be decoded; it is hidden from the public archive.]"

// mimeWalk is one run of obfuscateMIME.
type mimeWalk struct {
	eol   []byte // the message's line ending
	parts int
}

// obfuscateMIME returns raw, a whole message, with every address
// obfuscated ("...") in its header fields and in its decoded text parts, as
// described above. It is what a public archive serves as raw bytes.
func obfuscateMIME(raw []byte) (out []byte) {
	defer func() {
		// The walk is written not to panic (FuzzObfuscateMIME checks it);
		// should it, the bytes are still served obfuscated the old way,
		// never in clear.
		if recover() != nil {
			out = obfuscateRaw(raw)
		}
	}()
	return walkMIME(raw)
}

// walkMIME is obfuscateMIME without its recover.
func walkMIME(raw []byte) []byte {
	w := &mimeWalk{eol: []byte("\n")}
	if i := bytes.IndexByte(raw, '\n'); i > 0 && raw[i-1] == '\r' {
		w.eol = []byte("\r\n")
	}
	var from []byte
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			from, raw = raw[:i+1], raw[i+1:]
		} else {
			from, raw = raw, nil
		}
	}
	res := obfuscateBody(from)
	return append(res, w.entity(raw, 0, "text/plain")...)
}

// obfuscateBody applies obfuscateRaw's rule to b, lines that are not a
// header.
func obfuscateBody(b []byte) []byte {
	if !bytes.Contains(b, []byte("@")) {
		return b
	}
	// A leading blank line makes obfuscateRaw read everything as a body.
	eol := []byte("\n")
	return obfuscateRaw(append(eol, b...))[len(eol):]
}

// splitHeader cuts an entity into its header (up to and including the
// blank line) and body. ok is false when no blank line ends the header.
func splitHeader(b []byte) (header, body []byte, ok bool) {
	off := 0
	for line := range bytes.Lines(b) {
		off += len(line)
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return b[:off], b[off:], true
		}
	}
	return b, nil, false
}

// hfield is one header field as written: its name and all its lines.
type hfield struct {
	name string // lower case, trimmed
	raw  []byte
}

// fields splits a header block (without its blank line) into fields.
func fields(h []byte) []hfield {
	var fs []hfield
	for line := range bytes.Lines(h) {
		if len(fs) > 0 && (line[0] == ' ' || line[0] == '\t') {
			f := &fs[len(fs)-1]
			f.raw = append(f.raw, line...)
			continue
		}
		name, _, _ := bytes.Cut(line, []byte(":"))
		fs = append(fs, hfield{name: strings.ToLower(strings.TrimSpace(string(name))), raw: append([]byte(nil), line...)})
	}
	return fs
}

// value returns the unfolded value of a field.
func (f hfield) value() string {
	_, v, _ := bytes.Cut(f.raw, []byte(":"))
	v = bytes.ReplaceAll(v, []byte("\r\n"), nil)
	v = bytes.ReplaceAll(v, []byte("\n"), nil)
	return strings.TrimSpace(string(v))
}

// entity returns the obfuscated bytes of one entity (a message or a part).
// defType is the media type of an entity without Content-Type.
func (w *mimeWalk) entity(b []byte, depth int, defType string) []byte {
	w.parts++
	if depth > maxMIMEDepth || w.parts > maxMIMEParts {
		return obfuscateRaw(b)
	}
	head, body, ok := splitHeader(b)
	if !ok {
		return obfuscateRaw(b)
	}
	blankLen := len(head) - bytes.LastIndexByte(head[:len(head)-1], '\n') - 1
	if bytes.LastIndexByte(head[:len(head)-1], '\n') < 0 {
		blankLen = len(head)
	}
	fs := fields(head[:len(head)-blankLen])
	var ctype, cte string
	for _, f := range fs {
		switch f.name {
		case "content-type":
			if ctype == "" {
				ctype = f.value()
			}
		case "content-transfer-encoding":
			if cte == "" {
				cte = strings.ToLower(f.value())
			}
		}
	}
	mt, params := defType, map[string]string{}
	if ctype != "" {
		t, p, err := mime.ParseMediaType(ctype)
		switch {
		case t != "" && strings.Contains(t, "/") && (err == nil || errors.Is(err, mime.ErrInvalidMediaParameter)):
			mt, params = t, p
			if params == nil {
				params = map[string]string{}
			}
		default:
			mt = "text/plain" // RFC 2045 5.2: an unreadable Content-Type
		}
	}
	if strings.HasPrefix(mt, "multipart/") && params["boundary"] == "" {
		mt = "text/plain"
	}
	switch cte {
	case "", "7bit", "8bit", "binary":
		cte = ""
	}
	var newBody []byte
	newCharset := ""
	switch {
	case strings.HasPrefix(mt, "multipart/") && cte == "":
		sub := "text/plain"
		if mt == "multipart/digest" {
			sub = "message/rfc822"
		}
		newBody = w.multipart(body, params["boundary"], depth, sub)
	case (mt == "message/rfc822" || mt == "message/global") && cte == "":
		newBody = w.entity(body, depth+1, "text/plain")
	case mt == "message/rfc822" || mt == "message/global":
		newBody = w.encoded(body, cte, func(d []byte) ([]byte, bool) {
			return w.entity(d, depth+1, "text/plain"), true
		})
	case textual(mt):
		newBody, newCharset = w.text(body, cte, params["charset"])
	case cte == "" || cte == "quoted-printable":
		// Not text, but its bytes as written are what a reader sees.
		newBody = obfuscateBody(body)
		if cte != "" {
			newBody = w.encoded(body, cte, func(d []byte) ([]byte, bool) { return obfuscateBody(d), true })
		}
	case cte == "base64" && !strings.HasPrefix(mt, "image/") && !strings.HasPrefix(mt, "audio/") && !strings.HasPrefix(mt, "video/"):
		// A file sent as application/octet-stream is often text: when its
		// bytes are, they are treated as text.
		newBody = w.encoded(body, cte, func(d []byte) ([]byte, bool) {
			if !utf8.Valid(d) || !strings.HasPrefix(http.DetectContentType(d), "text/plain") {
				return d, false
			}
			return obfuscateBody(d), true
		})
	default:
		// Images and such: base64 holds no "@", so they stay as they were.
		newBody = obfuscateBody(body)
	}
	out := make([]byte, 0, len(b)+64)
	for _, f := range fs {
		out = append(out, w.field(f, newCharset)...)
	}
	if newCharset != "" && ctype == "" {
		out = append(out, "Content-Type: text/plain; charset="+newCharset...)
		out = append(out, w.eol...)
	}
	out = append(out, head[len(head)-blankLen:]...)
	return append(out, newBody...)
}

// textualApps are the application/* and message/* types whose content is
// text a reader sees.
var textualApps = map[string]bool{
	"application/json": true, "application/xml": true, "application/pgp-keys": true,
	"application/pgp-signature": true, "application/pgp-encrypted": true,
	"application/javascript": true, "application/x-sh": true, "application/mbox": true,
	"application/x-patch": true, "application/x-diff": true, "application/ics": true,
	"message/delivery-status": true, "message/disposition-notification": true,
	"message/global-delivery-status": true, "message/global-headers": true,
}

// textual reports whether parts of media type mt hold text.
func textual(mt string) bool {
	return strings.HasPrefix(mt, "text/") || textualApps[mt] || strings.HasSuffix(mt, "+xml") || strings.HasSuffix(mt, "+json")
}

// multipart walks the parts of a multipart body.
func (w *mimeWalk) multipart(body []byte, boundary string, depth int, sub string) []byte {
	delim := []byte("--" + boundary)
	isDelim := func(line []byte) (is, last bool) {
		t := bytes.TrimRight(line, " \t\r\n")
		if !bytes.HasPrefix(t, delim) {
			return false, false
		}
		rest := t[len(delim):]
		if len(rest) == 0 {
			return true, false
		}
		return string(rest) == "--", string(rest) == "--"
	}
	out := make([]byte, 0, len(body)+64)
	var cur []byte
	inPart, done := false, false
	flush := func() {
		if !inPart {
			out = append(out, obfuscateBody(cur)...)
			return
		}
		// The line ending before a delimiter belongs to the delimiter.
		tail := 0
		if bytes.HasSuffix(cur, []byte("\r\n")) {
			tail = 2
		} else if bytes.HasSuffix(cur, []byte("\n")) {
			tail = 1
		}
		out = append(out, w.entity(cur[:len(cur)-tail], depth+1, sub)...)
		out = append(out, cur[len(cur)-tail:]...)
	}
	off := 0
	for line := range bytes.Lines(body) {
		off += len(line)
		is, last := isDelim(line)
		if !is {
			cur = append(cur, line...)
			continue
		}
		flush()
		if nb := obfuscateTextASCII(boundary); nb != boundary {
			line = append([]byte("--"+nb), line[len(delim):]...)
		}
		out = append(out, line...)
		cur = cur[:0:0]
		inPart = true
		if last {
			done = true
			break
		}
	}
	if done {
		return append(out, obfuscateBody(body[off:])...)
	}
	if inPart {
		// No closing delimiter: the last part runs to the end.
		return append(out, w.entity(cur, depth+1, sub)...)
	}
	return append(out, obfuscateBody(cur)...)
}

// decodeTransfer decodes body written in transfer encoding cte ("base64"
// or "quoted-printable"); ok is false when it cannot be.
func decodeTransfer(body []byte, cte string) ([]byte, bool) {
	switch cte {
	case "quoted-printable":
		d, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		return d, err == nil
	case "base64":
		clean := make([]byte, 0, len(body))
		for _, c := range body {
			switch {
			case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
				clean = append(clean, c)
			case c == '=':
				// Padding: what follows is not read (as most decoders do).
			default:
				return nil, false
			}
		}
		if i := bytes.IndexByte(body, '='); i >= 0 {
			// Keep only what comes before the first padding.
			clean = clean[:0]
			for _, c := range body[:i] {
				if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
					clean = append(clean, c)
				}
			}
		}
		if len(clean)%4 == 1 {
			clean = clean[:len(clean)-1] // a lone sextet holds no byte
		}
		d, err := base64.RawStdEncoding.DecodeString(string(clean))
		return d, err == nil
	}
	return nil, false
}

// encodeTransfer writes d in transfer encoding cte with line ending eol,
// ending with a line ending when body did.
func (w *mimeWalk) encodeTransfer(d []byte, cte string, body []byte) []byte {
	var out []byte
	switch cte {
	case "base64":
		s := base64.StdEncoding.EncodeToString(d)
		for len(s) > 76 {
			out = append(out, s[:76]...)
			out = append(out, w.eol...)
			s = s[76:]
		}
		out = append(out, s...)
		if len(s) > 0 && bytes.HasSuffix(body, []byte("\n")) {
			out = append(out, w.eol...)
		}
		return out
	default: // quoted-printable
		var buf bytes.Buffer
		qw := quotedprintable.NewWriter(&buf)
		qw.Write(d)
		qw.Close()
		out = buf.Bytes()
		if !bytes.Equal(w.eol, []byte("\r\n")) {
			out = bytes.ReplaceAll(out, []byte("\r\n"), w.eol)
		}
		if bytes.HasSuffix(body, []byte("\n")) && !bytes.HasSuffix(out, []byte("\n")) {
			out = append(out, w.eol...)
		} else if !bytes.HasSuffix(body, []byte("\n")) {
			out = bytes.TrimRight(out, "\r\n")
		}
		return out
	}
}

// encoded decodes body, hands the bytes to f and encodes what f returns
// again; the body is kept as it was when f changes nothing or says not to
// (ok false). A body that cannot be decoded is kept as written.
func (w *mimeWalk) encoded(body []byte, cte string, f func([]byte) ([]byte, bool)) []byte {
	d, ok := decodeTransfer(body, cte)
	if !ok {
		return obfuscateBody(body)
	}
	n, ok := f(d)
	if !ok || bytes.Equal(n, d) {
		return body
	}
	return w.encodeTransfer(n, cte, body)
}

// text returns the obfuscated body of a text part and, when it had to be
// written in UTF-8 instead of its charset, "utf-8".
func (w *mimeWalk) text(body []byte, cte, charset string) ([]byte, string) {
	d := body
	if cte != "" {
		var ok bool
		d, ok = decodeTransfer(body, cte)
		if !ok {
			return w.notice(cte, body), ""
		}
	}
	if cte == "" && !bytes.Contains(body, []byte("@")) && !bytes.Contains(body, []byte("\x00")) {
		return body, "" // no address can hide in an ASCII-compatible body without "@"
	}
	s, _ := mailmsg.DecodeText(charset, d)
	o := obfuscateTextASCII(s)
	if o == s {
		if cte == "" {
			return obfuscateBody(body), "" // what a reader reading it otherwise sees
		}
		return body, ""
	}
	var enc []byte
	newCharset := ""
	if e := mailmsg.CharsetEncoding(charset); e != nil {
		back, err1 := e.NewEncoder().Bytes([]byte(s))
		n, err2 := e.NewEncoder().Bytes([]byte(o))
		if err1 == nil && err2 == nil && bytes.Equal(back, d) {
			enc = n
		}
	} else if utf8.Valid(d) {
		enc = []byte(o)
	}
	if enc == nil {
		enc, newCharset = []byte(o), "utf-8"
	}
	if cte == "" {
		return enc, newCharset
	}
	return w.encodeTransfer(enc, cte, body), newCharset
}

// notice returns undecodableNotice in transfer encoding cte, ending with
// a line ending when body did.
func (w *mimeWalk) notice(cte string, body []byte) []byte {
	if cte == "base64" {
		return w.encodeTransfer([]byte(undecodableNotice), cte, body)
	}
	out := []byte(undecodableNotice)
	if bytes.HasSuffix(body, []byte("\n")) {
		out = append(out, w.eol...)
	}
	return out
}

// obfuscateTextASCII returns s with every address obfuscated ("...").
func obfuscateTextASCII(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	for range 8 {
		t := addrRE.ReplaceAllStringFunc(s, func(a string) string { return obfuscateAddr(a, "...") })
		if t == s {
			break
		}
		s = t
	}
	return s
}

// addressFields are the header fields that hold address lists, where a
// decoded word with specials must be encoded again.
var addressFields = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "reply-to": true, "sender": true,
	"resent-from": true, "resent-to": true, "resent-cc": true, "resent-sender": true,
	"mail-followup-to": true, "mail-reply-to": true, "return-path": true, "delivered-to": true,
	"x-original-to": true, "disposition-notification-to": true, "errors-to": true,
}

// field returns the obfuscated bytes of one header field. charset, when
// not "", is the new charset of the part (for its Content-Type).
func (w *mimeWalk) field(f hfield, charset string) []byte {
	for _, k := range keptFields {
		if f.name == k {
			return f.raw
		}
	}
	raw := obfuscateRaw(append(append([]byte(nil), f.raw...), w.eol...))
	raw = raw[:len(raw)-len(w.eol)]
	switch f.name {
	case "content-type", "content-disposition":
		if _, _, err := mime.ParseMediaType(f.value()); err == nil {
			return w.paramField(f, f.raw, charset)
		}
		return w.paramField(f, raw, charset)
	}
	if !bytes.Contains(raw, []byte("=?")) {
		return raw
	}
	name, v, _ := bytes.Cut(raw, []byte(":"))
	dec := mailmsg.DecodeHeader(string(v))
	o := obfuscateTextASCII(dec)
	if o == dec {
		return raw
	}
	return w.fold(string(name)+": "+encodeWords(o, addressFields[f.name]), raw)
}

// paramField handles Content-Type and Content-Disposition: parameters are
// read decoded (RFC 2231 and encoded words), and the field is written
// again when one holds an address or when the charset changed.
func (w *mimeWalk) paramField(f hfield, raw []byte, charset string) []byte {
	name, _, _ := bytes.Cut(raw, []byte(":"))
	mt, params, err := mime.ParseMediaType(f.value())
	if err != nil {
		if bytes.Contains(raw, []byte("=?")) || bytes.Contains(raw, []byte("%40")) || charset != "" {
			// Unreadable and possibly hiding an address: keep the type.
			t := "application/octet-stream"
			if m := mediaTypeRE.FindString(f.value()); m != "" {
				t = m
			}
			if charset != "" {
				t += "; charset=" + charset
			}
			return w.fold(string(name)+": "+t, raw)
		}
		return raw
	}
	changed := false
	for k, v := range params {
		if k == "boundary" {
			// Obfuscated the same way in the delimiter lines.
			if o := obfuscateTextASCII(v); o != v {
				params[k] = o
				changed = true
			}
			continue
		}
		dv := mailmsg.DecodeHeader(v)
		if o := obfuscateTextASCII(dv); o != dv {
			params[k] = o
			changed = true
		}
	}
	if charset != "" && f.name == "content-type" {
		params["charset"] = charset
		changed = true
	}
	if !changed {
		return raw
	}
	return w.fold(string(name)+": "+mime.FormatMediaType(mt, params), raw)
}

// mediaTypeRE finds a media type at the start of a broken Content-Type.
var mediaTypeRE = regexp.MustCompile(`^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+`)

// fold folds a header field written again at spaces so that its lines
// stay short, with the message's line endings; old is the field as it
// was, whose final line ending is kept.
func (w *mimeWalk) fold(s string, old []byte) []byte {
	var out []byte
	line := 0
	for i, tok := range strings.Split(s, " ") {
		if i > 0 {
			if line+1+len(tok) > 76 && line > 0 {
				out = append(out, w.eol...)
				out = append(out, ' ')
				line = 1
			} else {
				out = append(out, ' ')
				line++
			}
		}
		out = append(out, tok...)
		line += len(tok)
	}
	switch {
	case bytes.HasSuffix(old, []byte("\r\n")):
		out = append(out, "\r\n"...)
	case bytes.HasSuffix(old, []byte("\n")):
		out = append(out, '\n')
	}
	return out
}

// encodeWords writes s, decoded header text, for a header field: runs of
// words that need it become RFC 2047 B words in UTF-8. A word needs it
// when it is not ASCII, looks like an encoded word, or, in an address
// field, holds a special character outside an address.
func encodeWords(s string, addresses bool) string {
	words := strings.Split(s, " ")
	need := func(i int) bool {
		t := words[i]
		for _, r := range t {
			if r > '~' || r < ' ' {
				return true
			}
		}
		if strings.Contains(t, "=?") || strings.Contains(t, "?=") {
			return true
		}
		if addresses {
			if strings.HasPrefix(t, "<") && strings.Contains(t, "@") {
				return false // an angle address, obfuscated
			}
			if addrRE.MatchString(t) && !strings.ContainsAny(t, `()<>[]:;\"`) &&
				(i+1 == len(words) || !strings.HasPrefix(words[i+1], "<")) {
				return false // a bare address, obfuscated
			}
			return strings.ContainsAny(t, `()<>[]:;\",.@`)
		}
		return false
	}
	var out []string
	for i := 0; i < len(words); {
		if !need(i) {
			out = append(out, words[i])
			i++
			continue
		}
		j := i
		for j < len(words) && need(j) {
			j++
		}
		out = append(out, bWords(strings.Join(words[i:j], " ")))
		i = j
	}
	return strings.Join(out, " ")
}

// bWords encodes s as RFC 2047 B words in UTF-8, each at most 75
// characters long, cut between characters.
func bWords(s string) string {
	var words []string
	for len(s) > 0 {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > 45 {
				break
			}
			n += size
		}
		if n == 0 {
			n = len(s)
		}
		words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, " ")
}
