package mailinglist

import "net/http"

// listPageData is what the list's own page shows. The archive issue
// replaces this page's body with the list's threads.
type listPageData struct {
	List       *List
	ArchiveURL string // "" while the list has no archive page
	Form       subscribeForm
}

// listPage serves /lists/{list}/: the list's title, description, address,
// who may post and a subscription form.
func (s *Service) listPage(w http.ResponseWriter, r *http.Request) {
	l, err := s.List(r.PathValue("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderPublic(w, r, http.StatusOK, "list.html", listPageData{List: l})
}
