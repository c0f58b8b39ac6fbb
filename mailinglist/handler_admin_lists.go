package mailinglist

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"codeberg.org/placette/placette/internal/web"
)

// policies are the posting policies, in the order the forms offer them.
var policies = []Policy{PolicyMembers, PolicyAnyone, PolicyModerated, PolicyAnnounce}

// listForm is the settings form of a list, as typed.
type listForm struct {
	Name, Title, Description, Domain, SubjectTag, MaxKB string
	Policy                                              string
	Private, SelfCopy, ReplyToList, DMARCAlways         bool
}

func formFromList(l *List) listForm {
	f := listForm{
		Name: l.Name, Title: l.Title, Description: l.Description, Domain: l.Domain,
		SubjectTag: l.SubjectTag, Policy: string(l.Policy),
		Private: l.Private, SelfCopy: l.SelfCopy, ReplyToList: l.ReplyToList, DMARCAlways: l.DMARCAlways,
	}
	if l.MaxBytes > 0 {
		f.MaxKB = strconv.FormatInt(l.MaxBytes/1024, 10)
	}
	return f
}

// readListForm reads the settings form of a list from a parsed POST.
func readListForm(r *http.Request) listForm {
	return listForm{
		Name:        keep(r.PostFormValue("name")),
		Title:       keep(r.PostFormValue("title")),
		Description: keep(r.PostFormValue("description")),
		Domain:      keep(r.PostFormValue("domain")),
		SubjectTag:  keep(r.PostFormValue("subject_tag")),
		MaxKB:       keep(r.PostFormValue("max_kb")),
		Policy:      r.PostFormValue("policy"),
		Private:     r.PostFormValue("private") != "",
		SelfCopy:    r.PostFormValue("self_copy") != "",
		ReplyToList: r.PostFormValue("reply_to") == "list",
		DMARCAlways: r.PostFormValue("dmarc_always") != "",
	}
}

// maxKB is the largest size limit the form takes, in KiB (1 GiB).
const maxKB = 1 << 20

// toList checks the form and returns the list it describes, or the errors
// of its fields. The store checks the name and fills defaults.
func (f listForm) toList() (List, fieldErrors) {
	errs := fieldErrors{}
	l := List{
		Name:        strings.ToLower(strings.TrimSpace(f.Name)),
		Private:     f.Private,
		SelfCopy:    f.SelfCopy,
		ReplyToList: f.ReplyToList,
		DMARCAlways: f.DMARCAlways,
		Policy:      Policy(f.Policy),
	}
	if l.Name == "" {
		errs["name"] = "form.error.required"
	}
	var key string
	if l.Title, key = checkText(f.Title, maxName, false); key != "" {
		errs["title"] = key
	}
	if l.Description, key = checkText(f.Description, maxDescription, true); key != "" {
		errs["description"] = key
	}
	if l.SubjectTag, key = checkText(f.SubjectTag, 40, false); key != "" {
		errs["subject_tag"] = key
	}
	l.Domain = strings.ToLower(strings.TrimSpace(f.Domain))
	if l.Domain != "" {
		if _, err := parseAddress("x@" + l.Domain); err != nil {
			errs["domain"] = "list.error.domain"
		}
	}
	found := false
	for _, p := range policies {
		found = found || p == l.Policy
	}
	if !found {
		errs["policy"] = "list.error.policy"
	}
	if kb := strings.TrimSpace(f.MaxKB); kb != "" {
		n, err := strconv.ParseInt(kb, 10, 64)
		if err != nil || n < 0 || n > maxKB {
			errs["max_kb"] = "list.error.size"
		} else {
			l.MaxBytes = n * 1024
		}
	}
	if len(errs) == 0 {
		errs = nil
	}
	return l, errs
}

// listErrors turns an error of the store about a list's settings into the
// errors of its form's fields; ok is false for an error that is not the
// form's.
func listErrors(err error) (fieldErrors, bool) {
	switch {
	case errors.Is(err, ErrBadName):
		return fieldErrors{"name": "list.error.name"}, true
	case errors.Is(err, ErrExists):
		return fieldErrors{"name": "list.error.exists"}, true
	}
	return nil, false
}

// adminListsRow is a line of the administration's table of lists.
type adminListsRow struct {
	List
	Members int
	Held    int
}

type adminListsPage struct {
	Lists    []adminListsRow
	Form     listForm
	Errors   fieldErrors
	Policies []Policy
	Done     string // catalog key of what was just done
}

