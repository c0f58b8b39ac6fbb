package mailinglist

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"codeberg.org/placette/placette/mailinglist/mailmsg"
	bolt "go.etcd.io/bbolt"
)

// MessageDoc is what the search index is given of an archived message.
type MessageDoc struct {
	List    string
	ID      string // the Message-ID, without angle brackets
	Seq     uint64 // its key in the list's archive
	Thread  uint64 // Seq of its thread's first message
	Subject string
	From    string // the author's name (or an obfuscated address): never an address in clear
	Date    time.Time
	Text    string // the body's text without the quoted lines
	Private bool   // the list's archive is for its members only
}

// Indexer is how the search index learns of archived messages, without
// the lists importing it. MessageChanged is called inside the write
// transaction of every message archived, imported, re-threaded or erased,
// and for every message of a list whose privacy changes or that is
// deleted, so that the index's pending queue and the archive commit
// together (DESIGN.md, "Data"). doc is nil when the message was removed.
// It must write only to its own buckets and must not commit tx.
type Indexer interface {
	MessageChanged(tx *bolt.Tx, list string, seq uint64, doc *MessageDoc) error
}

// archive is the sub-buckets of one list's archive in a write
// transaction.
type archive struct {
	tx                                        *bolt.Tx
	list                                      string
	metas, raw, ids, dates, threads, activity *bolt.Bucket
	subjects, byThread, orphans, months       *bolt.Bucket
	erased                                    *bolt.Bucket
}

// openArchive returns the archive of list in the write transaction tx,
// creating its sub-buckets when needed; svc (can be nil) has its caches
// of list's pages dropped when tx commits.
func openArchive(tx *bolt.Tx, svc *Service, list string) (*archive, error) {
	ab := &archive{tx: tx, list: list}
	if svc != nil {
		tx.OnCommit(func() { svc.threads.bump(list) })
	}
	for _, b := range []struct {
		top []byte
		dst **bolt.Bucket
	}{
		{bucketMessages, &ab.metas}, {bucketRaw, &ab.raw}, {bucketMsgIDs, &ab.ids},
		{bucketDates, &ab.dates}, {bucketThreads, &ab.threads}, {bucketActivity, &ab.activity},
		{bucketSubjects, &ab.subjects}, {bucketByThread, &ab.byThread}, {bucketOrphans, &ab.orphans},
		{bucketMonths, &ab.months}, {bucketErased, &ab.erased},
	} {
		var err error
		if *b.dst, err = mustSub(tx, b.top, list); err != nil {
			return nil, fmt.Errorf("archive of %s: %w", list, err)
		}
	}
	return ab, nil
}

// meta reads the metadata of message seq; nil when there is none.
func (ab *archive) meta(seq uint64) (*Archived, error) {
	var a Archived
	ok, err := getJSON(ab.metas, u64(seq), &a)
	if err != nil || !ok {
		return nil, err
	}
	return &a, nil
}

// threadKey is the key of message seq in list/bythread.
func threadKey(root, seq uint64) []byte { return append(u64(root), u64(seq)...) }

// orphanKey is the key, in list/orphans, of message seq waiting for the
// message id.
func orphanKey(id string, seq uint64) []byte {
	return append([]byte(id+"\x00"), u64(seq)...)
}

// monthKey is the key of t's month in list/months: "YYYYMM".
func monthKey(t time.Time) []byte { return []byte(t.UTC().Format("200601")) }

// addMonth adds delta to the count of messages of t's month.
func addMonth(b *bolt.Bucket, t time.Time, delta int) error {
	k := monthKey(t)
	n := int64(fromU64(b.Get(k))) + int64(delta)
	if n <= 0 {
		return b.Delete(k)
	}
	return b.Put(k, u64(uint64(n)))
}

// maxCandidates bounds the ids a message's parent is looked for among.
const maxCandidates = 64

// parentCandidates returns the Message-IDs that a's parent may have, best
// first: In-Reply-To, then References from the newest; never a's own id,
// never twice, at most maxCandidates.
func parentCandidates(a *Archived) []string {
	out := make([]string, 0, 1+min(len(a.References), maxCandidates))
	add := func(id string) {
		if id != "" && id != a.MessageID && !slices.Contains(out, id) && len(out) < maxCandidates {
			out = append(out, id)
		}
	}
	add(a.InReplyTo)
	for i := len(a.References) - 1; i >= 0; i-- {
		add(a.References[i])
	}
	return out
}

// maxParticipants is how many names a thread keeps.
const maxParticipants = 12

