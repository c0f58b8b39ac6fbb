package antispam

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// Bounds of the log of refused edits.
const (
	MaxRefused      = 1000 // entries kept, the newest
	MaxRefusedBytes = 500  // bytes of added text kept per entry
)

// Refusal is an entry of the log of refused edits.
type Refusal struct {
	Seq     uint64    `json:"-"`
	Time    time.Time `json:"time"`
	Slug    string    `json:"slug"`
	Reason  string    `json:"reason"`           // catalog key, as the writer was told
	Detail  string    `json:"detail,omitempty"` // for moderators: the blocklist line, the links…
	Addr    string    `json:"addr"`             // hashed network of the writer (see Guard.AddrHash)
	Who     string    `json:"who,omitempty"`    // login or pseudonym; "" for anonymous without one
	Account bool      `json:"account,omitempty"`
	Added   string    `json:"added,omitempty"` // the first MaxRefusedBytes of the added text
}

// truncate returns at most n bytes of s, cut on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s[max(0, len(s)-utf8.UTFMax):]) {
		s = s[:len(s)-1]
	}
	return s
}

// record adds e to the log and drops the entries older than the newest
// MaxRefused. The writes of refusals that come together share a
// transaction (bbolt's Batch), to spare the SD card.
func (g *Guard) record(e Refusal) error {
	e.Added = strings.ToValidUTF8(truncate(e.Added, MaxRefusedBytes), "\uFFFD")
	v, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode refused edit: %w", err)
	}
	err = g.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketRefused))
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		if err := b.Put(seqKey(seq), v); err != nil {
			return err
		}
		if seq <= MaxRefused {
			return nil
		}
		oldest := seqKey(seq - MaxRefused + 1)
		c := b.Cursor()
		for k, _ := c.First(); k != nil && string(k) < string(oldest); k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record refused edit of %q: %w", e.Slug, err)
	}
	return nil
}

func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// Refused returns at most n entries of the log of refused edits, newest
// first, skipping the skip newest, and the number of entries in the log.
func (g *Guard) Refused(skip, n int) ([]Refusal, int, error) {
	var out []Refusal
	total := 0
	err := g.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketRefused))
		total = b.Stats().KeyN
		c := b.Cursor()
		i := 0
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			if i++; i <= skip {
				continue
			}
			var e Refusal
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode refused edit %x: %w", k, err)
			}
			if len(k) == 8 {
				e.Seq = binary.BigEndian.Uint64(k)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list refused edits: %w", err)
	}
	return out, total, nil
}
