package mailinglist

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/mailinglist/mailmsg"
	bolt "go.etcd.io/bbolt"
)

// Archived is what the archive keeps of a message beside its raw bytes.
type Archived struct {
	Seq        uint64 // its key in the list's archive, in order of arrival
	MessageID  string // without angle brackets; made from a hash of the raw bytes when missing
	Date       time.Time
	FromName   string
	FromAddr   string
	Subject    string
	InReplyTo  string
	References []string
	Thread     uint64 // Seq of the thread's first message
	Parent     uint64 // Seq of the message it answers; 0 when unknown
	Size       int
	Received   time.Time
}

// Thread is a conversation of a list's archive.
type Thread struct {
	Root     uint64 // Seq of its first message: the thread's id
	Subject  string
	First    time.Time
	Last     time.Time
	Count    int
	LastFrom string // the name of the newest message's author (see displayName)
	// Participants are the names of the thread's authors, in order of
	// their first message, at most maxParticipants.
	Participants []string
}

// author returns the display name and address of msg's author, falling
// back on reading the From field of raw.
func author(msg *mailmsg.Message, raw []byte) (name, addr string) {
	if msg != nil && msg.From.Addr != "" {
		return msg.From.Name, msg.From.Addr
	}
	fields, _ := splitMessage(raw)
	if v := fieldValue(fields, "From"); v != "" {
		if a, err := mail.ParseAddress(v); err == nil {
			return a.Name, a.Address
		}
	}
	return "", ""
}

// subjectOf returns msg's decoded subject, falling back on raw's.
func subjectOf(msg *mailmsg.Message, raw []byte) string {
	if msg != nil && msg.Subject != "" {
		return msg.Subject
	}
	fields, _ := splitMessage(raw)
	v := fieldValue(fields, "Subject")
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		return d
	}
	return v
}

// messageIDOf returns the Message-ID of msg, or one made from raw's hash
// at domain when it has none.
func messageIDOf(msg *mailmsg.Message, raw []byte, domain string) string {
	id := ""
	if msg != nil {
		id = msg.MessageID
	}
	if id == "" {
		fields, _ := splitMessage(raw)
		id = strings.Trim(strings.TrimSpace(fieldValue(fields, "Message-ID")), "<>")
	}
	if id == "" || len(id) > 900 {
		sum := sha256.Sum256(raw)
		id = "placette." + hex.EncodeToString(sum[:12]) + "@" + domain
	}
	return id
}

var (
	tagRE   = regexp.MustCompile(`^\s*\[[^\]]{1,64}\]\s*`)
	spaceRE = regexp.MustCompile(`\s+`)
)

// normaliseSubject returns subject without reply prefixes and list tags,
// lower-cased with single spaces, and whether it had a reply prefix.
func normaliseSubject(subject string) (norm string, reply bool) {
	s := subject
	for range 10 {
		before := s
		s = tagRE.ReplaceAllString(s, "")
		if t := replyPrefixRE.ReplaceAllString(s, ""); t != s {
			reply = true
			s = t
		}
		if s == before {
			break
		}
	}
	s = strings.ToLower(strings.TrimSpace(spaceRE.ReplaceAllString(s, " ")))
	if len(s) > 200 {
		s = s[:200]
	}
	return s, reply
}

// timeKey returns the big-endian Unix nanoseconds of t followed by seq.
func timeKey(t time.Time, seq uint64) []byte {
	n := t.UnixNano()
	if n < 0 || t.Year() < 1970 {
		n = 0
	}
	if t.Year() > 2200 {
		n = math.MaxInt64
	}
	return append(u64(uint64(n)), u64(seq)...)
}

