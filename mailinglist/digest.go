package mailinglist

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"codeberg.org/placette/placette/mailinglist/delivery"
	"codeberg.org/placette/placette/mailinglist/mailmsg"
	bolt "go.etcd.io/bbolt"
)

// Members in ModeDigest get one mail a day with the day's posts. Each
// distributed post is noted in the nested bucket "digest" of list/settings
// (LIST → SEQ → nothing) in the transaction that archives it; once a day
// per list, housekeeping turns the notes into one digest per digest member
// and removes them in the same transaction, and keeps the time it did in
// list/settings under "digest-last/LIST". A post imported into the archive
// is not distributed, so it never appears in a digest.
const (
	digestEvery    = 24 * time.Hour
	digestMaxPosts = 200      // posts in one digest; the rest wait for the next
	digestMaxText  = 20 << 10 // bytes of one post's text in a digest
)

var digestBucket = []byte("digest")

// digestAddTx notes, in tx, that post seq of list goes into the next
// digest.
func digestAddTx(tx *bolt.Tx, list string, seq uint64) error {
	top, err := tx.Bucket(bucketSettings).CreateBucketIfNotExists(digestBucket)
	if err != nil {
		return err
	}
	b, err := top.CreateBucketIfNotExists([]byte(list))
	if err != nil {
		return err
	}
	return b.Put(u64(seq), nil)
}

// digestForgetTx removes, in tx, what the digests keep of list.
func digestForgetTx(tx *bolt.Tx, list string) error {
	settings := tx.Bucket(bucketSettings)
	if top := settings.Bucket(digestBucket); top != nil && top.Bucket([]byte(list)) != nil {
		if err := top.DeleteBucket([]byte(list)); err != nil {
			return err
		}
	}
	return settings.Delete([]byte("digest-last/" + list))
}

// sendDigests queues the digest of every list whose last digest is a day
// old or more and which has posts waiting.
func (s *Service) sendDigests() error {
	lists, err := s.Lists()
	if err != nil {
		return err
	}
	for i := range lists {
		if err := s.cfg.DB.Update(func(tx *bolt.Tx) error { return s.digestTx(tx, &lists[i]) }); err != nil {
			return fmt.Errorf("digest of %s: %w", lists[i].Name, err)
		}
	}
	return nil
}

// digestTx queues l's digest in tx when one is due.
func (s *Service) digestTx(tx *bolt.Tx, l *List) error {
	settings := tx.Bucket(bucketSettings)
	lastKey := []byte("digest-last/" + l.Name)
	now := s.cfg.Now()
	if v := settings.Get(lastKey); len(v) == 8 {
		last := time.Unix(0, int64(binary.BigEndian.Uint64(v)))
		if now.Sub(last) < digestEvery {
			return nil
		}
	}
	top := settings.Bucket(digestBucket)
	if top == nil || top.Bucket([]byte(l.Name)) == nil {
		return nil
	}
	pending := top.Bucket([]byte(l.Name))
	var seqs [][]byte
	c := pending.Cursor()
	for k, _ := c.First(); k != nil && len(seqs) < digestMaxPosts; k, _ = c.Next() {
		seqs = append(seqs, bytes.Clone(k))
	}
	if len(seqs) == 0 {
		return nil
	}
	var members []Member
	if b := sub(tx, bucketMembers, l.Name); b != nil {
		if err := b.ForEach(func(k, _ []byte) error {
			var m Member
			ok, err := getJSON(b, k, &m)
			if ok && m.Mode == ModeDigest {
				members = append(members, m)
			}
			return err
		}); err != nil {
			return err
		}
	}
	if len(members) > 0 {
		var posts []digestPost
		metas, raws := sub(tx, bucketMessages, l.Name), sub(tx, bucketRaw, l.Name)
		for _, k := range seqs {
			var a Archived
			ok, err := getJSON(metas, k, &a)
			if err != nil {
				return err
			}
			if !ok { // erased since it was posted
				continue
			}
			posts = append(posts, digestPost{a: a, raw: raws.Get(k)})
		}
		if len(posts) > 0 {
			if err := s.queueDigest(tx, l, members, posts); err != nil {
				return err
			}
		}
	}
	for _, k := range seqs {
		if err := pending.Delete(k); err != nil {
			return err
		}
	}
	return settings.Put(lastKey, u64(uint64(now.UnixNano())))
}

type digestPost struct {
	a   Archived
	raw []byte // valid only inside the transaction
}

// queueDigest composes the digest of posts for l in the list's language
// and queues a copy for each member, in tx.
func (s *Service) queueDigest(tx *bolt.Tx, l *List, members []Member, posts []digestPost) error {
	p := s.printer(l.lang())
	var body strings.Builder
	body.WriteString(p.N("list.mail.digest.intro", len(posts), l.title(), p.Date(s.cfg.Now())))
	body.WriteString("\n\n")
	for i, post := range posts {
		fmt.Fprintf(&body, "%d. %s — %s\n", i+1, post.a.Subject, post.a.FromName)
	}
	for i, post := range posts {
		text := ""
		if msg, err := mailmsg.Parse(post.raw); err == nil {
			text = msg.Text
		}
		if len(text) > digestMaxText {
			cut := digestMaxText
			for cut > 0 && !utf8.RuneStart(text[cut]) {
				cut--
			}
			text = text[:cut] + "\n[…]"
		}
		fmt.Fprintf(&body, "\n\n%s\n%d. %s\n%s\n%s\n%s\n\n%s\n",
			strings.Repeat("-", 30), i+1, post.a.Subject,
			p.T("list.mail.digest.from", post.a.FromName),
			p.T("list.mail.digest.date", p.DateTime(post.a.Date)),
			p.T("list.mail.digest.link", s.link(listPath(l.Name, "m", post.a.MessageID))),
			strings.TrimSpace(text))
	}
	fmt.Fprintf(&body, "\n%s\n%s\n", strings.Repeat("-", 30), p.T("list.mail.digest.footer", l.Address()))
	subject := p.T("list.mail.digest.subject", l.title(), p.Date(s.cfg.Now()))
	msg := s.composeNotice(l, l.Address(), subject, body.String(),
		"Precedence: list",
		"List-Post: <mailto:"+l.Address()+">",
		"List-Archive: <"+s.link(listPath(l.Name))+">")
	verp := s.Relay().VERP
	jobs := make([]delivery.Job, 0, len(members))
	for _, m := range members {
		jobs = append(jobs, delivery.Job{
			From:    s.bounceAddr(l, m.Addr, verp),
			To:      m.Addr,
			Headers: s.memberHeaders(l, m.Addr),
			Domain:  l.Domain,
			Tag:     l.Name,
		})
	}
	return s.queue.Enqueue(tx, msg, jobs)
}
