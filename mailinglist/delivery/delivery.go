package delivery

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"codeberg.org/placette/placette/internal/store"
	bolt "go.etcd.io/bbolt"
)

// Way is how mail leaves.
type Way string

// The ways out.
const (
	Outbox    Way = "outbox"    // files in the outbox folder (local mode; nothing leaves)
	Smarthost Way = "smarthost" // one relay, with login
	MX        Way = "mx"        // each domain's MX, directly
)

// Relay is how mail leaves, as the administrator set it.
type Relay struct {
	Way      Way
	Host     string // smarthost name
	Port     int    // 587 (STARTTLS) or 465 (implicit TLS); 25 allowed (STARTTLS when offered); 0 means 587
	Username string // login at the smarthost; "" for none
	Password string
	// VERP says the relay accepts any envelope sender of our domain. This
	// package sends Job.From as given; the core reads VERP to choose it.
	VERP bool
	// ImplicitTLS asks for TLS from the first byte whatever the port (port
	// 465 always implies it). Any port other than 465 and 25 requires
	// STARTTLS.
	ImplicitTLS bool
}

// Config is what the queue is built from.
type Config struct {
	DB     *store.DB
	Logger *slog.Logger // can be nil (slog.Default)
	// Outbox is the folder of the outbox way (DATA/outbox), created when
	// first needed.
	Outbox string
	// Relay returns the current relay settings; called before each round
	// of sending. Can be nil (the outbox way).
	Relay func() Relay
	// Report is told the outcome of each job that ends (delivered, or
	// failed for good), after the job left the database. It is called from
	// one goroutine, in order, and may write to the database; it should not
	// block for long. Can be nil.
	Report func(Result)
	// Keys signs each copy for its Job.Domain; can be nil (nothing is
	// signed).
	Keys *Keys
	// Now is the clock; can be nil (time.Now).
	Now func() time.Time
	// Concurrency bounds the connections open at once (default 4), and so
	// the copies signed at once.
	Concurrency int

	// LookupMX finds the MX hosts of a domain for the MX way; can be nil
	// (net.DefaultResolver.LookupMX). Tests inject their own.
	LookupMX func(ctx context.Context, domain string) ([]*net.MX, error)
	// MXPort is the port the MX way connects to; 0 means 25. Only tests
	// set it.
	MXPort int
	// TLS is the base TLS configuration of outgoing connections (its
	// ServerName is set per host); can be nil (the system's roots). Tests
	// set RootCAs to trust a test CA.
	TLS *tls.Config
	// HeloName is the name given in EHLO; can be empty ("localhost"). In
	// public mode it should be the server's host name.
	HeloName string
	// Retry is the wait after the 1st, 2nd… temporary failure of a job,
	// the last one repeating; can be nil (1 min, 5 min, 15 min, 30 min,
	// 1 h, then every 2 h).
	Retry []time.Duration
	// GiveUpAfter is how long after its creation a job that keeps failing
	// temporarily is given up; 0 means 5 days.
	GiveUpAfter time.Duration
}

// Job is one copy of a message to one recipient.
type Job struct {
	From    string   // envelope sender; "" for notices (empty return path)
	To      string   // envelope recipient
	Headers []string // header fields prepended to the shared message, each "Name: value" without CRLF
	Domain  string   // the domain to DKIM-sign the copy for; "" for none
	Tag     string   // the caller's, given back in Result (a list name)
}

// Result is how a job ended.
type Result struct {
	Job       Job
	Delivered bool
	Code      int    // the last SMTP reply code; 0 when none
	Enhanced  string // "5.1.1"; "" when none
	Message   string // the last reply or error, one line
}

// Defaults.
const (
	defaultConcurrency = 4
	defaultGiveUp      = 5 * 24 * time.Hour
	defaultMXPort      = 25
	defaultSubmission  = 587
	// maxPerConnection bounds the messages sent over one SMTP connection.
	maxPerConnection = 100
)

// defaultRetry is the backoff of Config.Retry when nil.
var defaultRetry = []time.Duration{
	time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour,
}

// The buckets; see doc.go.
var (
	queueBucket  = []byte("list/queue")
	outmsgBucket = []byte("list/outmsg")
	dkimBucket   = []byte("list/dkim")
)

