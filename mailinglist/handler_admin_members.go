package mailinglist

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"codeberg.org/placette/placette/internal/web"
)

// membersPerPage is the number of members a page of the administration
// shows.
const membersPerPage = 50

// maxBadLines is the number of unreadable lines of an import the page
// shows; the rest are counted.
const maxBadLines = 100

type memberForm struct {
	Addr, Name string
}

type importResult struct {
	Added    int
	Bad      []string
	MoreBad  int // unreadable lines not shown
	NoFile   bool
	Finished bool
}

type adminMembersPage struct {
	List     *List
	Members  []Member
	Total    int // members matching the search
	All      int // members of the list
	Query    string
	Page     int
	Pages    int
	PrevURL  string
	NextURL  string
	Modes    []Mode
	Form     memberForm
	Errors   fieldErrors
	Done     string // catalog key
	Import   importResult
	BaseURL  string // this page's path
	Filtered bool
}

// pageURL returns the path of page n of the members of list matching q.
func pageURL(list, q string, n int) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if n > 1 {
		v.Set("page", strconv.Itoa(n))
	}
	p := "/admin/lists/" + url.PathEscape(list) + "/members"
	if len(v) > 0 {
		p += "?" + v.Encode()
	}
	return p
}

// filterMembers returns the members whose address or name contains q,
// ignoring case.
func filterMembers(members []Member, q string) []Member {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return members
	}
	var out []Member
	for _, m := range members {
		if strings.Contains(m.Addr, q) || strings.Contains(strings.ToLower(m.Name), q) {
			out = append(out, m)
		}
	}
	return out
}

// renderMembers answers with the members page of l, at the search and
// page of r's query.
func (s *Service) renderMembers(w http.ResponseWriter, r *http.Request, status int, l *List, page adminMembersPage) {
	members, err := s.Members(l.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	page.List, page.Modes, page.All = l, memberModes, len(members)
	page.Query = keep(q.Get("q"))
	page.Filtered = strings.TrimSpace(page.Query) != ""
	page.BaseURL = "/admin/lists/" + url.PathEscape(l.Name) + "/members"
	found := filterMembers(members, page.Query)
	page.Total = len(found)
	page.Pages = max(1, (len(found)+membersPerPage-1)/membersPerPage)
	page.Page, _ = strconv.Atoi(q.Get("page"))
	page.Page = min(max(page.Page, 1), page.Pages)
	start := (page.Page - 1) * membersPerPage
	page.Members = found[start:min(start+membersPerPage, len(found))]
	if page.Page > 1 {
		page.PrevURL = pageURL(l.Name, page.Query, page.Page-1)
	}
	if page.Page < page.Pages {
		page.NextURL = pageURL(l.Name, page.Query, page.Page+1)
	}
	s.render(w, r, status, "admin_members.html", page)
}

// adminMembers serves a list's members: search, pages, adding one,
// removing, changing modes, CSV import and export.
func (s *Service) adminMembers(w http.ResponseWriter, r *http.Request) {
	l, err := s.List(r.PathValue("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var page adminMembersPage
	switch d := r.URL.Query().Get("done"); d {
	case "added", "removed", "mode":
		page.Done = "list.members.done." + d
	}
	s.renderMembers(w, r, http.StatusOK, l, page)
}

// membersURL is where a members form goes back to after a change.
func membersURL(list, done string) string {
	return "/admin/lists/" + url.PathEscape(list) + "/members?done=" + done
}

// adminAddMember subscribes one address without confirmation.
func (s *Service) adminAddMember(w http.ResponseWriter, r *http.Request) {
	l, err := s.List(r.PathValue("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form := memberForm{Addr: keep(r.PostFormValue("addr")), Name: keep(r.PostFormValue("name"))}
	errs := fieldErrors{}
	addr, err := parseAddress(form.Addr)
	if err != nil {
		errs["addr"] = "list.error.address"
	}
	name, key := checkText(form.Name, maxName, false)
	if key != "" {
		errs["name"] = key
	}
	if len(errs) == 0 {
		err = s.AddMember(l.Name, Member{Addr: addr, Name: name, Mode: ModeEach, Joined: s.cfg.Now()})
		switch {
		case errors.Is(err, ErrExists):
			errs["addr"] = "list.members.error.exists"
		case errors.Is(err, ErrBadAddress):
			errs["addr"] = "list.error.address"
		case err != nil:
			s.fail(w, r, err)
			return
		}
	}
	if len(errs) > 0 {
		s.renderMembers(w, r, http.StatusBadRequest, l, adminMembersPage{Form: form, Errors: errs})
		return
	}
	s.web.logger.Info("member added", "list", l.Name, "by", web.UserFrom(r.Context()).Login)
	web.Redirect(w, r, membersURL(l.Name, "added"))
}

// adminRemoveMember unsubscribes one address.
func (s *Service) adminRemoveMember(w http.ResponseWriter, r *http.Request) {
	l, err := s.List(r.PathValue("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.RemoveMember(l.Name, strings.ToLower(strings.TrimSpace(r.PostFormValue("addr")))); err != nil {
		s.fail(w, r, err)
		return
	}
	s.web.logger.Info("member removed", "list", l.Name, "by", web.UserFrom(r.Context()).Login)
	web.Redirect(w, r, membersURL(l.Name, "removed"))
}

// adminSetMode changes how a member gets the list's mail.
func (s *Service) adminSetMode(w http.ResponseWriter, r *http.Request) {
	l, err := s.List(r.PathValue("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mode, ok := parseMode(r.PostFormValue("mode"))
	if !ok {
		s.fail(w, r, web.ErrBadRequest)
		return
	}
	if err := s.SetMode(l.Name, strings.ToLower(strings.TrimSpace(r.PostFormValue("addr"))), mode); err != nil {
		s.fail(w, r, err)
		return
	}
	s.web.logger.Info("member mode changed", "list", l.Name, "mode", string(mode), "by", web.UserFrom(r.Context()).Login)
	web.Redirect(w, r, membersURL(l.Name, "mode"))
}

// adminImportMembers adds the members of an uploaded CSV file (address,
// then an optional name), and reports how many it added and the lines it
// could not read. The shell limits the upload to its MaxUploadBytes.
func (s *Service) adminImportMembers(w http.ResponseWriter, r *http.Request) {
	l, err := s.List(r.PathValue("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	file, _, err := r.FormFile("file")
	if err != nil {
		s.renderMembers(w, r, http.StatusBadRequest, l, adminMembersPage{Import: importResult{NoFile: true}, Errors: fieldErrors{"file": "list.members.import.no_file"}})
		return
	}
	defer file.Close()
	added, bad, err := s.ImportMembers(l.Name, file)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res := importResult{Added: added, Finished: true}
	for i, line := range bad {
		if i >= maxBadLines {
			res.MoreBad = len(bad) - maxBadLines
			break
		}
		if len(line) > 200 {
			line = line[:200] + "…"
		}
		res.Bad = append(res.Bad, keep(line))
	}
	s.web.logger.Info("members imported", "list", l.Name, "added", added, "bad", len(bad), "by", web.UserFrom(r.Context()).Login)
	s.renderMembers(w, r, http.StatusOK, l, adminMembersPage{Import: res})
}

// adminExportMembers sends the members of a list as a CSV file to
// download.
func (s *Service) adminExportMembers(w http.ResponseWriter, r *http.Request) {
	l, err := s.List(r.PathValue("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := s.ExportMembers(l.Name, &buf); err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+l.Name+`-members.csv"`)
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Robots-Tag", "noindex")
	w.Write(buf.Bytes())
}
