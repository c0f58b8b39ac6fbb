package antispam

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"codeberg.org/placette/placette/internal/web"
)

// Routes registers the administration pages (settings, questions,
// blocklist, refused edits) on mux.
//
//	GET  /admin/wiki/antispam            staff: the mode; administrators: everything
//	POST /admin/wiki/antispam/mode       staff: change the mode
//	POST /admin/wiki/antispam/questions  administrators: the questions and answers
//	POST /admin/wiki/antispam/blocklist  administrators: the blocklist
//	POST /admin/wiki/antispam/limits     administrators: the limits
//	GET  /admin/wiki/refused?page=N      staff: the log of refused edits
func (g *Guard) Routes(mux *http.ServeMux) {
	mux.Handle("GET /admin/wiki/antispam", g.shell.RequireStaff(g.settingsPage))
	mux.Handle("POST /admin/wiki/antispam/mode", g.shell.RequireStaff(g.saveMode))
	mux.Handle("POST /admin/wiki/antispam/questions", g.shell.RequireAdmin(g.saveQuestions))
	mux.Handle("POST /admin/wiki/antispam/blocklist", g.shell.RequireAdmin(g.saveBlocklist))
	mux.Handle("POST /admin/wiki/antispam/limits", g.shell.RequireAdmin(g.saveLimits))
	mux.Handle("GET /admin/wiki/refused", g.shell.RequireStaff(g.refusedPage))
}

// Bounds of the questions an administrator writes.
const (
	maxQuestions     = 50
	maxAnswers       = 20
	maxQuestionRunes = 300
	maxAnswerRunes   = 100
	maxBlocklistSize = 1 << 20
)

// questionRow is a question as the form shows and sends it.
type questionRow struct {
	N       int // 0-based, in the field names
	Num     int // N+1, as shown
	New     bool
	ID      string
	Text    string
	Answers string // one per line
	Delete  bool
}

// limitRow is a field of the limits form.
type limitRow struct {
	Field    string
	Value    string
	Min, Max int
}

// formError is what is wrong with a section of the page, for its author.
type formError struct {
	Section string // "mode", "questions", "blocklist", "limits"
	Key     string // catalog key
	N       int    // the question (1-based) or 0
	Field   string // the limit's field, or ""
	Min     int    // the limit's bounds
	Max     int
}

type settingsPage struct {
	Admin     bool
	Mode      Mode
	Modes     []Mode
	Questions []questionRow // the last one is empty, for a new question
	Blocklist string
	Patterns  int              // patterns in use
	BadLines  []BlocklistError // the first ones of the lines not in use
	MoreBad   int              // lines not in use beyond BadLines
	BadTotal  int              // lines not in use
	Limits    []limitRow
	Error     *formError
	Done      string // catalog key of what was just saved
}

// ErrorIn reports whether the error is about section, for templates.
func (p *settingsPage) ErrorIn(section string) bool {
	return p.Error != nil && p.Error.Section == section
}

// Count returns the number of existing questions in the form (the last
// row is for a new one).
func (p *settingsPage) Count() int { return len(p.Questions) - 1 }

// maxBadShown is how many unused blocklist lines the page lists.
const maxBadShown = 100

// page returns the settings page for the current state, for user.
func (g *Guard) page(user *web.User) *settingsPage {
	st := g.st.Load()
	p := &settingsPage{
		Admin:    user.Admin,
		Mode:     st.mode,
		Modes:    []Mode{ModeOpen, ModeAccounts, ModeReadOnly},
		Patterns: st.blocklist.Len(),
	}
	if !p.Admin {
		return p
	}
	for i, q := range st.questions {
		p.Questions = append(p.Questions, questionRow{N: i, Num: i + 1, ID: q.ID, Text: q.Text, Answers: strings.Join(q.Answers, "\n")})
	}
	p.Questions = append(p.Questions, questionRow{N: len(st.questions), Num: len(st.questions) + 1, New: true})
	p.Blocklist = st.blockText
	bad := st.blocklist.Errors
	p.BadTotal = len(bad)
	if len(bad) > maxBadShown {
		p.MoreBad = len(bad) - maxBadShown
		bad = bad[:maxBadShown]
	}
	p.BadLines = bad
	for _, b := range limitBounds {
		l := st.limits
		p.Limits = append(p.Limits, limitRow{Field: b.field, Value: strconv.Itoa(*b.get(&l)), Min: b.min, Max: b.max})
	}
	return p
}