// migrations is the append-only schema history of component list/delivery.
var migrations = []store.Migration{
	{
		Name: "create list/queue, list/outmsg and list/dkim",
		Up: func(tx *bolt.Tx) error {
			for _, b := range [][]byte{queueBucket, outmsgBucket, dkimBucket} {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return fmt.Errorf("create %s: %w", b, err)
				}
			}
			return nil
		},
	},
}

// migrate brings the package's buckets up to date in db.
func migrate(db *store.DB) error {
	return db.Migrate("list/delivery", migrations)
}

// Queue is the persistent delivery queue. It is safe for concurrent use.
type Queue struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	conc     int
	retry    []time.Duration
	giveUp   time.Duration
	mxPort   int
	lookupMX func(ctx context.Context, domain string) ([]*net.MX, error)

	kick    chan struct{} // capacity 1: a pending wake-up of the dispatcher
	running atomic.Bool   // a Run is going on

	mu       sync.Mutex          // guards inflight
	inflight map[uint64]struct{} // ids of the jobs handed to a worker and not yet settled in the database
}

// NewQueue opens the queue over cfg.DB, running its migrations.
func NewQueue(cfg Config) (*Queue, error) {
	if cfg.DB == nil {
		return nil, errors.New("delivery queue: no database")
	}
	if err := migrate(cfg.DB); err != nil {
		return nil, fmt.Errorf("delivery queue: %w", err)
	}
	q := &Queue{
		cfg:      cfg,
		log:      cfg.Logger,
		now:      cfg.Now,
		conc:     cfg.Concurrency,
		retry:    cfg.Retry,
		giveUp:   cfg.GiveUpAfter,
		mxPort:   cfg.MXPort,
		lookupMX: cfg.LookupMX,
		kick:     make(chan struct{}, 1),
		inflight: make(map[uint64]struct{}),
	}
	if q.log == nil {
		q.log = slog.Default()
	}
	if q.now == nil {
		q.now = time.Now
	}
	if q.conc <= 0 {
		q.conc = defaultConcurrency
	}
	if len(q.retry) == 0 {
		q.retry = defaultRetry
	}
	if q.giveUp <= 0 {
		q.giveUp = defaultGiveUp
	}
	if q.mxPort <= 0 {
		q.mxPort = defaultMXPort
	}
	if q.lookupMX == nil {
		q.lookupMX = net.DefaultResolver.LookupMX
	}
	return q, nil
}

