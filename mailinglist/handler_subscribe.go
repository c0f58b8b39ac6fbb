package mailinglist

import (
	"errors"
	"net/http"

	"codeberg.org/placette/placette/internal/web"
)

// honeypotField is the subscription form's field that people leave empty
// (it is hidden from them) and bots fill in.
const honeypotField = "homepage"

// subscribeForm is what a person typed in the subscription form.
type subscribeForm struct {
	Addr   string
	Name   string
	Errors fieldErrors
}

type subscribePage struct {
	List *List
	Form subscribeForm
}

type subscribeSentPage struct {
	List *List
	Addr string
}

// subscribeForm serves the web subscription form.
func (s *Service) subscribeForm(w http.ResponseWriter, r *http.Request) {
	l, err := s.List(r.PathValue("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "subscribe.html", subscribePage{List: l})
}

// subscribe asks for a subscription: the address gets a mail with a link
// that confirms it (double opt-in). The page that follows is the same
// whether the address is a member already or not, so that it tells nobody
// who is subscribed.
func (s *Service) subscribe(w http.ResponseWriter, r *http.Request) {
	l, err := s.List(r.PathValue("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := subscribePage{List: l, Form: subscribeForm{Addr: keep(r.PostFormValue("addr")), Name: keep(r.PostFormValue("name"))}}
	refuse := func(status int, field, key string) {
		page.Form.Errors = fieldErrors{field: key}
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "3600")
		}
		s.render(w, r, status, "subscribe.html", page)
	}
	client := web.AddrKey(web.ClientAddr(r))
	if r.PostFormValue(honeypotField) != "" {
		s.web.logger.Info("subscription refused: honeypot filled", "list", l.Name, "client", client)
		refuse(http.StatusBadRequest, "form", "list.subscribe.error.honeypot")
		return
	}
	addr, err := parseAddress(r.PostFormValue("addr"))
	if err != nil {
		refuse(http.StatusBadRequest, "addr", "list.error.address")
		return
	}
	name, key := checkText(r.PostFormValue("name"), maxName, false)
	if key != "" {
		refuse(http.StatusBadRequest, "name", key)
		return
	}
	if !s.web.byClient.Allow(client) || !s.web.byTarget.Allow(l.Name+" "+addr) {
		s.web.logger.Warn("subscription refused: too many requests", "list", l.Name, "client", client)
		refuse(http.StatusTooManyRequests, "form", "list.subscribe.error.too_many")
		return
	}
	lang := s.cfg.Shell.Printer(r).Lang()
	err = s.RequestSubscription(r.Context(), l.Name, addr, name, lang)
	switch {
	case errors.Is(err, ErrExists):
		// A member already: the page must not say so.
		err = nil
	case errors.Is(err, ErrBadAddress):
		refuse(http.StatusBadRequest, "addr", "list.error.address")
		return
	case errors.Is(err, ErrTooMany):
		refuse(http.StatusTooManyRequests, "form", "list.subscribe.error.too_many")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.web.logger.Info("subscription requested", "list", l.Name, "client", client)
	s.render(w, r, http.StatusOK, "subscribe_sent.html", subscribeSentPage{List: l, Addr: addr})
}

type tokenPage struct {
	List  *List
	Token string
}

type welcomePage struct {
	List      *List
	Member    *Member
	ManageURL string
}

// confirmForm shows the button that confirms a subscription. Following
// the link changes nothing: mail scanners fetch links before people do.
func (s *Service) confirmForm(w http.ResponseWriter, r *http.Request) {
	l, err := s.List(r.PathValue("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "confirm.html", tokenPage{List: l, Token: r.PathValue("token")})
}

// confirm subscribes the address the confirmation link was sent to.
func (s *Service) confirm(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("list")
	l, m, err := s.ConfirmSubscription(r.PathValue("token"))
	if err == nil && l.Name != name {
		err = ErrBadToken
	}
	if errors.Is(err, ErrBadToken) || errors.Is(err, ErrNotFound) {
		s.linkInvalid(w, r, name)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.web.logger.Info("subscription confirmed", "list", l.Name)
	s.render(w, r, http.StatusOK, "welcome.html", welcomePage{List: l, Member: m, ManageURL: memberPath(l.Name, s.MemberToken(l.Name, m.Addr))})
}

// linkInvalid answers a link that is wrong, has expired or was used
// already, with a way to start again.
func (s *Service) linkInvalid(w http.ResponseWriter, r *http.Request, list string) {
	l, err := s.List(list)
	if err != nil {
		l = nil
	}
	s.render(w, r, http.StatusNotFound, "link_invalid.html", struct{ List *List }{l})
}