// archiveTx stores raw (CRLF line endings) and its metadata in list l's
// archive and threads it, in tx. dup is true, and nothing is written, when
// the archive has a message with the same Message-ID already, or had one
// that a moderator erased (its tombstone keeps it out).
func (s *Service) archiveTx(tx *bolt.Tx, l *List, raw []byte, msg *mailmsg.Message, received time.Time) (a *Archived, dup bool, err error) {
	ab, err := openArchive(tx, s, l.Name)
	if err != nil {
		return nil, false, err
	}
	id := messageIDOf(msg, raw, l.Domain)
	if v := ab.ids.Get([]byte(id)); v != nil {
		var old Archived
		_, err := getJSON(ab.metas, v, &old)
		return &old, true, err
	}
	if ab.erased.Get([]byte(id)) != nil {
		return &Archived{MessageID: id}, true, nil
	}
	seq, err := ab.metas.NextSequence()
	if err != nil {
		return nil, false, err
	}
	a = &Archived{Seq: seq, MessageID: id, Size: len(raw), Received: received.UTC()}
	a.FromName, a.FromAddr = author(msg, raw)
	a.Subject = subjectOf(msg, raw)
	if msg != nil {
		a.Date = msg.Date
		a.InReplyTo = msg.InReplyTo
		a.References = msg.References
	}
	if a.Date.IsZero() || a.Date.After(received.Add(24*time.Hour)) || a.Date.UTC().Year() < 1970 {
		a.Date = received
	}
	a.Date = a.Date.UTC()
	if err := s.threadNew(ab, a); err != nil {
		return nil, false, err
	}
	if err := putJSON(ab.metas, u64(seq), a); err != nil {
		return nil, false, err
	}
	if err := ab.raw.Put(u64(seq), raw); err != nil {
		return nil, false, err
	}
	if err := ab.dates.Put(timeKey(a.Date, seq), nil); err != nil {
		return nil, false, err
	}
	if err := ab.byThread.Put(threadKey(a.Thread, seq), nil); err != nil {
		return nil, false, err
	}
	if err := addMonth(ab.months, a.Date, 1); err != nil {
		return nil, false, err
	}
	if err := ab.ids.Put([]byte(id), u64(seq)); err != nil {
		return nil, false, err
	}
	if err := s.indexTx(ab, l, a, msg); err != nil {
		return nil, false, err
	}
	// Replies that came before this message hang under it now.
	if err := s.adoptTx(ab, l, a); err != nil {
		return nil, false, err
	}
	return a, false, nil
}

// ArchivedMessage returns the metadata and raw bytes of the message of
// list with Message-ID id (without angle brackets), or ErrNotFound.
func (s *Service) ArchivedMessage(list, id string) (*Archived, []byte, error) {
	var a Archived
	var raw []byte
	err := s.cfg.DB.View(func(tx *bolt.Tx) error {
		v := sub(tx, bucketMsgIDs, list).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("message %q of %q: %w", id, list, ErrNotFound)
		}
		if _, err := getJSON(sub(tx, bucketMessages, list), v, &a); err != nil {
			return err
		}
		raw = bytes.Clone(sub(tx, bucketRaw, list).Get(v))
		return nil
	})
	if errors.Is(err, ErrNotFound) || err != nil {
		return nil, nil, err
	}
	return &a, raw, nil
}

// Threads returns the n threads of list with the newest activity, newest
// first.
func (s *Service) Threads(list string, n int) ([]Thread, error) {
	var ths []Thread
	err := s.cfg.DB.View(func(tx *bolt.Tx) error {
		if _, err := getList(tx, list); err != nil {
			return err
		}
		var err error
		ths, err = recentThreads(tx, list, n)
		return err
	})
	return ths, err
}

// recentThreads returns the n threads of list with the newest activity.
func recentThreads(tx *bolt.Tx, list string, n int) ([]Thread, error) {
	act := sub(tx, bucketActivity, list)
	threads := sub(tx, bucketThreads, list)
	if act == nil || threads == nil {
		return nil, nil
	}
	var ths []Thread
	c := act.Cursor()
	for k, _ := c.Last(); k != nil && len(ths) < n; k, _ = c.Prev() {
		if len(k) != 16 {
			continue
		}
		var th Thread
		if ok, err := getJSON(threads, k[8:], &th); err != nil {
			return nil, err
		} else if ok {
			ths = append(ths, th)
		}
	}
	return ths, nil
}

