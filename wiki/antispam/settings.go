package antispam

import (
	"encoding/json"
	"fmt"
	"time"

	"codeberg.org/placette/placette/internal/store"
	bolt "go.etcd.io/bbolt"
)

// Buckets and keys; see doc.go.
const (
	bucketSettings = "wiki/antispam"
	bucketRefused  = "wiki/refused"

	keySettings  = "settings"
	keyQuestions = "questions"
	keyBlocklist = "blocklist"
)

// Limits are the numbers an administrator tunes.
type Limits struct {
	// MinSeconds is how long, at least, between showing an edit form and
	// saving it: bots post at once.
	MinSeconds int `json:"min_seconds"`
	// MaxHours is how long an edit form stays good.
	MaxHours int `json:"max_hours"`
	// MaxNewLinks is how many links to other sites one edit may add.
	MaxNewLinks int `json:"max_new_links"`
	// CreatesPerDay is how many pages anonymous writers of one network
	// (AddrKey) may create per day (UTC); 0: none.
	CreatesPerDay int `json:"creates_per_day"`
	// AddrEdits is how many saves one network may attempt per ten
	// minutes, refused ones included.
	AddrEdits int `json:"addr_edits"`
	// PageEdits is how many edits one page may get per ten minutes from
	// people who are not staff.
	PageEdits int `json:"page_edits"`
}

// DefaultLimits are the limits of a new wiki. The rates leave room for a
// workshop of a dozen people writing together behind one address.
func DefaultLimits() Limits {
	return Limits{
		MinSeconds:    3,
		MaxHours:      24,
		MaxNewLinks:   3,
		CreatesPerDay: 20,
		AddrEdits:     60,
		PageEdits:     30,
	}
}

// limitBounds are the values the administration page accepts.
var limitBounds = []struct {
	field    string
	min, max int
	get      func(*Limits) *int
}{
	{"min_seconds", 0, 600, func(l *Limits) *int { return &l.MinSeconds }},
	{"max_hours", 1, 720, func(l *Limits) *int { return &l.MaxHours }},
	{"max_new_links", 0, 100, func(l *Limits) *int { return &l.MaxNewLinks }},
	{"creates_per_day", 0, 10000, func(l *Limits) *int { return &l.CreatesPerDay }},
	{"addr_edits", 1, 10000, func(l *Limits) *int { return &l.AddrEdits }},
	{"page_edits", 1, 10000, func(l *Limits) *int { return &l.PageEdits }},
}

// ratePeriod is the period of AddrEdits and PageEdits.
const ratePeriod = 10 * time.Minute

// settings is what is stored under keySettings.
type settings struct {
	Mode   Mode   `json:"mode"`
	Limits Limits `json:"limits"`
}

// migrations create and change the package's buckets. Append only: never
// edit or reorder a migration that has been released.
var migrations = []store.Migration{
	{Name: "create the anti-spam settings with default questions, and the log of refused edits", Up: func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(bucketSettings))
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", bucketSettings, err)
		}
		if _, err := tx.CreateBucketIfNotExists([]byte(bucketRefused)); err != nil {
			return fmt.Errorf("create bucket %s: %w", bucketRefused, err)
		}
		st, err := json.Marshal(settings{Mode: ModeOpen, Limits: DefaultLimits()})
		if err != nil {
			return err
		}
		qs, err := json.Marshal(defaultQuestions())
		if err != nil {
			return err
		}
		if err := b.Put([]byte(keySettings), st); err != nil {
			return err
		}
		if err := b.Put([]byte(keyQuestions), qs); err != nil {
			return err
		}
		return b.Put([]byte(keyBlocklist), []byte(defaultBlocklist))
	}},
}

// defaultBlocklist is the blocklist of a new wiki: comments explaining the
// format, and nothing blocked.
const defaultBlocklist = `# Une expression régulière par ligne (syntaxe RE2 de Go), sans distinction
# de casse ; « # » commence un commentaire. Le format est celui de
# wordblock.conf (DokuWiki) et de SpamBlacklist (MediaWiki) : une liste
# publique peut être collée ici.
# Exemple : \bexample\.com\b
`

// stored is everything the guard keeps in its bucket.
type stored struct {
	settings  settings
	questions []qa
	blocklist string
}

// load reads the guard's settings.
func load(db *store.DB) (stored, error) {
	var s stored
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketSettings))
		if b == nil {
			return fmt.Errorf("no bucket %s", bucketSettings)
		}
		if err := json.Unmarshal(b.Get([]byte(keySettings)), &s.settings); err != nil {
			return fmt.Errorf("decode %s: %w", keySettings, err)
		}
		if err := json.Unmarshal(b.Get([]byte(keyQuestions)), &s.questions); err != nil {
			return fmt.Errorf("decode %s: %w", keyQuestions, err)
		}
		s.blocklist = string(b.Get([]byte(keyBlocklist)))
		return nil
	})
	if err != nil {
		return s, fmt.Errorf("load wiki anti-spam settings: %w", err)
	}
	switch s.settings.Mode {
	case ModeOpen, ModeAccounts, ModeReadOnly:
	default:
		s.settings.Mode = ModeOpen
	}
	return s, nil
}

// put stores value under key in the settings bucket.
func put(db *store.DB, key string, value any) error {
	var v []byte
	if s, ok := value.(string); ok {
		v = []byte(s)
	} else {
		var err error
		if v, err = json.Marshal(value); err != nil {
			return fmt.Errorf("encode %s: %w", key, err)
		}
	}
	err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketSettings)).Put([]byte(key), v)
	})
	if err != nil {
		return fmt.Errorf("save wiki anti-spam %s: %w", key, err)
	}
	return nil
}
