package mailinglist

import (
	"errors"
	"net/http"
	"net/url"
)

// memberPath returns the path of the page where a member manages their
// subscription, from the secret MemberToken gives.
func memberPath(list, token string) string {
	return "/lists/" + url.PathEscape(list) + "/member/" + url.PathEscape(token)
}

// unsubscribePath returns the path of the one-click unsubscription of a
// member.
func unsubscribePath(list, token string) string {
	return "/lists/" + url.PathEscape(list) + "/unsubscribe/" + url.PathEscape(token)
}

// memberModes are the delivery modes a member chooses from.
var memberModes = []Mode{ModeEach, ModeDigest, ModePaused}

// parseMode returns the mode a form's value names among memberModes.
func parseMode(v string) (Mode, bool) {
	for _, m := range memberModes {
		if string(m) == v {
			return m, true
		}
	}
	return "", false
}

type memberPage struct {
	List           *List
	Member         *Member
	Modes          []Mode
	Action         string // this page's path
	UnsubscribeURL string
	Saved          bool
	Error          string // catalog key
}

// fromToken returns the list and member a member's link names, checking
// it belongs to the list of the path. It answers the page itself and
// returns ok false when it does not.
func (s *Service) fromToken(w http.ResponseWriter, r *http.Request) (*List, *Member, bool) {
	name := r.PathValue("list")
	l, m, err := s.MemberFromToken(r.PathValue("token"))
	if err == nil && l.Name != name {
		err = ErrBadToken
	}
	if errors.Is(err, ErrBadToken) || errors.Is(err, ErrNotFound) {
		s.linkInvalid(w, r, name)
		return nil, nil, false
	}
	if err != nil {
		s.fail(w, r, err)
		return nil, nil, false
	}
	return l, m, true
}

func (s *Service) newMemberPage(r *http.Request, l *List, m *Member) memberPage {
	token := r.PathValue("token")
	return memberPage{List: l, Member: m, Modes: memberModes, Action: memberPath(l.Name, token), UnsubscribeURL: unsubscribePath(l.Name, token)}
}

// memberForm serves the page where a member, following the link of any
// mail of the list, chooses how to get its mail or leaves: no password.
func (s *Service) memberForm(w http.ResponseWriter, r *http.Request) {
	l, m, ok := s.fromToken(w, r)
	if !ok {
		return
	}
	page := s.newMemberPage(r, l, m)
	page.Saved = r.URL.Query().Has("saved")
	s.render(w, r, http.StatusOK, "member.html", page)
}

// memberSave changes a member's delivery mode.
func (s *Service) memberSave(w http.ResponseWriter, r *http.Request) {
	l, m, ok := s.fromToken(w, r)
	if !ok {
		return
	}
	mode, ok := parseMode(r.PostFormValue("mode"))
	if !ok {
		page := s.newMemberPage(r, l, m)
		page.Error = "list.member.error.mode"
		s.render(w, r, http.StatusBadRequest, "member.html", page)
		return
	}
	if err := s.SetMode(l.Name, m.Addr, mode); err != nil {
		s.fail(w, r, err)
		return
	}
	s.web.logger.Info("member mode changed by the member", "list", l.Name, "mode", string(mode))
	http.Redirect(w, r, memberPath(l.Name, r.PathValue("token"))+"?saved", http.StatusSeeOther)
}

type unsubscribePage struct {
	List   *List
	Member *Member
	Action string
}

// unsubscribeForm shows the button that unsubscribes: following the link
// changes nothing.
func (s *Service) unsubscribeForm(w http.ResponseWriter, r *http.Request) {
	l, m, ok := s.fromToken(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "unsubscribe.html", unsubscribePage{List: l, Member: m, Action: unsubscribePath(l.Name, r.PathValue("token"))})
}

// unsubscribe removes the member the link names. It is the RFC 8058
// one-click endpoint: mail providers POST "List-Unsubscribe=One-Click" to
// it from their own servers, without cookies or CSRF token, so the route is
// exempt from the CSRF checks; the secret of the link is the proof. People
// get there from the button of unsubscribeForm. Providers ignore the body
// of the answer; people read it.
func (s *Service) unsubscribe(w http.ResponseWriter, r *http.Request) {
	// The shell limited the body but did not read it, since the route is
	// exempt; nothing in it matters beyond being a POST.
	r.ParseForm()
	l, m, ok := s.fromToken(w, r)
	if !ok {
		return
	}
	if err := s.RemoveMember(l.Name, m.Addr); err != nil && !errors.Is(err, ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	oneClick := r.PostFormValue("List-Unsubscribe") == "One-Click"
	s.web.logger.Info("member unsubscribed", "list", l.Name, "one_click", oneClick)
	s.render(w, r, http.StatusOK, "unsubscribed.html", unsubscribePage{List: l, Member: m})
}
