package mailinglist

import (
	"context"
	"errors"
	"io"
	"time"

	"codeberg.org/placette/placette/mailinglist/delivery"
)

// Errors of the lists' store, mapped to HTTP statuses and command-line
// messages at the edge.
var (
	ErrNotFound   = errors.New("no such list or member")
	ErrExists     = errors.New("already exists")
	ErrBadName    = errors.New("a list name is 1 to 64 lower-case letters, digits, - or ., starting with a letter or digit")
	ErrBadAddress = errors.New("not a mail address")
	ErrBadToken   = errors.New("the link is invalid or has expired")
)

// Policy is who may post to a list.
type Policy string

// Posting policies.
const (
	PolicyMembers   Policy = "members"   // members post; others are held for moderation
	PolicyAnyone    Policy = "anyone"    // anyone posts
	PolicyModerated Policy = "moderated" // every post is held for moderation
	PolicyAnnounce  Policy = "announce"  // moderators only; others are refused
)

// List is a mailing list's settings.
type List struct {
	Name        string // local part of its address: "entraide"
	Title       string
	Description string
	Domain      string // its mail domain
	Private     bool   // the archive is for members and moderators only
	Policy      Policy
	SelfCopy    bool   // members get a copy of their own posts
	ReplyToList bool   // Reply-To points at the list (else at the author)
	SubjectTag  string // "[entraide]" prefixed to subjects; "" for none
	MaxBytes    int64  // largest message accepted; 0 for the default
	DMARCAlways bool   // always rewrite From (else only for strict DMARC domains)
	Created     time.Time
}

// Address returns the list's posting address, NAME@DOMAIN.
func (l *List) Address() string { return l.Name + "@" + l.Domain }

// Mode is how a member receives a list's mail.
type Mode string

// Delivery modes.
const (
	ModeEach     Mode = "each"     // every message as it comes
	ModeDigest   Mode = "digest"   // one digest a day
	ModePaused   Mode = "paused"   // nothing, by the member's choice
	ModeBouncing Mode = "bouncing" // nothing: their address bounces
)

// Member is a subscriber of a list.
type Member struct {
	Addr         string // lower-cased address, the key
	Name         string
	Mode         Mode
	AlwaysAccept bool // their posts skip moderation
	Joined       time.Time
	BounceScore  float64
}

// Held is a message waiting for a moderator.
type Held struct {
	ID       uint64
	List     string
	From     string
	Subject  string
	Reason   string // catalog key of why it is held
	Size     int
	Received time.Time
}

// Action is a moderator's decision on a held message.
type Action string

// Moderation actions.
const (
	Approve       Action = "approve"
	ApproveAlways Action = "approve-always" // approve and always accept this sender
	Reject        Action = "reject"         // tell the sender why
	Discard       Action = "discard"        // drop silently
)

// Record is a DNS record placette asks to publish, with what DNS answers
// now.
type Record struct {
	Type  string // "MX", "TXT", "A"…
	Name  string // "placette._domainkey.example.org"
	Value string // what to publish
	Found []string
	OK    bool // DNS answers it
}

// CreateList creates l, filling defaults (domain, policy, size).
func (s *Service) CreateList(l List) error { return errors.ErrUnsupported }

// UpdateList saves the settings of the existing list l.Name.
func (s *Service) UpdateList(l List) error { return errors.ErrUnsupported }

// DeleteList removes a list, its members and its archive.
func (s *Service) DeleteList(name string) error { return errors.ErrUnsupported }

// List returns the list called name, or ErrNotFound.
func (s *Service) List(name string) (*List, error) { return nil, ErrNotFound }

// Lists returns every list, by name.
func (s *Service) Lists() ([]List, error) { return nil, nil }

// Members returns the members of list, by address.
func (s *Service) Members(list string) ([]Member, error) { return nil, nil }

// Member returns one member of list, or ErrNotFound.
func (s *Service) Member(list, addr string) (*Member, error) { return nil, ErrNotFound }

// AddMember subscribes m to list without confirmation (an administrator's
// or a command's act); ErrExists when it is a member already.
func (s *Service) AddMember(list string, m Member) error { return errors.ErrUnsupported }

// RemoveMember unsubscribes addr from list.
func (s *Service) RemoveMember(list, addr string) error { return errors.ErrUnsupported }

// SetMode changes how a member receives the list's mail.
func (s *Service) SetMode(list, addr string, mode Mode) error { return errors.ErrUnsupported }

// RequestSubscription sends addr the mail with the link that confirms a
// subscription to list, in lang; nothing changes until it is followed.
func (s *Service) RequestSubscription(ctx context.Context, list, addr, name, lang string) error {
	return errors.ErrUnsupported
}

// ConfirmSubscription subscribes the address a confirmation token was
// sent to; ErrBadToken when it is invalid or expired.
func (s *Service) ConfirmSubscription(token string) (*List, *Member, error) {
	return nil, nil, ErrBadToken
}

// MemberToken returns the secret of the link by which a member manages
// their own subscription (and unsubscribes in one click).
func (s *Service) MemberToken(list, addr string) string { return "" }

// MemberFromToken returns the list and member a MemberToken names, or
// ErrBadToken.
func (s *Service) MemberFromToken(token string) (*List, *Member, error) {
	return nil, nil, ErrBadToken
}

// ImportMembers adds the members of a CSV file (address, then an optional
// name) to list, skipping those already there; it returns how many it
// added and the lines it could not read.
func (s *Service) ImportMembers(list string, r io.Reader) (added int, bad []string, err error) {
	return 0, nil, errors.ErrUnsupported
}

// ExportMembers writes the members of list as CSV (address, name, mode,
// joined).
func (s *Service) ExportMembers(list string, w io.Writer) error { return errors.ErrUnsupported }

// HeldMessages returns the messages of list waiting for a moderator,
// oldest first; list "" for every list.
func (s *Service) HeldMessages(list string) ([]Held, error) { return nil, nil }

// HeldRaw returns the raw bytes of a held message.
func (s *Service) HeldRaw(list string, id uint64) ([]byte, error) { return nil, ErrNotFound }

// Moderate applies a moderator's decision to a held message; reason is
// told to the sender on Reject.
func (s *Service) Moderate(ctx context.Context, list string, id uint64, a Action, reason string) error {
	return errors.ErrUnsupported
}

// Relay returns how mail leaves.
func (s *Service) Relay() delivery.Relay { return delivery.Relay{Way: delivery.Outbox} }

// SetRelay saves how mail leaves.
func (s *Service) SetRelay(r delivery.Relay) error { return errors.ErrUnsupported }

// DNSRecords returns the records to publish for domain, each with what DNS
// answers now when check is true.
func (s *Service) DNSRecords(ctx context.Context, domain string, check bool) ([]Record, error) {
	return nil, errors.ErrUnsupported
}

// QueueStats returns what the delivery queue holds.
func (s *Service) QueueStats() (delivery.Stats, error) { return delivery.Stats{}, nil }