// defaultDomain returns the mail domain a new list gets unless told
// otherwise: the one most lists have, else the configured one.
func (s *Service) defaultDomain(lists []List) string {
	count := map[string]int{}
	best := ""
	for _, l := range lists {
		count[l.Domain]++
		if l.Domain != "" && count[l.Domain] > count[best] {
			best = l.Domain
		}
	}
	if best != "" {
		return best
	}
	return s.cfg.MailDomain
}

func (s *Service) renderAdminLists(w http.ResponseWriter, r *http.Request, status int, page adminListsPage) {
	lists, err := s.Lists()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	held, err := s.HeldMessages("")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	heldBy := map[string]int{}
	for _, h := range held {
		heldBy[h.List]++
	}
	for _, l := range lists {
		members, err := s.Members(l.Name)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		page.Lists = append(page.Lists, adminListsRow{List: l, Members: len(members), Held: heldBy[l.Name]})
	}
	if page.Form.Domain == "" {
		page.Form.Domain = s.defaultDomain(lists)
	}
	page.Policies = policies
	s.render(w, r, status, "admin_lists.html", page)
}

// adminLists serves the administration's table of lists and the form that
// creates one.
func (s *Service) adminLists(w http.ResponseWriter, r *http.Request) {
	page := adminListsPage{Form: listForm{Policy: string(PolicyMembers), ReplyToList: false}}
	if r.URL.Query().Get("done") == "deleted" {
		page.Done = "list.admin.done.deleted"
	}
	s.renderAdminLists(w, r, http.StatusOK, page)
}

// adminCreateList creates a list from the form of adminLists.
func (s *Service) adminCreateList(w http.ResponseWriter, r *http.Request) {
	form := readListForm(r)
	l, errs := form.toList()
	if errs == nil {
		err := s.CreateList(l)
		if err != nil {
			var ok bool
			if errs, ok = listErrors(err); !ok {
				s.fail(w, r, err)
				return
			}
		}
	}
	if errs != nil {
		s.renderAdminLists(w, r, http.StatusBadRequest, adminListsPage{Form: form, Errors: errs})
		return
	}
	s.web.logger.Info("list created", "list", l.Name, "by", web.UserFrom(r.Context()).Login)
	web.Redirect(w, r, "/admin/lists/"+url.PathEscape(l.Name)+"?done=created")
}

type adminListPage struct {
	List     *List
	Form     listForm
	Errors   fieldErrors
	Policies []Policy
	Done     string // catalog key
	Confirm  string // what was typed in the deletion's confirmation
}

// adminList serves a list's settings form and its deletion.
func (s *Service) adminList(w http.ResponseWriter, r *http.Request) {
	l, err := s.List(r.PathValue("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := adminListPage{List: l, Form: formFromList(l), Policies: policies}
	switch r.URL.Query().Get("done") {
	case "created":
		page.Done = "list.admin.done.created"
	case "saved":
		page.Done = "list.admin.done.saved"
	}
	s.render(w, r, http.StatusOK, "admin_list.html", page)
}

// adminSaveList saves a list's settings.
func (s *Service) adminSaveList(w http.ResponseWriter, r *http.Request) {
	old, err := s.List(r.PathValue("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form := readListForm(r)
	form.Name = old.Name // the name is the list's address: it does not change
	l, errs := form.toList()
	if errs == nil {
		l.Created = old.Created
		if err := s.UpdateList(l); err != nil {
			var ok bool
			if errs, ok = listErrors(err); !ok {
				s.fail(w, r, err)
				return
			}
		}
	}
	if errs != nil {
		s.render(w, r, http.StatusBadRequest, "admin_list.html", adminListPage{List: old, Form: form, Errors: errs, Policies: policies})
		return
	}
	s.web.logger.Info("list settings saved", "list", l.Name, "by", web.UserFrom(r.Context()).Login)
	web.Redirect(w, r, "/admin/lists/"+url.PathEscape(l.Name)+"?done=saved")
}

// adminDeleteList deletes a list once its name has been typed again.
func (s *Service) adminDeleteList(w http.ResponseWriter, r *http.Request) {
	l, err := s.List(r.PathValue("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	typed := keep(r.PostFormValue("confirm"))
	if strings.TrimSpace(strings.ToLower(typed)) != l.Name {
		s.render(w, r, http.StatusBadRequest, "admin_list.html", adminListPage{
			List: l, Form: formFromList(l), Policies: policies, Confirm: typed,
			Errors: fieldErrors{"confirm": "list.admin.delete.mismatch"},
		})
		return
	}
	if err := s.DeleteList(l.Name); err != nil {
		s.fail(w, r, err)
		return
	}
	s.web.logger.Info("list deleted", "list", l.Name, "by", web.UserFrom(r.Context()).Login)
	web.Redirect(w, r, "/admin/lists?done=deleted")
}