// threadNew finds the parent and thread of the new message a (by its
// In-Reply-To, its References, then its subject when it is a reply),
// notes the better parents it waits for, and updates its thread's summary.
func (s *Service) threadNew(ab *archive, a *Archived) error {
	cands := parentCandidates(a)
	rank := len(cands)
	for i, p := range cands {
		v := ab.ids.Get([]byte(p))
		if v == nil {
			continue
		}
		pm, err := ab.meta(fromU64(v))
		if err != nil {
			return err
		}
		if pm != nil {
			a.Parent, a.Thread, rank = pm.Seq, pm.Thread, i
			break
		}
	}
	for _, p := range cands[:rank] {
		if err := ab.orphans.Put(orphanKey(p, a.Seq), nil); err != nil {
			return err
		}
	}
	norm, reply := normaliseSubject(a.Subject)
	if a.Thread == 0 && norm != "" && (reply || len(cands) > 0) {
		if v := ab.subjects.Get([]byte(norm)); v != nil && ab.threads.Get(v) != nil {
			a.Thread = fromU64(v)
		}
	}
	var th Thread
	found := false
	if a.Thread != 0 {
		var err error
		if found, err = getJSON(ab.threads, u64(a.Thread), &th); err != nil {
			return err
		}
	}
	who := displayName(a.FromName, a.FromAddr)
	if !found {
		a.Thread = a.Seq
		th = Thread{Root: a.Seq, Subject: a.Subject, First: a.Date, Last: a.Date, Count: 1, LastFrom: who, Participants: []string{who}}
		if norm != "" {
			if err := ab.subjects.Put([]byte(norm), u64(a.Seq)); err != nil {
				return err
			}
		}
	} else {
		if err := ab.activity.Delete(timeKey(th.Last, th.Root)); err != nil {
			return err
		}
		th.Count++
		if !a.Date.Before(th.Last) {
			th.Last, th.LastFrom = a.Date, who
		}
		if a.Date.Before(th.First) {
			th.First = a.Date
		}
		if !slices.Contains(th.Participants, who) && len(th.Participants) < maxParticipants {
			th.Participants = append(th.Participants, who)
		}
	}
	if err := putJSON(ab.threads, u64(th.Root), &th); err != nil {
		return err
	}
	return ab.activity.Put(timeKey(th.Last, th.Root), nil)
}

// adoptTx re-attaches under x, just archived, the messages that name it as
// a better parent than the one they have: replies that arrived before the
// message they answer. A reply that was the first of its own thread
// brings that whole thread with it; one inside another thread brings its
// replies. A message is never attached under its own descendant
// (References may loop).
func (s *Service) adoptTx(ab *archive, l *List, x *Archived) error {
	prefix := []byte(x.MessageID + "\x00")
	var waiting []uint64
	c := ab.orphans.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) == len(prefix)+8 {
			waiting = append(waiting, fromU64(k[len(prefix):]))
		}
	}
	for _, seq := range waiting {
		if err := ab.orphans.Delete(orphanKey(x.MessageID, seq)); err != nil {
			return err
		}
	}
	for _, seq := range waiting {
		ch, err := ab.meta(seq)
		if err != nil {
			return err
		}
		if ch == nil {
			continue
		}
		cands := parentCandidates(ch)
		rank := slices.Index(cands, x.MessageID)
		if rank < 0 {
			continue
		}
		cur := len(cands)
		if ch.Parent != 0 {
			pm, err := ab.meta(ch.Parent)
			if err != nil {
				return err
			}
			if pm != nil {
				if i := slices.Index(cands, pm.MessageID); i >= 0 {
					cur = i
				}
			}
		}
		if rank >= cur {
			continue
		}
		// x may have been re-read since: its thread is what counts.
		nx, err := ab.meta(x.Seq)
		if err != nil || nx == nil {
			return err
		}
		under, err := ab.descends(nx, ch.Seq)
		if err != nil {
			return err
		}
		if under {
			continue
		}
		if err := s.reparentTx(ab, l, ch, nx); err != nil {
			return err
		}
	}
	return nil
}

// descends reports whether a is seq or below it, following parents.
func (ab *archive) descends(a *Archived, seq uint64) (bool, error) {
	cur := a
	for range 10000 {
		if cur.Seq == seq {
			return true, nil
		}
		if cur.Parent == 0 || cur.Parent == cur.Seq {
			return false, nil
		}
		next, err := ab.meta(cur.Parent)
		if err != nil || next == nil {
			return false, err
		}
		cur = next
	}
	return true, nil // a loop: treat as a descendant, never attach
}

// threadMembers returns the metadata of the messages of thread root.
func (ab *archive) threadMembers(root uint64) ([]*Archived, error) {
	var out []*Archived
	prefix := u64(root)
	c := ab.byThread.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) != 16 {
			continue
		}
		a, err := ab.meta(fromU64(k[8:]))
		if err != nil {
			return nil, err
		}
		if a != nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// reparentTx puts ch under x, moving it (with its replies, or its whole
