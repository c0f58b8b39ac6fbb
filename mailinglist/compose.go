package mailinglist

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"

	"codeberg.org/placette/placette/mailinglist/delivery"
	"codeberg.org/placette/placette/mailinglist/mailmsg"
)

// wordDecoder decodes RFC 2047 words of the charsets the standard library
// knows; others are left as they are.
var wordDecoder = &mime.WordDecoder{}

// field is one header field as received: its name and its raw bytes
// (folded lines and final CRLF included).
type field struct {
	name string // "" for a line that is not a field
	raw  []byte
}

// splitMessage splits raw (CRLF line endings) into its header fields and
// its body (after the blank line; nil when there is none).
func splitMessage(raw []byte) (fields []field, body []byte) {
	header := raw
	if bytes.HasPrefix(raw, []byte("\r\n")) {
		return nil, raw[2:]
	}
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		header, body = raw[:i+2], raw[i+4:]
	}
	for len(header) > 0 {
		end := bytes.Index(header, []byte("\r\n"))
		if end < 0 {
			end = len(header)
		} else {
			end += 2
		}
		line := header[:end]
		header = header[end:]
		if (line[0] == ' ' || line[0] == '\t') && len(fields) > 0 {
			last := &fields[len(fields)-1]
			last.raw = append(last.raw[:len(last.raw):len(last.raw)], line...)
			continue
		}
		name := ""
		if i := bytes.IndexByte(line, ':'); i > 0 {
			name = strings.TrimSpace(string(line[:i]))
			if strings.ContainsAny(name, " \t") {
				name = ""
			}
		}
		fields = append(fields, field{name: name, raw: line})
	}
	return fields, body
}

// value returns the field's value, unfolded and trimmed, undecoded.
func (f field) value() string {
	_, v, _ := bytes.Cut(f.raw, []byte(":"))
	s := strings.ReplaceAll(string(v), "\r\n", "")
	return strings.TrimSpace(s)
}

// taggedSubject returns the Subject field raw (CRLF line endings) with
// tag before its value, without the final line ending. The value keeps
// its folding, so that a long subject stays within the line length
// limit; when the tag would make its first line too long, the tag gets a
// line of its own (which reads the same once unfolded).
func taggedSubject(tag string, raw []byte) string {
	_, v, _ := bytes.Cut(raw, []byte(":"))
	value := strings.TrimRight(strings.TrimLeft(string(v), " \t"), "\r\n")
	first, _, _ := strings.Cut(value, "\r\n")
	if len("Subject: ")+len(tag)+1+len(first) > 998 {
		return "Subject: " + tag + "\r\n " + value
	}
	return "Subject: " + tag + " " + value
}

// fieldValue returns the value of the first field called name, or "".
func fieldValue(fields []field, name string) string {
	for _, f := range fields {
		if strings.EqualFold(f.name, name) {
			return f.value()
		}
	}
	return ""
}

// fieldValues returns the values of every field called name.
func fieldValues(fields []field, name string) []string {
	var vs []string
	for _, f := range fields {
		if strings.EqualFold(f.name, name) {
			vs = append(vs, f.value())
		}
	}
	return vs
}

// listID returns the value of l's List-Id field.
func listID(l *List) string {
	return encodeHeader(l.title()) + " <" + l.Name + "." + l.Domain + ">"
}

// loopValue returns the value of l's X-Loop field.
func loopValue(l *List) string { return "placette-" + l.Name + "@" + l.Domain }

// isLoop reports whether raw went through list l already.
func isLoop(l *List, fields []field) bool {
	id := "<" + l.Name + "." + l.Domain + ">"
	for _, v := range fieldValues(fields, "List-Id") {
		if strings.Contains(strings.ToLower(v), id) {
			return true
		}
	}
	for _, v := range fieldValues(fields, "X-Loop") {
		v = strings.ToLower(strings.Trim(v, "<> "))
		if v == loopValue(l) || v == l.Address() {
			return true
		}
	}
	return false
}

// dropped are the fields a copy does not keep from the author's message.
var dropped = map[string]bool{
	"return-path": true, "dkim-signature": true, "sender": true, "errors-to": true,
	"precedence": true, "delivered-to": true, "list-id": true, "list-post": true,
	"list-archive": true, "list-help": true, "list-subscribe": true, "list-unsubscribe": true,
	"list-unsubscribe-post": true, "list-owner": true, "x-envelope-from": true,
	"x-envelope-to": true, "x-original-from": true,
}

