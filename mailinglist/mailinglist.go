package mailinglist

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"codeberg.org/placette/placette/internal/control"
	"codeberg.org/placette/placette/internal/store"
	"codeberg.org/placette/placette/internal/web"
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
	// mode).
	MailDomain string
	// BaseURL is the absolute URL of the web pages, without a trailing
	// slash, for the links in mail ("http://127.0.0.1:8080").
	BaseURL string
	// DNS answers lookups; can be nil (net.DefaultResolver).
	DNS DNS
	// Now is the clock; can be nil (time.Now).
	Now func() time.Time
}

// Service is placette's mailing lists: lists, members, inbound mail,
// distribution, moderation and their pages and commands. It is safe for
// concurrent use.
type Service struct {
	cfg Config
	web webPart // the pages: see web.go
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
	s := &Service{cfg: cfg}
	if err := s.initWeb(); err != nil {
		return nil, err
	}
	return s, nil
}

// Routes registers the lists' pages on mux.
func (s *Service) Routes(mux *http.ServeMux) { s.routes(mux) }

// Run distributes queued mail and does the lists' housekeeping (digests,
// expired confirmations) until ctx is done.
func (s *Service) Run(ctx context.Context) { <-ctx.Done() }

// ServeSMTP accepts the lists' mail over SMTP on ln until ctx is done.
func (s *Service) ServeSMTP(ctx context.Context, ln net.Listener) error {
	<-ctx.Done()
	return nil
}

// ServeLMTP accepts the lists' mail over LMTP on ln (from a local MTA)
// until ctx is done.
func (s *Service) ServeLMTP(ctx context.Context, ln net.Listener) error {
	<-ctx.Done()
	return nil
}

// Recent returns the threads with the newest activity that viewer may
// read, for the home page.
func (s *Service) Recent(ctx context.Context, viewer *web.User, n int) ([]web.RecentItem, error) {
	return nil, nil
}

var _ web.Recent = (*Service)(nil)

// ServeCall runs the "list" and "dns" commands of the control socket (see
// DESIGN.md's command line); a file to import comes on Stdin, an export
// goes to Stdout, progress to Stderr.
func (s *Service) ServeCall(ctx context.Context, c *control.Call) error {
	return errors.New("lists: not implemented yet")
}

var _ control.Handler = (*Service)(nil)
