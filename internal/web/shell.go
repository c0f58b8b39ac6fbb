package web

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"codeberg.org/placette/placette/internal/store"
	bolt "go.etcd.io/bbolt"
)

//go:embed templates static locales
var embedded embed.FS

const (
	bucketSessions = "web/sessions"
	bucketSettings = "web/settings"
)

// migrations create and change the package's buckets. Append only: never
// edit or reorder a migration that has been released.
var migrations = []store.Migration{
	{Name: "create sessions and settings", Up: func(tx *bolt.Tx) error {
		for _, b := range []string{bucketSessions, bucketSettings} {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	}},
	{Name: "create the signing secret", Up: func(tx *bolt.Tx) error {
		secret := make([]byte, 32)
		rand.Read(secret)
		return tx.Bucket([]byte(bucketSettings)).Put([]byte("secret"), secret)
	}},
}

// Config is what the shell needs to know of how placette is reached.
type Config struct {
	// Secure marks cookies Secure and sends HSTS: true when pages are
	// served over HTTPS, directly or behind a proxy that terminates TLS.
	Secure bool
	// TrustedProxies are the addresses whose X-Forwarded-For header names
	// the client. Can be nil: the connection's address is the client's.
	TrustedProxies []netip.Prefix
	// MaxFormBytes limits the body of a form (default 2 MiB: a wiki page at
	// its 512 KiB limit, in accented letters, is three times as large once
	// URL-encoded).
	MaxFormBytes int64
	// MaxUploadBytes limits the body of a multipart form (default 16 MiB).
	MaxUploadBytes int64
	// MaxBodyMemory bounds the memory that the bodies of the requests
	// being answered may hold at once (default 16 MiB), bodies under 64
	// KiB aside: a request whose body would pass it waits for others to
	// be answered, then gets a 503.
	MaxBodyMemory int64
	// SessionTTL is how long a login lasts without use (default 30 days).
	SessionTTL time.Duration
}

// UserSource looks up the account a session belongs to.
type UserSource interface {
	// LookupUser returns the account called login, or nil and no error
	// when there is none (any more).
	LookupUser(ctx context.Context, login string) (*User, error)
}

// User is a person logged in with an account.
type User struct {
	Login     string
	Admin     bool
	Moderator bool
}

// Staff reports whether u may enter the administration: administrators and
// moderators.
func (u *User) Staff() bool { return u != nil && (u.Admin || u.Moderator) }

// AdminLink is an entry of the administration's index page, added by the
// package that serves it.
type AdminLink struct {
	Path      string // "/admin/accounts"
	TitleKey  string // catalog key of its title
	TextKey   string // catalog key of its one-line description
	AdminOnly bool   // hidden from moderators
}

// Shell is the web layer every handler of placette shares. It is safe for
// concurrent use once built; handlers get it from main.
type Shell struct {
	cfg      Config
	db       *store.DB
	logger   *slog.Logger
	catalog  *Catalog
	assets   *Assets
	secret   []byte
	now      func() time.Time
	csrfProt *http.CrossOriginProtection
	pages    *Templates // the shell's own pages
	bodies   *Budget    // the memory request bodies may hold (Config.MaxBodyMemory)
	bodyWait time.Duration

	users    atomic.Pointer[userSourceBox]
	settings atomic.Pointer[Settings]

	mu     sync.Mutex     // guards admin, nav and bypass
	admin  []AdminLink    // the administration's index
	nav    []NavLink      // the header's navigation
	bypass *http.ServeMux // the routes exempt from CSRF checks; can be nil
}

type userSourceBox struct{ UserSource }

// NewShell prepares the web layer over db: it runs the package's
// migrations, loads the catalogs, the assets and the settings.
func NewShell(db *store.DB, cfg Config, logger *slog.Logger) (*Shell, error) {
	if cfg.MaxFormBytes <= 0 {
		cfg.MaxFormBytes = 2 << 20
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 16 << 20
	}
	if cfg.MaxBodyMemory <= 0 {
		cfg.MaxBodyMemory = 16 << 20
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 30 * 24 * time.Hour
	}
	if err := db.Migrate("web", migrations); err != nil {
		return nil, err
	}
	locales, _ := fs.Sub(embedded, "locales")
	cat, err := LoadCatalog(locales)
	if err != nil {
		return nil, err
	}
	static, _ := fs.Sub(embedded, "static")
	assets, err := NewAssets(static)
	if err != nil {
		return nil, err
	}
	s := &Shell{
		cfg:      cfg,
		db:       db,
		logger:   logger,
		catalog:  cat,
		assets:   assets,
		now:      time.Now,
		csrfProt: http.NewCrossOriginProtection(),
		bodies:   NewBudget(cfg.MaxBodyMemory),
		bodyWait: bodyWait,
	}
	err = db.View(func(tx *bolt.Tx) error {
		s.secret = append([]byte(nil), tx.Bucket([]byte(bucketSettings)).Get([]byte("secret"))...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read web secret: %w", err)
	}
	if len(s.secret) != 32 {
		return nil, errors.New("the web signing secret is missing from the database")
	}
	if err := s.loadSettings(); err != nil {
		return nil, err
	}
	if s.pages, err = s.Parse(embedded, "templates/*.html"); err != nil {
		return nil, err
	}
	return s, nil
}

// SetUsers plugs in the account store that sessions are checked against.
func (s *Shell) SetUsers(u UserSource) { s.users.Store(&userSourceBox{u}) }

// AddCatalog merges a package's own catalog (fr.json, en.json at the root
// of fsys) into the shell's. Call it before parsing the package's
// templates and before serving.
func (s *Shell) AddCatalog(fsys fs.FS) error { return s.catalog.Add(fsys) }

// Catalog returns the shell's message catalogs.
func (s *Shell) Catalog() *Catalog { return s.catalog }

// Printer returns the printer for the language of r (see Catalog.Match),
// already chosen by the shell's middleware.
func (s *Shell) Printer(r *http.Request) *Printer {
	if p, ok := r.Context().Value(printerKey{}).(*Printer); ok {
		return p
	}
	return s.catalog.Printer(s.catalog.Match(r))
}

// Logger returns the shell's logger.
func (s *Shell) Logger() *slog.Logger { return s.logger }

// Secure reports whether pages are served over HTTPS.
func (s *Shell) Secure() bool { return s.cfg.Secure }

// AddAdminLink adds an entry to the administration's index.
func (s *Shell) AddAdminLink(l AdminLink) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.admin = append(s.admin, l)
	sort.SliceStable(s.admin, func(i, j int) bool { return s.admin[i].Path < s.admin[j].Path })
}

// NavLink is an entry of every page's navigation, added by the package that
// serves it.
type NavLink struct {
	Path     string // "/wiki/"
	TitleKey string // catalog key of its label
}

// AddNav adds an entry to the navigation of every page, after the home page.
func (s *Shell) AddNav(l NavLink) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nav = append(s.nav, l)
}

func (s *Shell) navLinks() []NavLink {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nav
}

func (s *Shell) adminLinks(u *User) []AdminLink {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []AdminLink
	for _, l := range s.admin {
		if !l.AdminOnly || u.Admin {
			out = append(out, l)
		}
	}
	return out
}

// BypassCSRF exempts a route pattern from cross-origin and token checks:
// only for endpoints that other sites must be able to POST to, such as the
// RFC 8058 one-click unsubscription.
func (s *Shell) BypassCSRF(pattern string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bypass == nil {
		s.bypass = http.NewServeMux()
	}
	s.bypass.Handle(pattern, http.NotFoundHandler())
}

// Run does the shell's housekeeping (removing expired sessions) until ctx
// is done.
func (s *Shell) Run(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := s.sweepSessions(); err != nil {
			s.logger.Error("sweep sessions", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
