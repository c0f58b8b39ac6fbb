package mailinglist

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"codeberg.org/placette/placette/internal/web"
)

//go:embed templates locales
var embedded embed.FS

// webPart is the lists' web pages: subscription, members' own settings,
// one-click unsubscription and the administration of lists, members,
// moderation and mail.
type webPart struct {
	pages  *web.Templates
	logger *slog.Logger

	// byClient limits subscription requests per client network, so that
	// one machine cannot sign strangers up in bulk.
	byClient *web.Limiter
	// byTarget limits subscription requests per list and address, so that
	// nobody's mailbox is flooded with confirmation mail.
	byTarget *web.Limiter
}

// Limits of the web subscription form: five requests at once per client
// network then one every twelve minutes (five an hour); three per address
// and list, then one every eight hours.
const (
	clientEvery = 12 * time.Minute
	clientBurst = 5
	targetEvery = 8 * time.Hour
	targetBurst = 3
)

// unsubscribePattern is the RFC 8058 one-click endpoint that mail
// providers POST to from their own origin, without a CSRF token.
const unsubscribePattern = "POST /lists/{list}/unsubscribe/{token}"

// initWeb loads the lists' catalogs and templates into the shell and
// registers their navigation and administration entries.
func (s *Service) initWeb() error {
	shell := s.cfg.Shell
	for _, dir := range []string{"locales/mail", "locales/web"} {
		sub, err := fs.Sub(embedded, dir)
		if err != nil {
			return err
		}
		if err := shell.AddCatalog(sub); err != nil {
			return fmt.Errorf("load the lists' catalog %s: %w", dir, err)
		}
	}
	var err error
	if s.web.pages, err = shell.Parse(embedded, "templates/*.html"); err != nil {
		return fmt.Errorf("parse the lists' templates: %w", err)
	}
	logger := s.cfg.Logger
	if logger == nil {
		logger = shell.Logger()
	}
	s.web.logger = logger.With("part", "web")
	s.web.byClient = web.NewLimiter(clientEvery, clientBurst)
	s.web.byTarget = web.NewLimiter(targetEvery, targetBurst)
	shell.AddNav(web.NavLink{Path: "/lists/", TitleKey: "list.nav"})
	shell.AddAdminLink(web.AdminLink{Path: "/admin/lists", TitleKey: "list.admin.title", TextKey: "list.admin.summary", AdminOnly: true})
	shell.AddAdminLink(web.AdminLink{Path: "/admin/moderation", TitleKey: "list.mod.title", TextKey: "list.mod.summary"})
	shell.AddAdminLink(web.AdminLink{Path: "/admin/mail", TitleKey: "list.relay.title", TextKey: "list.relay.summary", AdminOnly: true})
	shell.BypassCSRF(unsubscribePattern)
	return nil
}

// pageErr maps an error of the store to the one the shell answers with:
// a list, member or link that does not exist is a 404, a name or address
// that cannot be one a 400, a duplicate a 409; anything else is a 500.
func pageErr(err error) error {
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrBadToken):
		return fmt.Errorf("%w: %w", web.ErrNotFound, err)
	case errors.Is(err, ErrExists):
		return fmt.Errorf("%w: %w", web.ErrConflict, err)
	case errors.Is(err, ErrBadName), errors.Is(err, ErrBadAddress):
		return fmt.Errorf("%w: %w", web.ErrBadRequest, err)
	}
	return err
}

// fail answers r with the error page for err.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Shell.Error(w, r, pageErr(err))
}

// render answers r with page name of the lists' templates; pages of the
// lists that carry a person's address or a secret link are never indexed.
func (s *Service) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	s.cfg.Shell.RenderNoIndex(w, r, status, s.web.pages, name, data)
}

// renderPublic is render for the public pages search engines may index.
func (s *Service) renderPublic(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	s.cfg.Shell.Render(w, r, status, s.web.pages, name, data)
}
