package mailinglist

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"codeberg.org/placette/placette/mailinglist/mailmsg"
	bolt "go.etcd.io/bbolt"
)

// ErrErased is returned for a message a moderator removed from the
// archive: its permalink answers 410 Gone.
var ErrErased = errors.New("removed from the archive")

// Tombstone is what is left of an erased message: enough to say so.
type Tombstone struct {
	Seq    uint64
	Thread uint64
	Erased time.Time
}

// Month is a month of an archive and how many messages it holds.
type Month struct {
	Year  int
	Month time.Month
	Count int
}

// Months returns the months of list's archive that hold messages, oldest
// first.
func (s *Service) Months(list string) ([]Month, error) {
	var ms []Month
	err := s.cfg.DB.View(func(tx *bolt.Tx) error {
		b := sub(tx, bucketMonths, list)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			t, err := time.Parse("200601", string(k))
			if err != nil {
				return nil
			}
			ms = append(ms, Month{Year: t.Year(), Month: t.Month(), Count: int(fromU64(v))})
			return nil
		})
	})
	return ms, err
}

// ThreadsPage returns n threads of list from the offset-th newest
// activity, and whether there are more.
func (s *Service) ThreadsPage(list string, offset, n int) ([]Thread, bool, error) {
	var ths []Thread
	more := false
	err := s.cfg.DB.View(func(tx *bolt.Tx) error {
		act, threads := sub(tx, bucketActivity, list), sub(tx, bucketThreads, list)
		if act == nil || threads == nil {
			return nil
		}
		c := act.Cursor()
		i := 0
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			if len(k) != 16 {
				continue
			}
			if i < offset {
				i++
				continue
			}
			if len(ths) == n {
				more = true
				return nil
			}
			var th Thread
			if ok, err := getJSON(threads, k[8:], &th); err != nil {
				return err
			} else if ok {
				ths = append(ths, th)
			}
		}
		return nil
	})
	return ths, more, err
}

// Thread returns the summary of list's thread root and its messages in
// order of date.
func (s *Service) Thread(list string, root uint64) (*Thread, []Archived, error) {
	var th Thread
	var msgs []Archived
	err := s.cfg.DB.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(sub(tx, bucketThreads, list), u64(root), &th)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("thread %d of %q: %w", root, list, ErrNotFound)
		}
		bt, metas := sub(tx, bucketByThread, list), sub(tx, bucketMessages, list)
		if bt == nil {
			return nil
		}
		prefix := u64(root)
		c := bt.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var a Archived
			if ok, err := getJSON(metas, k[8:], &a); err != nil {
				return err
			} else if ok {
				msgs = append(msgs, a)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	slices.SortStableFunc(msgs, func(a, b Archived) int {
		if c := a.Date.Compare(b.Date); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	return &th, msgs, nil
}

// MessagesBetween returns the messages of list dated in [from, to), in
// order of date, at most n (0 for all).
func (s *Service) MessagesBetween(list string, from, to time.Time, n int) ([]Archived, error) {
	var msgs []Archived
	err := s.cfg.DB.View(func(tx *bolt.Tx) error {
		dates, metas := sub(tx, bucketDates, list), sub(tx, bucketMessages, list)
		if dates == nil {
			return nil
		}
		end := timeKey(to, 0)
		c := dates.Cursor()
		for k, _ := c.Seek(timeKey(from, 0)); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
			if len(k) != 16 {
				continue
			}
			var a Archived
			if ok, err := getJSON(metas, k[8:], &a); err != nil {
				return err
			} else if ok {
				msgs = append(msgs, a)
			}
			if n > 0 && len(msgs) >= n {
				break
			}
		}
		return nil
	})
	return msgs, err
}

// Latest returns the n newest messages of list by date, newest first.
func (s *Service) Latest(list string, n int) ([]Archived, error) {
	var msgs []Archived
	err := s.cfg.DB.View(func(tx *bolt.Tx) error {
		dates, metas := sub(tx, bucketDates, list), sub(tx, bucketMessages, list)
		if dates == nil {
			return nil
		}
		c := dates.Cursor()
		for k, _ := c.Last(); k != nil && len(msgs) < n; k, _ = c.Prev() {
			var a Archived
			if ok, err := getJSON(metas, k[8:], &a); err != nil {
				return err
			} else if ok {
				msgs = append(msgs, a)
			}
		}
		return nil
	})
	return msgs, err
}

// message returns the metadata and raw bytes of list's message id, or
// ErrErased with its tombstone, or ErrNotFound.
func (s *Service) message(list, id string) (*Archived, []byte, *Tombstone, error) {
	var a Archived
	var raw []byte
	var ts *Tombstone
	err := s.cfg.DB.View(func(tx *bolt.Tx) error {
		v := sub(tx, bucketMsgIDs, list).Get([]byte(id))
		if v == nil {
			var t Tombstone
			if ok, err := getJSON(sub(tx, bucketErased, list), []byte(id), &t); err != nil {
				return err
			} else if ok {
				ts = &t
				return fmt.Errorf("message %q of %q: %w", id, list, ErrErased)
			}
			return fmt.Errorf("message %q of %q: %w", id, list, ErrNotFound)
		}
		if _, err := getJSON(sub(tx, bucketMessages, list), v, &a); err != nil {
			return err
		}
		raw = bytes.Clone(sub(tx, bucketRaw, list).Get(v))
		return nil
	})
	if err != nil {
		return nil, nil, ts, err
	}
	return &a, raw, nil, nil
}

// rawOf returns the raw bytes of message seq of list, nil when there is
// none; the slice is a copy.
func (s *Service) rawOf(list string, seq uint64) []byte {
	var raw []byte
	s.cfg.DB.View(func(tx *bolt.Tx) error {
		if b := sub(tx, bucketRaw, list); b != nil {
			raw = bytes.Clone(b.Get(u64(seq)))
		}
		return nil
	})
	return raw
}

// Erase removes the message id (without angle brackets) from list's
// archive everywhere it was shown, its replies re-attached to its parent,
// and leaves a tombstone so that its permalink answers 410 Gone and the
// same message is never archived again. ErrNotFound when there is no
// such message.
func (s *Service) Erase(list, id string) error {
	var seq uint64
	err := s.cfg.DB.Update(func(tx *bolt.Tx) error {
		l, err := getList(tx, list)
		if err != nil {
			return err
		}
		ab, err := openArchive(tx, s, list)
		if err != nil {
			return err
		}
		v := ab.ids.Get([]byte(id))
		if v == nil {
			return fmt.Errorf("message %q of %q: %w", id, list, ErrNotFound)
		}
		a, err := ab.meta(fromU64(v))
		if err != nil {
			return err
		}
		if a == nil {
			return fmt.Errorf("message %q of %q: %w", id, list, ErrNotFound)
		}
		seq = a.Seq
		return s.eraseTx(ab, l, a)
	})
	if err != nil {
		return fmt.Errorf("erase %s from %s: %w", id, list, err)
	}
	s.bodies.forget(list, seq)
	s.logger.Info("message erased", "list", list, "seq", seq)
	return nil
}

// eraseTx is Erase in a transaction.
func (s *Service) eraseTx(ab *archive, l *List, a *Archived) error {
	members, err := ab.threadMembers(a.Thread)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.Parent != a.Seq || m.Seq == a.Seq {
			continue
		}
		m.Parent = a.Parent
		if err := putJSON(ab.metas, u64(m.Seq), m); err != nil {
			return err
		}
	}
	for _, p := range parentCandidates(a) {
		if err := ab.orphans.Delete(orphanKey(p, a.Seq)); err != nil {
			return err
		}
	}
	for _, op := range []struct {
		b   *bolt.Bucket
		key []byte
	}{
		{ab.metas, u64(a.Seq)}, {ab.raw, u64(a.Seq)}, {ab.ids, []byte(a.MessageID)},
		{ab.dates, timeKey(a.Date, a.Seq)}, {ab.byThread, threadKey(a.Thread, a.Seq)},
	} {
		if err := op.b.Delete(op.key); err != nil {
			return err
		}
	}
	if err := addMonth(ab.months, a.Date, -1); err != nil {
		return err
	}
	ts := Tombstone{Seq: a.Seq, Thread: a.Thread, Erased: s.cfg.Now().UTC()}
	if err := putJSON(ab.erased, []byte(a.MessageID), &ts); err != nil {
		return err
	}
	if err := ab.recomputeThread(a.Thread); err != nil {
		return err
	}
	if s.cfg.Indexer != nil {
		if err := s.cfg.Indexer.MessageChanged(ab.tx, l.Name, a.Seq, nil); err != nil {
			return fmt.Errorf("unindex message %d of %s: %w", a.Seq, l.Name, err)
		}
	}
	return nil
}