// record is a job as stored in list/queue.
type record struct {
	ID       uint64    `json:"id"`
	Msg      uint64    `json:"msg"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Headers  []string  `json:"headers,omitempty"`
	Domain   string    `json:"domain,omitempty"`
	Tag      string    `json:"tag,omitempty"`
	Created  time.Time `json:"created"`
	Attempts int       `json:"attempts"`
	Next     time.Time `json:"next"`
	Code     int       `json:"code,omitempty"`
	Enhanced string    `json:"enhanced,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// job returns the Job of r.
func (r *record) job() Job {
	return Job{From: r.From, To: r.To, Headers: r.Headers, Domain: r.Domain, Tag: r.Tag}
}

// key returns r's key in list/queue.
func (r *record) key() []byte {
	return jobKey(r.Next, r.ID)
}

// jobKey returns the key in list/queue of the job id due at next.
func jobKey(next time.Time, id uint64) []byte {
	k := make([]byte, 16)
	ns := next.UnixNano()
	if ns < 0 {
		ns = 0
	}
	binary.BigEndian.PutUint64(k, uint64(ns))
	binary.BigEndian.PutUint64(k[8:], id)
	return k
}

// msgKey returns the key in list/outmsg of message seq's bytes (kind 'm')
// or count of jobs left (kind 'n').
func msgKey(seq uint64, kind byte) []byte {
	k := make([]byte, 9)
	binary.BigEndian.PutUint64(k, seq)
	k[8] = kind
	return k
}

// u64 encodes n big-endian.
func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

// Enqueue adds, inside the caller's write transaction, one job per element
// of jobs for the message msg (CRLF line endings): the message and the jobs
// commit or roll back with the caller's own writes. The message is stored
// once, whatever the number of jobs. Call Kick after the commit. Enqueue
// refuses (and writes nothing) a job without a recipient, an address with
// a line break or angle brackets, or a header field that is not
// "Name: value" (continuation lines are allowed when they start with a
// space or tab after CRLF).
func (q *Queue) Enqueue(tx *bolt.Tx, msg []byte, jobs []Job) error {
	if len(jobs) == 0 {
		return nil
	}
	if len(msg) == 0 {
		return errors.New("enqueue: empty message")
	}
	for i := range jobs {
		if err := checkJob(&jobs[i]); err != nil {
			return fmt.Errorf("enqueue job %d: %w", i, err)
		}
	}
	qb, mb := tx.Bucket(queueBucket), tx.Bucket(outmsgBucket)
	if qb == nil || mb == nil {
		return errors.New("enqueue: the delivery buckets are missing (NewQueue was not called)")
	}
	seq, err := mb.NextSequence()
	if err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	if err := mb.Put(msgKey(seq, 'm'), msg); err != nil {
		return fmt.Errorf("enqueue: store the message: %w", err)
	}
	if err := mb.Put(msgKey(seq, 'n'), u64(uint64(len(jobs)))); err != nil {
		return fmt.Errorf("enqueue: store the message: %w", err)
	}
	now := q.now().UTC()
	for _, j := range jobs {
		id, err := qb.NextSequence()
		if err != nil {
			return fmt.Errorf("enqueue: %w", err)
		}
		r := record{
			ID: id, Msg: seq, From: j.From, To: j.To, Headers: j.Headers,
			Domain: normDomain(j.Domain), Tag: j.Tag, Created: now, Next: now,
		}
		v, err := json.Marshal(&r)
		if err != nil {
			return fmt.Errorf("enqueue: %w", err)
		}
		if err := qb.Put(r.key(), v); err != nil {
			return fmt.Errorf("enqueue job for %s: %w", j.To, err)
		}
	}
	return nil
}

// checkJob reports what makes j unsendable.
func checkJob(j *Job) error {
	if j.To == "" {
		return errors.New("no recipient")
	}
	for _, a := range []string{j.From, j.To} {
		if strings.ContainsAny(a, "\r\n<> ") {
			return fmt.Errorf("bad address %q", a)
		}
	}
	if j.To != "" && !strings.Contains(j.To, "@") {
		return fmt.Errorf("bad recipient %q: no domain", j.To)
	}
	for _, h := range j.Headers {
		if err := checkField(h); err != nil {
			return err
		}
	}
	return nil
}

// checkField reports what makes h not a header field "Name: value".
func checkField(h string) error {
	name, _, ok := strings.Cut(h, ":")
	if !ok || name == "" {
		return fmt.Errorf("bad header field %q: no name", h)
	}
	for _, c := range []byte(name) {
		if c <= ' ' || c >= 0x7f {
			return fmt.Errorf("bad header field name %q", name)
		}
	}
	for i := 0; i < len(h); i++ {
		switch h[i] {
		case '\n':
			return fmt.Errorf("bad header field %q: bare line feed", name)
		case '\r':
			if i+2 >= len(h) || h[i+1] != '\n' || (h[i+2] != ' ' && h[i+2] != '\t') {
				return fmt.Errorf("bad header field %q: line break not followed by a continuation", name)
			}
			i++
		}
	}
	return nil
}

// normDomain returns d in lower case without a trailing dot.
func normDomain(d string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
}

// Kick wakes the queue's workers after an Enqueue committed.
func (q *Queue) Kick() {
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// Stats is what the queue holds now, for the administration.
type Stats struct {
	Waiting int       // jobs not yet tried
	Failing int       // jobs tried and waiting for a retry
	Oldest  time.Time // the oldest job's creation; zero when the queue is empty
}

// Stats returns the queue's counts.
func (q *Queue) Stats() (Stats, error) {
	var s Stats
	err := q.cfg.DB.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(queueBucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("job %x: %w", k, err)
			}
			if r.Attempts == 0 {
				s.Waiting++
			} else {
				s.Failing++
			}
			if s.Oldest.IsZero() || r.Created.Before(s.Oldest) {
				s.Oldest = r.Created
			}
			return nil
		})
	})
	if err != nil {
		return Stats{}, fmt.Errorf("queue stats: %w", err)
	}
	return s, nil
}