// thread when it was the first) into x's thread.
func (s *Service) reparentTx(ab *archive, l *List, ch, x *Archived) error {
	oldRoot, newRoot := ch.Thread, x.Thread
	if oldRoot == newRoot {
		ch.Parent = x.Seq
		return putJSON(ab.metas, u64(ch.Seq), ch)
	}
	members, err := ab.threadMembers(oldRoot)
	if err != nil {
		return err
	}
	moved := members
	if ch.Seq != oldRoot {
		moved = subtree(members, ch.Seq)
	}
	var old Thread
	if _, err := getJSON(ab.threads, u64(oldRoot), &old); err != nil {
		return err
	}
	for _, m := range moved {
		if err := ab.byThread.Delete(threadKey(oldRoot, m.Seq)); err != nil {
			return err
		}
		m.Thread = newRoot
		if m.Seq == ch.Seq {
			m.Parent = x.Seq
		}
		if err := putJSON(ab.metas, u64(m.Seq), m); err != nil {
			return err
		}
		if err := ab.byThread.Put(threadKey(newRoot, m.Seq), nil); err != nil {
			return err
		}
		if err := s.indexTx(ab, l, m, nil); err != nil {
			return err
		}
	}
	if err := ab.recomputeThread(oldRoot); err != nil {
		return err
	}
	if len(moved) == len(members) {
		// The old thread is gone: its subject leads to the new one.
		if norm, _ := normaliseSubject(old.Subject); norm != "" && fromU64(ab.subjects.Get([]byte(norm))) == oldRoot {
			if err := ab.subjects.Put([]byte(norm), u64(newRoot)); err != nil {
				return err
			}
		}
	}
	return ab.recomputeThread(newRoot)
}

// subtree returns the members that are seq or below it.
func subtree(members []*Archived, seq uint64) []*Archived {
	children := map[uint64][]*Archived{}
	var top *Archived
	for _, m := range members {
		if m.Seq == seq {
			top = m
			continue
		}
		children[m.Parent] = append(children[m.Parent], m)
	}
	if top == nil {
		return nil
	}
	out := []*Archived{top}
	seen := map[uint64]bool{seq: true}
	for i := 0; i < len(out); i++ {
		for _, c := range children[out[i].Seq] {
			if !seen[c.Seq] {
				seen[c.Seq] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// recomputeThread rewrites the summary of thread root from its messages,
// deleting it when none is left.
func (ab *archive) recomputeThread(root uint64) error {
	var old Thread
	had, err := getJSON(ab.threads, u64(root), &old)
	if err != nil {
		return err
	}
	if had {
		if err := ab.activity.Delete(timeKey(old.Last, root)); err != nil {
			return err
		}
	}
	members, err := ab.threadMembers(root)
	if err != nil {
		return err
	}
	if len(members) == 0 {
		if had {
			if norm, _ := normaliseSubject(old.Subject); norm != "" && fromU64(ab.subjects.Get([]byte(norm))) == root {
				if err := ab.subjects.Delete([]byte(norm)); err != nil {
					return err
				}
			}
		}
		return ab.threads.Delete(u64(root))
	}
	th := summarise(root, members)
	if err := putJSON(ab.threads, u64(root), &th); err != nil {
		return err
	}
	return ab.activity.Put(timeKey(th.Last, root), nil)
}

// summarise returns the summary of thread root made of members.
func summarise(root uint64, members []*Archived) Thread {
	ms := slices.Clone(members)
	slices.SortStableFunc(ms, func(a, b *Archived) int {
		if c := a.Date.Compare(b.Date); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	th := Thread{Root: root, Subject: ms[0].Subject, First: ms[0].Date, Count: len(ms)}
	for _, m := range ms {
		if m.Seq == root {
			th.Subject = m.Subject
		}
		who := displayName(m.FromName, m.FromAddr)
		if !m.Date.Before(th.Last) {
			th.Last, th.LastFrom = m.Date, who
		}
		if !slices.Contains(th.Participants, who) && len(th.Participants) < maxParticipants {
			th.Participants = append(th.Participants, who)
		}
	}
	return th
}

// indexTx tells the indexer of a's new state; msg is parsed from the raw
// message when nil.
func (s *Service) indexTx(ab *archive, l *List, a *Archived, msg *mailmsg.Message) error {
	if s.cfg.Indexer == nil {
		return nil
	}
	if msg == nil {
		msg, _ = mailmsg.Parse(ab.raw.Get(u64(a.Seq)))
	}
	doc := messageDoc(l, a, msg)
	if err := s.cfg.Indexer.MessageChanged(ab.tx, l.Name, a.Seq, doc); err != nil {
		return fmt.Errorf("index message %d of %s: %w", a.Seq, l.Name, err)
	}
	return nil
}

// messageDoc returns what the index is given of a; msg can be nil.
func messageDoc(l *List, a *Archived, msg *mailmsg.Message) *MessageDoc {
	doc := &MessageDoc{
		List: l.Name, ID: a.MessageID, Seq: a.Seq, Thread: a.Thread,
		Subject: a.Subject, From: displayName(a.FromName, a.FromAddr),
		Date: a.Date, Private: l.Private,
	}
	if msg != nil {
		doc.Text = withoutQuotes(msg.Text)
	}
	return doc
}

// withoutQuotes returns text without its quoted lines (those starting
// with ">") and without its signature.
func withoutQuotes(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	for line := range strings.Lines(text) {
		t := strings.TrimRight(line, "\r\n")
		if t == "-- " {
			break
		}
		if strings.HasPrefix(strings.TrimLeft(t, " "), ">") {
			continue
		}
		b.WriteString(t)
		b.WriteByte('\n')
	}
	return b.String()
}