// copyOptions is what composeCopy needs beside the message.
type copyOptions struct {
	MessageID   string // the archive's id, added when the message has none
	RewriteFrom bool   // the author's domain has a strict DMARC policy
}

// composeCopy returns the message the members of l get for raw: the
// author's header with the list's changes (see doc.go), then the body.
func (s *Service) composeCopy(l *List, raw []byte, msg *mailmsg.Message, o copyOptions) []byte {
	fields, body := splitMessage(raw)
	var out bytes.Buffer
	add := func(f string) {
		out.WriteString(f)
		out.WriteString("\r\n")
	}
	add("List-Id: " + listID(l))
	add("List-Post: <mailto:" + l.Address() + ">")
	add("List-Archive: <" + s.link(listPath(l.Name)) + ">")
	add("List-Help: <mailto:" + l.addr("-request") + "?subject=help>")
	add("List-Subscribe: <" + s.link(listPath(l.Name, "subscribe")) + ">, <mailto:" + l.addr("-subscribe") + ">")
	add("Precedence: list")
	add("X-Loop: " + loopValue(l))
	add("Sender: " + l.addr("-bounces"))

	name, addr := author(msg, raw)
	origFrom := fieldValue(fields, "From")
	origReplyTo := fieldValue(fields, "Reply-To")
	if o.RewriteFrom && addr != "" {
		who := name
		if who == "" {
			who, _, _ = strings.Cut(addr, "@")
		}
		p := s.printer(l.lang())
		from := mail.Address{Name: p.T("list.mail.via", who, l.title()), Address: l.Address()}
		add("From: " + from.String())
		add("X-Original-From: " + origFrom)
		replyTo := origReplyTo
		if replyTo == "" {
			replyTo = (&mail.Address{Name: name, Address: addr}).String()
		}
		if l.ReplyToList {
			replyTo = "<" + l.Address() + ">, " + replyTo
		}
		add("Reply-To: " + replyTo)
	} else if l.ReplyToList {
		add("Reply-To: <" + l.Address() + ">")
	}
	if fieldValue(fields, "Message-ID") == "" && o.MessageID != "" {
		add("Message-ID: <" + o.MessageID + ">")
	}
	hasSubject := false
	for _, f := range fields {
		lname := strings.ToLower(f.name)
		switch {
		case f.name == "":
			continue // not a field: an mbox line or garbage
		case dropped[lname]:
			continue
		case lname == "from" && o.RewriteFrom && addr != "":
			continue
		case lname == "reply-to" && (l.ReplyToList || o.RewriteFrom && addr != ""):
			continue
		case lname == "subject":
			hasSubject = true
			if l.SubjectTag != "" && !strings.Contains(subjectOf(msg, raw), l.SubjectTag) {
				add(taggedSubject(encodeHeader(l.SubjectTag), f.raw))
				continue
			}
		}
		out.Write(f.raw)
	}
	if !hasSubject && l.SubjectTag != "" {
		add("Subject: " + encodeHeader(l.SubjectTag))
	}
	out.WriteString("\r\n")
	out.Write(body)
	return out.Bytes()
}

// memberHeaders returns the fields of the copy of l to member addr.
func (s *Service) memberHeaders(l *List, addr string) []string {
	token := s.MemberToken(l.Name, addr)
	return []string{
		"List-Unsubscribe: <" + s.link(listPath(l.Name, "unsubscribe", token)) + ">, <mailto:" + l.addr("-unsubscribe") + "?subject=" + token + ">",
		"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
	}
}

// bounceAddr returns the envelope sender of the copy of l to addr: VERP
// when the relay allows it.
func (s *Service) bounceAddr(l *List, addr string, verp bool) string {
	if verp {
		return l.Name + "-bounces+" + s.verpToken(l.Name, addr) + "@" + l.Domain
	}
	return l.addr("-bounces")
}

// memberJobs returns a job for each member of l who gets each message, the
// author excepted unless l.SelfCopy.
func (s *Service) memberJobs(members []Member, l *List, authorAddr string) []delivery.Job {
	verp := s.Relay().VERP
	var jobs []delivery.Job
	for _, m := range members {
		if m.Mode != ModeEach {
			continue
		}
		if !l.SelfCopy && authorAddr != "" && strings.EqualFold(m.Addr, authorAddr) {
			continue
		}
		jobs = append(jobs, delivery.Job{
			From:    s.bounceAddr(l, m.Addr, verp),
			To:      m.Addr,
			Headers: s.memberHeaders(l, m.Addr),
			Domain:  l.Domain,
			Tag:     l.Name,
		})
	}
	return jobs
}