// MessageDocs calls fn with what the search index is given of every
// message of every list, list by list in order of arrival: for rebuilding
// the index.
func (s *Service) MessageDocs(ctx context.Context, fn func(*MessageDoc) error) error {
	return s.cfg.DB.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLists).ForEach(func(k, v []byte) error {
			var l List
			if err := json.Unmarshal(v, &l); err != nil {
				return fmt.Errorf("list %q: %w", k, err)
			}
			return eachDoc(tx, &l, func(doc *MessageDoc) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				return fn(doc)
			})
		})
	})
}

// eachDoc calls fn with the document of every message of l, in tx.
func eachDoc(tx *bolt.Tx, l *List, fn func(*MessageDoc) error) error {
	metas, raws := sub(tx, bucketMessages, l.Name), sub(tx, bucketRaw, l.Name)
	if metas == nil || raws == nil {
		return nil
	}
	return metas.ForEach(func(k, v []byte) error {
		var a Archived
		if err := json.Unmarshal(v, &a); err != nil {
			return fmt.Errorf("message %x of %s: %w", k, l.Name, err)
		}
		msg, _ := mailmsg.Parse(raws.Get(k))
		return fn(messageDoc(l, &a, msg))
	})
}

// reindexList tells the indexer of every message of l again (its privacy
// changed), or of their removal when gone, in tx.
func (s *Service) reindexList(tx *bolt.Tx, l *List, gone bool) error {
	if s.cfg.Indexer == nil {
		return nil
	}
	var docs []*MessageDoc
	if err := eachDoc(tx, l, func(d *MessageDoc) error {
		docs = append(docs, d)
		return nil
	}); err != nil {
		return err
	}
	for _, d := range docs {
		doc := d
		if gone {
			doc = nil
		}
		if err := s.cfg.Indexer.MessageChanged(tx, l.Name, d.Seq, doc); err != nil {
			return fmt.Errorf("index list %s: %w", l.Name, err)
		}
	}
	return nil
}