// Recent returns the threads with the newest activity that viewer may
// read, for the home page: those of public lists, and of private lists for
// staff.
func (s *Service) Recent(ctx context.Context, viewer *web.User, n int) ([]web.RecentItem, error) {
	var items []web.RecentItem
	err := s.cfg.DB.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLists).ForEach(func(k, v []byte) error {
			var l List
			if err := json.Unmarshal(v, &l); err != nil {
				return err
			}
			if l.Private && !viewer.Staff() {
				return nil
			}
			ths, err := recentThreads(tx, l.Name, n)
			if err != nil {
				return err
			}
			for _, th := range ths {
				items = append(items, web.RecentItem{
					Title: th.Subject,
					URL:   listPath(l.Name, "t", strconv.FormatUint(th.Root, 10)),
					Who:   th.LastFrom,
					When:  th.Last,
				})
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("recent threads: %w", err)
	}
	slices.SortStableFunc(items, func(a, b web.RecentItem) int { return b.When.Compare(a.When) })
	if len(items) > n {
		items = items[:n]
	}
	return items, nil
}

// mboxFromLine reports whether line is one an mboxrd writer escapes, and
// its reader unescapes: `^>*From `. It is called on every line of an
// import or a month's mbox, so it is no regular expression (whose state a
// match of a long line allocates when its pool is empty).
func mboxFromLine(line []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From "))
}

// Export writes every message of list's archive to w as an mboxrd file,
// in order of arrival, and returns how many it wrote.
func (s *Service) Export(ctx context.Context, list string, w io.Writer) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	n := 0
	err := s.cfg.DB.View(func(tx *bolt.Tx) error {
		if _, err := getList(tx, list); err != nil {
			return err
		}
		metas, raws := sub(tx, bucketMessages, list), sub(tx, bucketRaw, list)
		if metas == nil || raws == nil {
			return nil
		}
		c := raws.Cursor()
		for k, raw := c.First(); k != nil; k, raw = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var a Archived
			if _, err := getJSON(metas, k, &a); err != nil {
				return err
			}
			if err := writeMboxMessage(bw, &a, raw, false); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("export %s: %w", list, err)
	}
	return n, bw.Flush()
}

// ImportResult counts what an import did.
type ImportResult struct {
	Added   int      // messages stored
	Already int      // messages the archive had already (same Message-ID)
	Broken  []string // messages skipped, with why
}

// importBatch is the number of messages stored per transaction.
const importBatch = 500

// Import stores the messages of r, an mbox file (mboxrd or mboxo) or one
// message, in list's archive without distributing them: idempotent by
// Message-ID, dates kept. Progress goes to progress (can be nil).
func (s *Service) Import(ctx context.Context, list string, r io.Reader, progress io.Writer) (ImportResult, error) {
	var res ImportResult
	l, err := s.List(list)
	if err != nil {
		return res, err
	}
	type item struct {
		raw []byte
		msg *mailmsg.Message
	}
	var batch []item
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		now := s.cfg.Now()
		err := s.cfg.DB.Update(func(tx *bolt.Tx) error {
			for _, it := range batch {
				// An imported message is dated by its Date field, unless
				// that date cannot be true (before 1970, or later than
				// now: a broken clock); then by the time of the import,
				// as archiveTx does for mail that arrives.
				received := now
				if it.msg != nil && !it.msg.Date.IsZero() && it.msg.Date.UTC().Year() >= 1970 && !it.msg.Date.After(now.Add(24*time.Hour)) {
					received = it.msg.Date
				}
				_, dup, err := s.archiveTx(tx, l, it.raw, it.msg, received)
				if err != nil {
					return err
				}
				if dup {
					res.Already++
				} else {
					res.Added++
				}
			}
			return nil
		})
		batch = batch[:0]
		if progress != nil {
			fmt.Fprintf(progress, "%d imported, %d already there, %d skipped\n", res.Added, res.Already, len(res.Broken))
		}
		return err
	}
	n := 0
	err = readMbox(r, func(raw []byte) error {
		n++
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(raw) > DefaultMaxBytes {
			res.Broken = append(res.Broken, fmt.Sprintf("message %d: larger than %d bytes", n, DefaultMaxBytes))
			return nil
		}
		raw = mailmsg.Normalize(raw)
		msg, err := mailmsg.Parse(raw)
		if err != nil {
			res.Broken = append(res.Broken, fmt.Sprintf("message %d: %v", n, err))
			return nil
		}
		batch = append(batch, item{raw, msg})
		if len(batch) >= importBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return res, fmt.Errorf("import into %s: %w", list, err)
	}
	return res, nil
}

// readMbox calls fn with each message of r: an mbox (mboxrd or mboxo,
// "From " lines separating messages, ">From " lines unescaped once), or,
// when r does not start with a "From " line, one message.
func readMbox(r io.Reader, fn func(raw []byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var cur bytes.Buffer
	mbox, started := false, false
	emit := func() error {
		if !started {
			return nil
		}
		msg := bytes.Clone(cur.Bytes())
		cur.Reset()
		// The blank line before a "From " line belongs to the mbox.
		switch {
		case !mbox:
		case bytes.HasSuffix(msg, []byte("\r\n\r\n")):
			msg = msg[:len(msg)-2]
		case bytes.HasSuffix(msg, []byte("\n\n")):
			msg = msg[:len(msg)-1]
		}
		if len(bytes.TrimSpace(msg)) == 0 {
			return nil
		}
		return fn(msg)
	}
	first := true
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if first {
				first = false
				mbox = bytes.HasPrefix(line, []byte("From "))
				if !mbox {
					started = true
				}
			}
			switch {
			case mbox && bytes.HasPrefix(line, []byte("From ")):
				if err := emit(); err != nil {
					return err
				}
				started = true
			case mbox && mboxFromLine(line):
				cur.Write(line[1:])
			default:
				if cur.Len() > DefaultMaxBytes+1 {
					// Keep reading to the next message; the caller
					// refuses this one by its size.
					continue
				}
				cur.Write(line)
			}
		}
		if err == io.EOF {
			return emit()
		}
		if err != nil {
			return err
		}
	}
}
