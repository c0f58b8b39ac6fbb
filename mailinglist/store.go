package mailinglist

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"codeberg.org/placette/placette/internal/store"
	"codeberg.org/placette/placette/mailinglist/delivery"
	bolt "go.etcd.io/bbolt"
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

// valid reports whether p is one of the policies.
func (p Policy) valid() bool {
	switch p {
	case PolicyMembers, PolicyAnyone, PolicyModerated, PolicyAnnounce:
		return true
	}
	return false
}

// DefaultMaxBytes is the largest message a list accepts when its MaxBytes
// is 0, and the largest the SMTP server reads at all.
const DefaultMaxBytes = 25 << 20

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
	// Moderators are the addresses, separated by commas or spaces, told
	// of held mail and of mail to NAME-owner; they may post to an
	// announce list and are never held. (A string keeps List comparable.)
	Moderators string
	// Lang is the language of the notices the list sends ("fr" when "").
	Lang string
}

// Address returns the list's posting address, NAME@DOMAIN.
func (l *List) Address() string { return l.Name + "@" + l.Domain }

// addr returns the list's address with suffix ("-request") in its local
// part.
func (l *List) addr(suffix string) string { return l.Name + suffix + "@" + l.Domain }

// maxBytes returns the largest message the list accepts.
func (l *List) maxBytes() int64 {
	if l.MaxBytes <= 0 || l.MaxBytes > DefaultMaxBytes {
		return DefaultMaxBytes
	}
	return l.MaxBytes
}

// lang returns the language of the list's notices.
func (l *List) lang() string {
	if l.Lang == "" {
		return "fr"
	}
	return l.Lang
}

