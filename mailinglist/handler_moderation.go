package mailinglist

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"unicode/utf8"

	"codeberg.org/placette/placette/internal/web"
)

// maxShownRaw is how much of a held message's raw text its page shows.
const maxShownRaw = 64 << 10

// actions are the moderators' decisions, in the order the forms offer
// them.
var actions = []Action{Approve, ApproveAlways, Reject, Discard}

func parseAction(v string) (Action, bool) {
	for _, a := range actions {
		if string(a) == v {
			return a, true
		}
	}
	return "", false
}

// heldRow is a held message as the moderation pages show it.
type heldRow struct {
	Held
	KB int // its size in KiB, rounded up
}

func newHeldRow(h Held) heldRow { return heldRow{Held: h, KB: (h.Size + 1023) / 1024} }

type moderationPage struct {
	Held []heldRow
	Done string // catalog key of the decision just applied
}

// moderation serves the messages of every list that wait for a moderator.
func (s *Service) moderation(w http.ResponseWriter, r *http.Request) {
	held, err := s.HeldMessages("")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := moderationPage{Held: make([]heldRow, len(held))}
	for i, h := range held {
		page.Held[i] = newHeldRow(h)
	}
	if a, ok := parseAction(r.URL.Query().Get("done")); ok {
		page.Done = "list.mod.done." + string(a)
	}
	if r.URL.Query().Has("gone") {
		page.Done = "list.mod.done.gone"
	}
	s.render(w, r, http.StatusOK, "moderation.html", page)
}

type moderationMessagePage struct {
	heldRow
	Raw       string
	Truncated bool
	Reason    string
	Errors    fieldErrors
}

// heldFromPath returns the held message the path names, answering the
// error page itself when there is none.
func (s *Service) heldFromPath(w http.ResponseWriter, r *http.Request) (Held, bool) {
	list := r.PathValue("list")
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, web.ErrNotFound)
		return Held{}, false
	}
	held, err := s.HeldMessages(list)
	if err != nil {
		s.fail(w, r, err)
		return Held{}, false
	}
	for _, h := range held {
		if h.ID == id && h.List == list {
			return h, true
		}
	}
	s.fail(w, r, ErrNotFound)
	return Held{}, false
}

// renderHeld answers with the page of one held message: its raw text,
// escaped and cut at maxShownRaw, and the moderators' decisions.
func (s *Service) renderHeld(w http.ResponseWriter, r *http.Request, status int, page moderationMessagePage) {
	raw, err := s.HeldRaw(page.List, page.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(raw) > maxShownRaw {
		raw = raw[:maxShownRaw]
		// Do not cut a character in two.
		for i := len(raw) - 1; i >= 0 && i >= len(raw)-utf8.UTFMax; i-- {
			if utf8.RuneStart(raw[i]) {
				if !utf8.FullRune(raw[i:]) {
					raw = raw[:i]
				}
				break
			}
		}
		page.Truncated = true
	}
	// Mail in other charsets shows its bytes as U+FFFD: this is a view
	// of the raw message, not a rendering.
	page.Raw = string(bytes.ToValidUTF8(raw, []byte("\uFFFD")))
	s.render(w, r, status, "moderation_message.html", page)
}

// moderationMessage serves one held message with its raw text.
func (s *Service) moderationMessage(w http.ResponseWriter, r *http.Request) {
	h, ok := s.heldFromPath(w, r)
	if !ok {
		return
	}
	s.renderHeld(w, r, http.StatusOK, moderationMessagePage{heldRow: newHeldRow(h)})
}

// moderate applies a moderator's decision to a held message.
func (s *Service) moderate(w http.ResponseWriter, r *http.Request) {
	h, ok := s.heldFromPath(w, r)
	if !ok {
		return
	}
	a, ok := parseAction(r.PostFormValue("action"))
	reason, key := checkText(r.PostFormValue("reason"), maxReason, true)
	if !ok || key != "" {
		errs := fieldErrors{"action": "list.mod.error.action"}
		if key != "" {
			errs = fieldErrors{"reason": key}
		}
		s.renderHeld(w, r, http.StatusBadRequest, moderationMessagePage{heldRow: newHeldRow(h), Reason: reason, Errors: errs})
		return
	}
	if a != Reject {
		reason = ""
	}
	err := s.Moderate(r.Context(), h.List, h.ID, a, reason)
	if errors.Is(err, ErrNotFound) {
		// Another moderator was quicker.
		web.Redirect(w, r, "/admin/moderation?gone")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.web.logger.Info("held message moderated", "list", h.List, "id", h.ID, "action", string(a), "by", web.UserFrom(r.Context()).Login)
	web.Redirect(w, r, "/admin/moderation?done="+string(a))
}
