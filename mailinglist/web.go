package mailinglist

import (
	"embed"
	"io/fs"
	"net/http"

	"codeberg.org/placette/placette/internal/web"
)

//go:embed templates locales
var embedded embed.FS

// webPart is the lists' web pages: subscription, members' own settings,
// one-click unsubscription and the administration of lists, members,
// moderation and mail.
type webPart struct {
	pages *web.Templates
}

// initWeb loads the lists' catalogs and templates into the shell and
// registers their navigation and administration entries.
func (s *Service) initWeb() error {
	for _, dir := range []string{"locales/mail", "locales/web"} {
		sub, err := fs.Sub(embedded, dir)
		if err != nil {
			return err
		}
		if err := s.cfg.Shell.AddCatalog(sub); err != nil {
			return err
		}
	}
	s.cfg.Shell.AddNav(web.NavLink{Path: "/lists/", TitleKey: "list.nav"})
	return nil
}

// routes registers the lists' pages on mux.
func (s *Service) routes(mux *http.ServeMux) {}