func (g *Guard) settingsPage(w http.ResponseWriter, r *http.Request) {
	p := g.page(web.UserFrom(r.Context()))
	switch d := r.URL.Query().Get("done"); d {
	case "mode", "questions", "blocklist", "limits":
		p.Done = "antispam.admin.done." + d
	}
	g.shell.RenderNoIndex(w, r, http.StatusOK, g.pages, "antispam.html", p)
}

// update applies change to the stored settings and makes the result
// current.
func (g *Guard) update(change func(s *stored) (key string, value any)) error {
	g.saveMu.Lock()
	defer g.saveMu.Unlock()
	s, err := load(g.db)
	if err != nil {
		return err
	}
	key, value := change(&s)
	if err := put(g.db, key, value); err != nil {
		return err
	}
	g.st.Store(g.newState(s, g.st.Load()))
	return nil
}

func (g *Guard) saveMode(w http.ResponseWriter, r *http.Request) {
	m := Mode(r.PostFormValue("mode"))
	switch m {
	case ModeOpen, ModeAccounts, ModeReadOnly:
	default:
		p := g.page(web.UserFrom(r.Context()))
		p.Error = &formError{Section: "mode", Key: "antispam.admin.error.mode"}
		g.shell.RenderNoIndex(w, r, http.StatusBadRequest, g.pages, "antispam.html", p)
		return
	}
	err := g.update(func(s *stored) (string, any) {
		s.settings.Mode = m
		return keySettings, s.settings
	})
	if err != nil {
		g.shell.Error(w, r, err)
		return
	}
	g.logger.Info("wiki mode changed", "mode", string(m), "by", web.UserFrom(r.Context()).Login)
	web.Redirect(w, r, "/admin/wiki/antispam?done=mode")
}

// parseQuestions reads the questions form. It returns the rows as sent
// (for the form to come back) and the questions to store, or the error.
func parseQuestions(r *http.Request, existing []qa) ([]questionRow, []qa, *formError) {
	count, err := strconv.Atoi(r.PostFormValue("count"))
	if err != nil || count < 0 || count > maxQuestions {
		count = 0
	}
	known := map[string]bool{}
	for _, q := range existing {
		known[q.ID] = true
	}
	var rows []questionRow
	var out []qa
	var ferr *formError
	fail := func(key string, n int) {
		if ferr == nil {
			ferr = &formError{Section: "questions", Key: key, N: n}
		}
	}
	used := map[string]bool{}
	for i := 0; i <= count; i++ {
		pre := "q" + strconv.Itoa(i) + "-"
		row := questionRow{
			N:       i,
			Num:     i + 1,
			New:     i == count,
			ID:      r.PostFormValue(pre + "id"),
			Text:    strings.ToValidUTF8(r.PostFormValue(pre+"text"), "\uFFFD"),
			Answers: strings.ToValidUTF8(strings.ReplaceAll(r.PostFormValue(pre+"answers"), "\r\n", "\n"), "\uFFFD"),
			Delete:  r.PostFormValue(pre+"delete") != "",
		}
		rows = append(rows, row)
		text := strings.TrimSpace(row.Text)
		var answers []string
		for a := range strings.Lines(row.Answers) {
			if a = strings.TrimSpace(a); a != "" {
				answers = append(answers, a)
			}
		}
		if row.Delete || i == count && text == "" && len(answers) == 0 {
			continue
		}
		switch {
		case text == "":
			fail("antispam.admin.error.question_empty", i+1)
		case utf8.RuneCountInString(text) > maxQuestionRunes:
			fail("antispam.admin.error.question_long", i+1)
		case len(answers) == 0:
			fail("antispam.admin.error.no_answer", i+1)
		case len(answers) > maxAnswers:
			fail("antispam.admin.error.too_many_answers", i+1)
		}
		for _, a := range answers {
			if NormalizeAnswer(a) == "" || utf8.RuneCountInString(a) > maxAnswerRunes {
				fail("antispam.admin.error.answer", i+1)
			}
		}
		id := row.ID
		if !known[id] || used[id] {
			raw := make([]byte, 6)
			rand.Read(raw)
			id = "q" + hex.EncodeToString(raw)
		}
		used[id] = true
		out = append(out, qa{ID: id, Text: text, Answers: answers})
	}
	switch {
	case ferr != nil:
	case len(out) == 0:
		fail("antispam.admin.error.no_question", 0)
	case len(out) > maxQuestions:
		fail("antispam.admin.error.too_many_questions", 0)
	}
	return rows, out, ferr
}

