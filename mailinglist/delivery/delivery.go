// Package delivery sends the mail a list distributes: a persistent queue in
// bbolt with one job per recipient, retried with backoff on temporary
// failures for up to five days, DKIM signatures (relaxed/relaxed, list
// headers and From over-signed), and three ways out: a smarthost
// (submission on 587 with STARTTLS or 465 with TLS, with login), each
// domain's MX, or the outbox folder of the local mode.
package delivery

import (
	"context"
	"log/slog"
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
	Port     int    // 587 (STARTTLS) or 465 (implicit TLS); 25 allowed
	Username string
	Password string
	VERP     bool // the relay accepts any envelope sender of our domain
}

// Config is what the queue is built from.
type Config struct {
	DB     *store.DB
	Logger *slog.Logger
	// Outbox is the folder of the outbox way (DATA/outbox).
	Outbox string
	// Relay returns the current relay settings; called before each round
	// of sending.
	Relay func() Relay
	// Report is told the outcome of each job that ends (delivered, or
	// failed for good); can be nil.
	Report func(Result)
	// Keys signs each copy for its Job.Domain.
	Keys *Keys
	// Now is the clock; can be nil (time.Now).
	Now func() time.Time
	// Concurrency bounds the connections open at once (default 4).
	Concurrency int
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

// Queue is the persistent delivery queue. It is safe for concurrent use.
type Queue struct{}

// NewQueue opens the queue over cfg.DB, running its migrations.
func NewQueue(cfg Config) (*Queue, error) { return &Queue{}, nil }

// Enqueue adds, inside the caller's write transaction, one job per element
// of jobs for the message msg (CRLF line endings): the message and the jobs
// commit or roll back with the caller's own writes. The message is stored
// once, whatever the number of jobs. Call Kick after the commit.
func (q *Queue) Enqueue(tx *bolt.Tx, msg []byte, jobs []Job) error { return nil }

// Kick wakes the queue's workers after an Enqueue committed.
func (q *Queue) Kick() {}

// Run sends the queued jobs until ctx is done, resuming what a previous run
// left.
func (q *Queue) Run(ctx context.Context) { <-ctx.Done() }

// Stats is what the queue holds now, for the administration.
type Stats struct {
	Waiting int       // jobs not yet tried
	Failing int       // jobs tried and waiting for a retry
	Oldest  time.Time // the oldest job's creation; zero when the queue is empty
}

// Stats returns the queue's counts.
func (q *Queue) Stats() (Stats, error) { return Stats{}, nil }

// Keys holds the DKIM keys of the lists' domains, in the database. It is
// safe for concurrent use.
type Keys struct{}

// NewKeys returns the keys kept in db, running their migrations.
func NewKeys(db *store.DB) (*Keys, error) { return &Keys{}, nil }

// Signer returns the signer of domain, creating its key (RSA 2048) at
// first use.
func (k *Keys) Signer(domain string) (*Signer, error) { return &Signer{}, nil }

// Signer signs messages with the DKIM key of one domain.
type Signer struct{}

// Sign returns msg (CRLF line endings) with a DKIM-Signature header field
// prepended: relaxed/relaxed, From, Subject, Date, Message-ID, To, Cc,
// Reply-To and the List-* fields signed, From and the List-* fields
// over-signed.
func (s *Signer) Sign(msg []byte) ([]byte, error) { return msg, nil }

// Selector returns the DKIM selector of the key.
func (s *Signer) Selector() string { return "" }

// DNSRecord returns the TXT record to publish at
// SELECTOR._domainkey.DOMAIN ("v=DKIM1; k=rsa; p=…").
func (s *Signer) DNSRecord() string { return "" }
