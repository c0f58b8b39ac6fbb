package mailinglist

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"codeberg.org/placette/placette/internal/control"
	"codeberg.org/placette/placette/internal/store"
	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/mailinglist/delivery"
	bolt "go.etcd.io/bbolt"
)

// DNS answers the lookups the lists need: MX hosts for direct delivery,
// TXT records for DMARC policies and for checking the records placette
// asks to publish. *net.Resolver implements it.
type DNS interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
}

var _ DNS = (*net.Resolver)(nil)

// Config is what the lists are built from.
type Config struct {
	DB     *store.DB
	Shell  *web.Shell
	Logger *slog.Logger
	// DataDir is the data folder; the local mode's outbox is DataDir/outbox.
	DataDir string
	// MailDomain is the mail domain of new lists ("localhost" in local
	// mode); "" for the one the server last ran with (else "localhost").
	MailDomain string
	// BaseURL is the absolute URL of the web pages, without a trailing
	// slash, for the links in mail ("http://127.0.0.1:8080"); "" for the
	// one the server last ran with.
	BaseURL string
	// DNS answers lookups; can be nil (net.DefaultResolver).
	DNS DNS
	// Now is the clock; can be nil (time.Now).
	Now func() time.Time
	// TLS, when set, offers STARTTLS on the SMTP server; can be nil.
	TLS *tls.Config
	// Hostname is the name the SMTP server greets with and the delivery
	// queue says in EHLO; "" for the mail domain.
	Hostname string

	// Indexer is told of every archived, re-threaded or erased message
	// inside its write transaction; can be nil.
	Indexer Indexer

	// queueHook, when set, changes the delivery queue's configuration
	// (tests: a test CA, short retries).
	queueHook func(*delivery.Config)
}

// Service is placette's mailing lists: lists, members, inbound mail,
// distribution, moderation and their pages and commands. It is safe for
// concurrent use.
type Service struct {
	cfg    Config
	web    webPart // the pages: see web.go
	logger *slog.Logger

	mailDomain string // of new lists
	baseURL    string // of links in mail, no trailing slash
	secret     []byte // key of member and VERP tokens

	queue  *delivery.Queue
	keys   *delivery.Keys
	relay  atomic.Pointer[delivery.Relay]
	limits limits
	dmarc  *dmarcCache

	// confirmRate bounds the confirmation mails sent to one address.
	confirmRate *web.Limiter
	// smtpRate bounds the messages one client network sends.
	smtpRate *web.Limiter
	// incoming bounds the memory of the messages being received
	// (limits.incomingMemory).
	incoming *web.Budget

	// bodies keeps the archive's rendered message bodies.
	bodies *bodyCache
	// threads keeps the archive's rendered threads.
	threads *threadCache

	noticeMu   sync.Mutex           // guards heldNotice
	heldNotice map[string]time.Time // list -> last notice of held mail to its moderators
}

// New builds the lists over cfg.DB, running the migrations, and registers
// their navigation and administration entries with cfg.Shell.
func New(cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DNS == nil {
		cfg.DNS = net.DefaultResolver
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	lim := defaultLimits()
	s := &Service{
		cfg:         cfg,
		logger:      cfg.Logger,
		limits:      lim,
		incoming:    web.NewBudget(lim.incomingMemory),
		dmarc:       newDMARCCache(),
		confirmRate: web.NewLimiter(10*time.Minute, 3),
		smtpRate:    web.NewLimiter(time.Second, 120),
		heldNotice:  map[string]time.Time{},
		bodies:      newBodyCache(8 << 20),
		threads:     newThreadCache(),
	}
	if err := cfg.DB.Migrate("list", migrations(func(b []byte) { rand.Read(b) })); err != nil {
		return nil, fmt.Errorf("lists: %w", err)
	}
	if err := s.loadSettings(); err != nil {
		return nil, fmt.Errorf("lists: %w", err)
	}
	var err error
	if s.keys, err = delivery.NewKeys(cfg.DB); err != nil {
		return nil, fmt.Errorf("lists: DKIM keys: %w", err)
	}
	outbox := ""
	if cfg.DataDir != "" {
		outbox = filepath.Join(cfg.DataDir, "outbox")
	}
	helo := cfg.Hostname
	if helo == "" {
		helo = s.mailDomain
	}
	qcfg := delivery.Config{
		DB:       cfg.DB,
		Logger:   cfg.Logger.With("part", "delivery"),
		Outbox:   outbox,
		Relay:    s.Relay,
		Report:   s.report,
		Keys:     s.keys,
		Now:      cfg.Now,
		HeloName: helo,
	}
	if cfg.queueHook != nil {
		cfg.queueHook(&qcfg)
	}
	s.queue, err = delivery.NewQueue(qcfg)
	if err != nil {
		return nil, fmt.Errorf("lists: delivery queue: %w", err)
	}
	if err := s.initWeb(); err != nil {
		return nil, err
	}
	return s, nil
}

// loadSettings reads the secret and the relay, and settles the mail domain
// and base URL: the configured ones (then saved), else the saved ones.
func (s *Service) loadSettings() error {
	return s.cfg.DB.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		s.secret = append([]byte(nil), b.Get([]byte("secret"))...)
		if len(s.secret) < 16 {
			return errors.New("no token secret in list/settings")
		}
		r := delivery.Relay{Way: delivery.Outbox}
		if _, err := getJSON(b, []byte("relay"), &r); err != nil {
			return err
		}
		s.relay.Store(&r)
		pick := func(key, configured, fallback string) (string, error) {
			if configured != "" {
				if string(b.Get([]byte(key))) != configured {
					if err := b.Put([]byte(key), []byte(configured)); err != nil {
						return "", err
					}
				}
				return configured, nil
			}
			if v := b.Get([]byte(key)); len(v) > 0 {
				return string(v), nil
			}
			return fallback, nil
		}
		var err error
		if s.mailDomain, err = pick("maildomain", strings.ToLower(s.cfg.MailDomain), "localhost"); err != nil {
			return err
		}
		s.baseURL, err = pick("baseurl", strings.TrimSuffix(s.cfg.BaseURL, "/"), "http://127.0.0.1:8080")
		return err
	})
}

// Routes registers the lists' pages on mux.
func (s *Service) Routes(mux *http.ServeMux) { s.routes(mux) }

// Run distributes queued mail and does the lists' housekeeping (digests,
// expired confirmations) until ctx is done.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.queue.Run(ctx)
	}()
	s.housekeeping(ctx)
	wg.Wait()
}

// housekeeping removes expired confirmations and sends the daily digests
// that are due, every hour until ctx is done.
func (s *Service) housekeeping(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := s.expireConfirmations(); err != nil {
			s.logger.Error("expire confirmations", "error", err)
		}
		if err := s.sendDigests(); err != nil {
			s.logger.Error("send digests", "error", err)
		} else {
			s.queue.Kick()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// link returns the absolute URL of path.
func (s *Service) link(path string) string { return s.baseURL + path }

// listPath returns the path of a list's page, with rest appended.
func listPath(list string, rest ...string) string {
	p := "/lists/" + url.PathEscape(list) + "/"
	for i, r := range rest {
		if i > 0 {
			p += "/"
		}
		p += url.PathEscape(r)
	}
	return p
}

var _ web.Recent = (*Service)(nil)

var _ control.Handler = (*Service)(nil)
