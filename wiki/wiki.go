package wiki

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"codeberg.org/placette/placette/internal/control"
	"codeberg.org/placette/placette/internal/store"
	"codeberg.org/placette/placette/internal/web"
)

// Config is what the wiki is built from.
type Config struct {
	DB     *store.DB
	Shell  *web.Shell
	Logger *slog.Logger
	// Now is the clock; can be nil (time.Now).
	Now func() time.Time
}

// Wiki is placette's open-write wiki: its store, its pages and its
// commands. It is safe for concurrent use.
type Wiki struct {
	cfg Config
}

// New builds the wiki over cfg.DB, running its migrations, and registers
// its navigation and administration entries with cfg.Shell.
func New(cfg Config) (*Wiki, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Wiki{cfg: cfg}, nil
}

// Routes registers the wiki's pages on mux.
func (w *Wiki) Routes(mux *http.ServeMux) {}

// Run does the wiki's housekeeping until ctx is done.
func (w *Wiki) Run(ctx context.Context) { <-ctx.Done() }

// Recent returns the newest changes for the home page.
func (w *Wiki) Recent(ctx context.Context, viewer *web.User, n int) ([]web.RecentItem, error) {
	return nil, nil
}

var _ web.Recent = (*Wiki)(nil)

// ServeCall runs the "wiki" command of the control socket: Args[0] is
// "import" (a zip archive of markdown files on Stdin) or "export" (a zip
// archive written to Stdout), progress on Stderr.
func (w *Wiki) ServeCall(ctx context.Context, c *control.Call) error {
	return errors.New("wiki: not implemented yet")
}

var _ control.Handler = (*Wiki)(nil)
