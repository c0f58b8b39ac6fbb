package mailinglist

import (
	"net/http"

	"codeberg.org/placette/placette/internal/web"
)

// directoryEntry is one list of the /lists/ directory.
type directoryEntry struct {
	List
	Members   int
	ShowCount bool // false for a private list seen by someone not on staff
}

type directoryPage struct {
	Lists []directoryEntry
}

// directory serves /lists/: every list with its description, address and a
// subscribe button. The size of a private list is its members' business:
// only staff see it.
func (s *Service) directory(w http.ResponseWriter, r *http.Request) {
	lists, err := s.Lists()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	staff := web.UserFrom(r.Context()).Staff()
	page := directoryPage{Lists: make([]directoryEntry, 0, len(lists))}
	for _, l := range lists {
		e := directoryEntry{List: l, ShowCount: staff || !l.Private}
		if e.ShowCount {
			members, err := s.Members(l.Name)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			// Paused and bouncing members are members still.
			e.Members = len(members)
		}
		page.Lists = append(page.Lists, e)
	}
	s.renderPublic(w, r, http.StatusOK, "directory.html", page)
}