func (g *Guard) saveQuestions(w http.ResponseWriter, r *http.Request) {
	rows, qs, ferr := parseQuestions(r, g.st.Load().questions)
	if ferr != nil {
		p := g.page(web.UserFrom(r.Context()))
		p.Questions = rows
		p.Error = ferr
		g.shell.RenderNoIndex(w, r, http.StatusBadRequest, g.pages, "antispam.html", p)
		return
	}
	err := g.update(func(s *stored) (string, any) {
		s.questions = qs
		return keyQuestions, qs
	})
	if err != nil {
		g.shell.Error(w, r, err)
		return
	}
	g.logger.Info("wiki questions changed", "count", len(qs), "by", web.UserFrom(r.Context()).Login)
	web.Redirect(w, r, "/admin/wiki/antispam?done=questions#questions")
}

func (g *Guard) saveBlocklist(w http.ResponseWriter, r *http.Request) {
	text := strings.ReplaceAll(r.PostFormValue("blocklist"), "\r\n", "\n")
	key := ""
	switch {
	case !utf8.ValidString(text):
		key = "antispam.admin.error.encoding"
	case len(text) > maxBlocklistSize:
		key = "antispam.admin.error.blocklist_size"
	}
	if key != "" {
		p := g.page(web.UserFrom(r.Context()))
		p.Blocklist = strings.ToValidUTF8(text, "\uFFFD")
		p.Error = &formError{Section: "blocklist", Key: key}
		g.shell.RenderNoIndex(w, r, http.StatusBadRequest, g.pages, "antispam.html", p)
		return
	}
	err := g.update(func(s *stored) (string, any) {
		s.blocklist = text
		return keyBlocklist, text
	})
	if err != nil {
		g.shell.Error(w, r, err)
		return
	}
	st := g.st.Load()
	g.logger.Info("wiki blocklist changed", "patterns", st.blocklist.Len(), "ignored", len(st.blocklist.Errors), "by", web.UserFrom(r.Context()).Login)
	web.Redirect(w, r, "/admin/wiki/antispam?done=blocklist#blocklist")
}

func (g *Guard) saveLimits(w http.ResponseWriter, r *http.Request) {
	var l Limits
	var rows []limitRow
	var ferr *formError
	for _, b := range limitBounds {
		v := strings.TrimSpace(r.PostFormValue(b.field))
		rows = append(rows, limitRow{Field: b.field, Value: strings.ToValidUTF8(v, "\uFFFD"), Min: b.min, Max: b.max})
		n, err := strconv.Atoi(v)
		if (err != nil || n < b.min || n > b.max) && ferr == nil {
			ferr = &formError{Section: "limits", Key: "antispam.admin.error.limit", Field: b.field, Min: b.min, Max: b.max}
		}
		*b.get(&l) = n
	}
	if ferr != nil {
		p := g.page(web.UserFrom(r.Context()))
		p.Limits = rows
		p.Error = ferr
		g.shell.RenderNoIndex(w, r, http.StatusBadRequest, g.pages, "antispam.html", p)
		return
	}
	err := g.update(func(s *stored) (string, any) {
		s.settings.Limits = l
		return keySettings, s.settings
	})
	if err != nil {
		g.shell.Error(w, r, err)
		return
	}
	g.logger.Info("wiki anti-spam limits changed", "by", web.UserFrom(r.Context()).Login)
	web.Redirect(w, r, "/admin/wiki/antispam?done=limits#limits")
}

// refusedPerPage is the number of entries per page of the log.
const refusedPerPage = 50

type refusedPage struct {
	Entries    []Refusal
	Total      int
	Page       int // 1-based
	Pages      int
	Prev, Next int // page numbers, 0: none
}

func (g *Guard) refusedPage(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 || n > MaxRefused {
		n = 1
	}
	entries, total, err := g.Refused((n-1)*refusedPerPage, refusedPerPage)
	if err != nil {
		g.shell.Error(w, r, err)
		return
	}
	p := refusedPage{Entries: entries, Total: total, Page: n, Pages: max(1, (total+refusedPerPage-1)/refusedPerPage)}
	if n > p.Pages {
		g.shell.Error(w, r, web.ErrNotFound)
		return
	}
	if n > 1 {
		p.Prev = n - 1
	}
	if n < p.Pages {
		p.Next = n + 1
	}
	g.shell.RenderNoIndex(w, r, http.StatusOK, g.pages, "refused.html", p)
}