// moderators returns the addresses of the list's moderators.
func (l *List) moderators() []string {
	return strings.FieldsFunc(l.Moderators, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

// isModerator reports whether addr is one of the list's moderators.
func (l *List) isModerator(addr string) bool {
	for _, m := range l.moderators() {
		if strings.EqualFold(m, addr) {
			return true
		}
	}
	return false
}

// title returns the list's title, or its name when it has none.
func (l *List) title() string {
	if l.Title != "" {
		return l.Title
	}
	return l.Name
}

// Mode is how a member receives a list's mail.
type Mode string

// Delivery modes.
const (
	ModeEach     Mode = "each"     // every message as it comes
	ModeDigest   Mode = "digest"   // one digest a day
	ModePaused   Mode = "paused"   // nothing, by the member's choice
	ModeBouncing Mode = "bouncing" // nothing: their address bounces
)

// valid reports whether m is one of the modes.
func (m Mode) valid() bool {
	switch m {
	case ModeEach, ModeDigest, ModePaused, ModeBouncing:
		return true
	}
	return false
}

// Member is a subscriber of a list.
type Member struct {
	Addr         string // lower-cased address, the key
	Name         string
	Mode         Mode
	AlwaysAccept bool // their posts skip moderation
	Joined       time.Time
	BounceScore  float64
	LastBounce   time.Time // when the last counted bounce came; zero when none
	Lang         string    // language of the notices they get; "" for the list's
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

// heldRecord is a held message as stored: Held with what moderation needs.
type heldRecord struct {
	Held
	Sender string // the envelope sender
	Auto   bool   // sent by a machine: never answered
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

// Buckets; see doc.go.
var (
	bucketLists    = []byte("list/lists")
	bucketMembers  = []byte("list/members")
	bucketAccept   = []byte("list/accept")
	bucketMessages = []byte("list/messages")
	bucketRaw      = []byte("list/raw")
	bucketMsgIDs   = []byte("list/msgids")
	bucketDates    = []byte("list/dates")
	bucketThreads  = []byte("list/threads")
	bucketActivity = []byte("list/activity")
	bucketSubjects = []byte("list/subjects")
	bucketHeld     = []byte("list/held")
	bucketHeldRaw  = []byte("list/heldraw")
	bucketConfirm  = []byte("list/confirm")
	bucketSettings = []byte("list/settings")
	bucketByThread = []byte("list/bythread")
	bucketOrphans  = []byte("list/orphans")
	bucketMonths   = []byte("list/months")
	bucketErased   = []byte("list/erased")
)

// perList are the buckets that hold one sub-bucket per list.
var perList = [][]byte{bucketMembers, bucketAccept, bucketMessages, bucketRaw, bucketMsgIDs,
	bucketDates, bucketThreads, bucketActivity, bucketSubjects, bucketHeld, bucketHeldRaw,
	bucketByThread, bucketOrphans, bucketMonths, bucketErased}

// sub returns the sub-bucket of list in the per-list bucket top, or nil.
func sub(tx *bolt.Tx, top []byte, list string) *bolt.Bucket {
	b := tx.Bucket(top)
	if b == nil {
		return nil
	}
	return b.Bucket([]byte(list))
}

// mustSub returns the sub-bucket of list in top, creating it in a write
// transaction.
func mustSub(tx *bolt.Tx, top []byte, list string) (*bolt.Bucket, error) {
	b := tx.Bucket(top)
	if b == nil {
		return nil, fmt.Errorf("no bucket %s", top)
	}
	if s := b.Bucket([]byte(list)); s != nil {
		return s, nil
	}
	if !tx.Writable() {
		return nil, fmt.Errorf("no bucket %s/%s", top, list)
	}
	return b.CreateBucket([]byte(list))
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,63}$`)

// reservedSuffixes end the local parts of a list's other addresses; a list
// name may not end with one, or its addresses would be ambiguous.
var reservedSuffixes = []string{"-subscribe", "-unsubscribe", "-request", "-owner", "-bounces"}

// checkName returns ErrBadName unless name can be a list's name.
func checkName(name string) error {
	if !nameRE.MatchString(name) || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return ErrBadName
	}
	for _, s := range reservedSuffixes {
		if strings.HasSuffix(name, s) {
			return ErrBadName
		}
	}
	return nil
}

// cleanAddr returns addr parsed, lower-cased and without a display name,
// or ErrBadAddress.
func cleanAddr(addr string) (string, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" || len(addr) > 254 {
		return "", ErrBadAddress
	}
	a, err := mail.ParseAddress(addr)
	if err != nil {
		return "", fmt.Errorf("%q: %w", addr, ErrBadAddress)
	}
	local, domain, ok := strings.Cut(a.Address, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(a.Address, " \t\r\n<>") {
		return "", fmt.Errorf("%q: %w", addr, ErrBadAddress)
	}
	return strings.ToLower(a.Address), nil
}

// getJSON reads key of b into v; ok is false when there is no such key.
func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	if b == nil {
		return false, nil
	}
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("read %s: %w", key, err)
	}
	return true, nil
}

// putJSON writes v at key of b.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// getList reads the list called name in tx, or ErrNotFound.
func getList(tx *bolt.Tx, name string) (*List, error) {
	var l List
	ok, err := getJSON(tx.Bucket(bucketLists), []byte(name), &l)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("list %q: %w", name, ErrNotFound)
	}
	return &l, nil
}

// getMember reads a member in tx; nil when addr is not a member.
func getMember(tx *bolt.Tx, list, addr string) (*Member, error) {
	var m Member
	ok, err := getJSON(sub(tx, bucketMembers, list), []byte(strings.ToLower(addr)), &m)
	if err != nil || !ok {
		return nil, err
	}
	return &m, nil
}

// putMember writes m in tx.
func putMember(tx *bolt.Tx, list string, m *Member) error {
	b, err := mustSub(tx, bucketMembers, list)
	if err != nil {
		return err
	}
	return putJSON(b, []byte(m.Addr), m)
}

// normaliseList checks l and fills its defaults.
func (s *Service) normaliseList(l *List) error {
	if err := checkName(l.Name); err != nil {
		return err
	}
	l.Domain = strings.ToLower(strings.TrimSpace(l.Domain))
	if l.Domain == "" {
		l.Domain = s.mailDomain
	}
	if strings.ContainsAny(l.Domain, " @<>\r\n\t") || !strings.Contains(l.Domain, ".") && l.Domain != "localhost" {
		return fmt.Errorf("mail domain %q: %w", l.Domain, ErrBadAddress)
	}
	if l.Policy == "" {
		l.Policy = PolicyMembers
	}
	if !l.Policy.valid() {
		return fmt.Errorf("unknown posting policy %q (members, anyone, moderated, announce)", l.Policy)
	}
	if l.MaxBytes < 0 {
		l.MaxBytes = 0
	}
	l.Title = strings.TrimSpace(strings.Map(noControl, l.Title))
	l.SubjectTag = strings.TrimSpace(strings.Map(noControl, l.SubjectTag))
	if l.Lang == "" {
		l.Lang = "fr"
	}
	var mods []string
	for _, m := range l.moderators() {
		a, err := cleanAddr(m)
		if err != nil {
			return fmt.Errorf("moderator: %w", err)
		}
		if !slices.Contains(mods, a) {
			mods = append(mods, a)
		}
	}
	l.Moderators = strings.Join(mods, ", ")
	return nil
}

// noControl drops control characters (header injection) in strings.Map.
func noControl(r rune) rune {
	if r < 0x20 || r == 0x7f {
		return -1
	}
	return r
}

// CreateList creates l, filling defaults (domain, policy, size).
func (s *Service) CreateList(l List) error {
	if err := s.normaliseList(&l); err != nil {
		return err
	}
	if l.Created.IsZero() {
		l.Created = s.cfg.Now().UTC()
	}
	return s.cfg.DB.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLists)
		if b.Get([]byte(l.Name)) != nil {
			return fmt.Errorf("list %q: %w", l.Name, ErrExists)
		}
		for _, top := range perList {
			if _, err := mustSub(tx, top, l.Name); err != nil {
				return err
			}
		}
		return putJSON(b, []byte(l.Name), &l)
	})
}

// UpdateList saves the settings of the existing list l.Name.
func (s *Service) UpdateList(l List) error {
	if err := s.normaliseList(&l); err != nil {
		return err
	}
	return s.cfg.DB.Update(func(tx *bolt.Tx) error {
		old, err := getList(tx, l.Name)
		if err != nil {
			return err
		}
		l.Created = old.Created
		if err := putJSON(tx.Bucket(bucketLists), []byte(l.Name), &l); err != nil {
			return err
		}
		if old.Private != l.Private {
			return s.reindexList(tx, &l, false)
		}
		return nil
	})
}

// DeleteList removes a list, its members and its archive.
func (s *Service) DeleteList(name string) error {
	defer s.bodies.forgetList(name)
	return s.cfg.DB.Update(func(tx *bolt.Tx) error {
		tx.OnCommit(func() { s.threads.bump(name) })
		l, err := getList(tx, name)
		if err != nil {
			return err
		}
		if err := s.reindexList(tx, l, true); err != nil {
			return err
		}
		for _, top := range perList {
			if b := tx.Bucket(top); b != nil && b.Bucket([]byte(name)) != nil {
				if err := b.DeleteBucket([]byte(name)); err != nil {
					return err
				}
			}
		}
		if err := digestForgetTx(tx, name); err != nil {
			return err
		}
		return tx.Bucket(bucketLists).Delete([]byte(name))
	})
}

// List returns the list called name, or ErrNotFound.
func (s *Service) List(name string) (*List, error) {
	var l *List
	err := s.cfg.DB.View(func(tx *bolt.Tx) (err error) {
		l, err = getList(tx, name)
		return err
	})
	return l, err
}

// Lists returns every list, by name.
func (s *Service) Lists() ([]List, error) {
	var lists []List
	err := s.cfg.DB.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLists).ForEach(func(k, v []byte) error {
			var l List
			if err := json.Unmarshal(v, &l); err != nil {
				return fmt.Errorf("list %q: %w", k, err)
			}
			lists = append(lists, l)
			return nil
		})
	})
	return lists, err
}

// Members returns the members of list, by address.
func (s *Service) Members(list string) ([]Member, error) {
	var ms []Member
	err := s.cfg.DB.View(func(tx *bolt.Tx) error {
		if _, err := getList(tx, list); err != nil {
			return err
		}
		b := sub(tx, bucketMembers, list)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var m Member
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("member %q: %w", k, err)
			}
			ms = append(ms, m)
			return nil
		})
	})
	return ms, err
}

// Member returns one member of list, or ErrNotFound.
func (s *Service) Member(list, addr string) (*Member, error) {
	var m *Member
	err := s.cfg.DB.View(func(tx *bolt.Tx) (err error) {
		m, err = getMember(tx, list, addr)
		return err
	})
	if err == nil && m == nil {
		err = fmt.Errorf("member %q of %q: %w", addr, list, ErrNotFound)
	}
	return m, err
}

// AddMember subscribes m to list without confirmation (an administrator's
// or a command's act); ErrExists when it is a member already.
func (s *Service) AddMember(list string, m Member) error {
	return s.cfg.DB.Update(func(tx *bolt.Tx) error {
		return s.addMemberTx(tx, list, &m)
	})
}

// addMemberTx subscribes m to list in tx, filling its defaults.
func (s *Service) addMemberTx(tx *bolt.Tx, list string, m *Member) error {
	if _, err := getList(tx, list); err != nil {
		return err
	}
	addr, err := cleanAddr(m.Addr)
	if err != nil {
		return err
	}
	m.Addr = addr
	m.Name = strings.TrimSpace(strings.Map(noControl, m.Name))
	if m.Mode == "" {
		m.Mode = ModeEach
	}
	if !m.Mode.valid() {
		return fmt.Errorf("unknown delivery mode %q", m.Mode)
	}
	if m.Joined.IsZero() {
		m.Joined = s.cfg.Now().UTC()
	}
	old, err := getMember(tx, list, addr)
	if err != nil {
		return err
	}
	if old != nil {
		return fmt.Errorf("%s in %s: %w", addr, list, ErrExists)
	}
	return putMember(tx, list, m)
}

// RemoveMember unsubscribes addr from list.
func (s *Service) RemoveMember(list, addr string) error {
	return s.cfg.DB.Update(func(tx *bolt.Tx) error {
		return removeMemberTx(tx, list, addr)
	})
}

// removeMemberTx unsubscribes addr from list in tx, or returns ErrNotFound.
func removeMemberTx(tx *bolt.Tx, list, addr string) error {
	m, err := getMember(tx, list, addr)
	if err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("member %q of %q: %w", addr, list, ErrNotFound)
	}
	return sub(tx, bucketMembers, list).Delete([]byte(m.Addr))
}

// SetMode changes how a member receives the list's mail.
func (s *Service) SetMode(list, addr string, mode Mode) error {
	if !mode.valid() {
		return fmt.Errorf("unknown delivery mode %q", mode)
	}
	return s.cfg.DB.Update(func(tx *bolt.Tx) error {
		m, err := getMember(tx, list, addr)
		if err != nil {
			return err
		}
		if m == nil {
			return fmt.Errorf("member %q of %q: %w", addr, list, ErrNotFound)
		}
		m.Mode = mode
		if mode != ModeBouncing {
			m.BounceScore = 0
		}
		return putMember(tx, list, m)
	})
}

// SetAlwaysAccept sets whether the posts of addr to list skip moderation:
// for a member, its AlwaysAccept; for anyone else, the list's accept list.
func (s *Service) SetAlwaysAccept(list, addr string, on bool) error {
	return s.cfg.DB.Update(func(tx *bolt.Tx) error {
		return s.setAlwaysAcceptTx(tx, list, addr, on)
	})
}

// setAlwaysAcceptTx is SetAlwaysAccept in tx.
func (s *Service) setAlwaysAcceptTx(tx *bolt.Tx, list, addr string, on bool) error {
	if _, err := getList(tx, list); err != nil {
		return err
	}
	a, err := cleanAddr(addr)
	if err != nil {
		return err
	}
	m, err := getMember(tx, list, a)
	if err != nil {
		return err
	}
	if m != nil {
		m.AlwaysAccept = on
		return putMember(tx, list, m)
	}
	b, err := mustSub(tx, bucketAccept, list)
	if err != nil {
		return err
	}
	if !on {
		return b.Delete([]byte(a))
	}
	return b.Put([]byte(a), []byte(s.cfg.Now().UTC().Format(time.RFC3339)))
}

// ImportMembers adds the members of a CSV file (address, then an optional
// name) to list, skipping those already there; it returns how many it
// added and the lines it could not read.
func (s *Service) ImportMembers(list string, r io.Reader) (added int, bad []string, err error) {
	if _, err := s.List(list); err != nil {
		return 0, nil, err
	}
	cr := csv.NewReader(io.LimitReader(r, 16<<20))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	var ms []Member
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var perr *csv.ParseError
			if errors.As(err, &perr) {
				bad = append(bad, fmt.Sprintf("%d: %v", line, perr.Err))
				continue
			}
			return 0, bad, fmt.Errorf("read members: %w", err)
		}
		if len(rec) == 0 || strings.TrimSpace(rec[0]) == "" {
			continue
		}
		addr, aerr := cleanAddr(rec[0])
		if aerr != nil {
			if line == 1 && strings.Contains(strings.ToLower(rec[0]), "addr") {
				continue // a header line
			}
			bad = append(bad, fmt.Sprintf("%d: %s", line, rec[0]))
			continue
		}
		m := Member{Addr: addr}
		if len(rec) > 1 {
			m.Name = rec[1]
		}
		ms = append(ms, m)
	}
	err = s.cfg.DB.Update(func(tx *bolt.Tx) error {
		added = 0
		for _, m := range ms {
			err := s.addMemberTx(tx, list, &m)
			switch {
			case errors.Is(err, ErrExists):
			case err != nil:
				return err
			default:
				added++
			}
		}
		return nil
	})
	return added, bad, err
}

// ExportMembers writes the members of list as CSV (address, name, mode,
// joined).
func (s *Service) ExportMembers(list string, w io.Writer) error {
	ms, err := s.Members(list)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"address", "name", "mode", "joined"}); err != nil {
		return err
	}
	for _, m := range ms {
		if err := cw.Write([]string{m.Addr, m.Name, string(m.Mode), m.Joined.UTC().Format(time.RFC3339)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// HeldMessages returns the messages of list waiting for a moderator,
// oldest first; list "" for every list.
func (s *Service) HeldMessages(list string) ([]Held, error) {
	var held []Held
	err := s.cfg.DB.View(func(tx *bolt.Tx) error {
		var names []string
		if list != "" {
			if _, err := getList(tx, list); err != nil {
				return err
			}
			names = []string{list}
		} else {
			if err := tx.Bucket(bucketLists).ForEach(func(k, _ []byte) error {
				names = append(names, string(k))
				return nil
			}); err != nil {
				return err
			}
		}
		for _, name := range names {
			b := sub(tx, bucketHeld, name)
			if b == nil {
				continue
			}
			if err := b.ForEach(func(k, v []byte) error {
				var h heldRecord
				if err := json.Unmarshal(v, &h); err != nil {
					return fmt.Errorf("held %x: %w", k, err)
				}
				held = append(held, h.Held)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	slices.SortStableFunc(held, func(a, b Held) int { return a.Received.Compare(b.Received) })
	return held, err
}

// HeldRaw returns the raw bytes of a held message.
func (s *Service) HeldRaw(list string, id uint64) ([]byte, error) {
	var raw []byte
	err := s.cfg.DB.View(func(tx *bolt.Tx) error {
		b := sub(tx, bucketHeldRaw, list)
		if b == nil {
			return fmt.Errorf("list %q: %w", list, ErrNotFound)
		}
		v := b.Get(u64(id))
		if v == nil {
			return fmt.Errorf("held message %d of %q: %w", id, list, ErrNotFound)
		}
		raw = bytes.Clone(v)
		return nil
	})
	return raw, err
}

// Relay returns how mail leaves.
func (s *Service) Relay() delivery.Relay { return *s.relay.Load() }

// SetRelay saves how mail leaves.
func (s *Service) SetRelay(r delivery.Relay) error {
	switch r.Way {
	case delivery.Outbox, delivery.MX:
	case delivery.Smarthost:
		if r.Host == "" {
			return errors.New("a smarthost needs a host name")
		}
		if r.Port == 0 {
			r.Port = 587
		}
	default:
		return fmt.Errorf("unknown relay way %q (outbox, smarthost, mx)", r.Way)
	}
	err := s.cfg.DB.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketSettings), []byte("relay"), &r)
	})
	if err != nil {
		return fmt.Errorf("save relay: %w", err)
	}
	s.relay.Store(&r)
	s.queue.Kick()
	return nil
}

// QueueStats returns what the delivery queue holds.
func (s *Service) QueueStats() (delivery.Stats, error) { return s.queue.Stats() }

// MailDomain returns the mail domain of new lists.
func (s *Service) MailDomain() string { return s.mailDomain }

// BaseURL returns the absolute URL of the web pages used in mail, without
// a trailing slash.
func (s *Service) BaseURL() string { return s.baseURL }

// migrations is the lists' append-only schema history.
func migrations(rand func([]byte)) []store.Migration {
	return []store.Migration{{
		Name: "create the list buckets and the token secret",
		Up: func(tx *bolt.Tx) error {
			for _, b := range append([][]byte{bucketLists, bucketConfirm, bucketSettings}, perList...) {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			secret := make([]byte, 32)
			rand(secret)
			return tx.Bucket(bucketSettings).Put([]byte("secret"), secret)
		},
	}, {
		Name: "index the archive by thread and by month; erased messages' tombstones",
		Up: func(tx *bolt.Tx) error {
			for _, b := range [][]byte{bucketByThread, bucketOrphans, bucketMonths, bucketErased} {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			return tx.Bucket(bucketLists).ForEach(func(name, _ []byte) error {
				ab, err := openArchive(tx, nil, string(name))
				if err != nil {
					return err
				}
				return ab.metas.ForEach(func(k, v []byte) error {
					var a Archived
					if err := json.Unmarshal(v, &a); err != nil {
						return fmt.Errorf("message %x of %s: %w", k, name, err)
					}
					if err := ab.byThread.Put(threadKey(a.Thread, a.Seq), nil); err != nil {
						return err
					}
					return addMonth(ab.months, a.Date, 1)
				})
			})
		},
	}}
}

// u64 returns n as 8 big-endian bytes.
func u64(n uint64) []byte {
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i] = byte(n)
		n >>= 8
	}
	return b
}

// fromU64 reads 8 big-endian bytes.
func fromU64(b []byte) uint64 {
	var n uint64
	for _, c := range b[:min(8, len(b))] {
		n = n<<8 | uint64(c)
	}
	return n
}
