package antispam

import (
	"context"
	"crypto/rand"
	"embed"
	"io/fs"
	"log/slog"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"codeberg.org/placette/placette/internal/store"
	"codeberg.org/placette/placette/internal/web"
)

//go:embed templates locales
var embedded embed.FS

// Names of the form fields the guard reads; the edit form carries them.
const (
	FieldToken    = "ts"       // the signed form timestamp
	FieldHoneypot = "website"  // left empty by people, filled by bots
	FieldQuestion = "question" // the id of the question asked
	FieldAnswer   = "answer"   // the writer's answer
)

// Mode is who may write in the wiki.
type Mode string

// The wiki's modes.
const (
	ModeOpen     Mode = "open"     // anyone, accounts or not (the default)
	ModeAccounts Mode = "accounts" // people with an account only
	ModeReadOnly Mode = "readonly" // staff only
)

// Reasons an edit is refused: catalog keys, for the writer.
const (
	ReasonReadOnly     = "antispam.refused.readonly"      // the wiki is read-only
	ReasonAccounts     = "antispam.refused.accounts"      // the wiki is for accounts only
	ReasonToken        = "antispam.refused.token"         // the form's token is missing, forged or for another page
	ReasonTooFast      = "antispam.refused.too_fast"      // saved sooner than Limits.MinSeconds after the form was shown
	ReasonTooOld       = "antispam.refused.too_old"       // saved later than Limits.MaxHours after
	ReasonHoneypot     = "antispam.refused.honeypot"      // the field to leave empty was filled
	ReasonQuestion     = "antispam.refused.question"      // a first edit: answer the question
	ReasonLinkQuestion = "antispam.refused.link_question" // the edit adds links: answer the question
	ReasonAnswer       = "antispam.refused.answer"        // the answer is wrong
	ReasonLinks        = "antispam.refused.links"         // more new links than Limits.MaxNewLinks
	ReasonBlocklist    = "antispam.refused.blocklist"     // the added text matches the blocklist
	ReasonRateAddr     = "antispam.refused.rate_addr"     // too many saves from one network
	ReasonRatePage     = "antispam.refused.rate_page"     // too many edits of one page
	ReasonCreates      = "antispam.refused.creates"       // the day's page creations are used up
)

// Reasons returns every reason Check may give, for tests of the catalogs.
func Reasons() []string {
	return []string{ReasonReadOnly, ReasonAccounts, ReasonToken, ReasonTooFast, ReasonTooOld, ReasonHoneypot, ReasonQuestion, ReasonLinkQuestion, ReasonAnswer, ReasonLinks, ReasonBlocklist, ReasonRateAddr, ReasonRatePage, ReasonCreates}
}

// Options tune a guard; the zero value is the production one.
type Options struct {
	// Now is the clock; can be nil (time.Now).
	Now func() time.Time
	// Logger receives the guard's logs; can be nil (the shell's, with
	// component=antispam).
	Logger *slog.Logger
}

// state is the guard's current configuration, replaced as a whole when an
// administrator changes it.
type state struct {
	mode      Mode
	limits    Limits
	questions []qa
	blocklist *Blocklist
	blockText string
	byAddr    *web.Limiter // saves per network
	byPage    *web.Limiter // non-staff edits per page
}

// question returns the question called id, or nil.
func (s *state) question(id string) *qa {
	for i := range s.questions {
		if s.questions[i].ID == id {
			return &s.questions[i]
		}
	}
	return nil
}

// maxCreateKeys bounds the networks the daily creation count remembers.
const maxCreateKeys = 50000

// Guard checks edits against the wiki's defences. It is safe for
// concurrent use.
type Guard struct {
	db     *store.DB
	shell  *web.Shell
	now    func() time.Time
	logger *slog.Logger
	pages  *web.Templates

	st atomic.Pointer[state]

	saveMu sync.Mutex // serialises changes of the settings (read, change, store, swap)

	mu        sync.Mutex     // guards createDay and creates
	createDay string         // the UTC day creates counts, "2006-01-02"
	creates   map[string]int // pages created today by anonymous writers, per network

	logLimit *web.Limiter // refusals recorded per network, so that a flood does not wear the disk
}

// New returns the guard over db, running its migrations, and registers its
// administration pages' entries with shell.
func New(db *store.DB, shell *web.Shell) (*Guard, error) {
	return NewWith(db, shell, Options{})
}

// NewWith is New with options: a clock for tests, a logger. It adds the
// package's catalog to the shell's, so it must be called before serving,
// once per shell.
func NewWith(db *store.DB, shell *web.Shell, opts Options) (*Guard, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = shell.Logger().With("component", "antispam")
	}
	if err := db.Migrate("wiki/antispam", migrations); err != nil {
		return nil, err
	}
	locales, _ := fs.Sub(embedded, "locales")
	if err := shell.AddCatalog(locales); err != nil {
		return nil, err
	}
	pages, err := shell.Parse(embedded, "templates/*.html")
	if err != nil {
		return nil, err
	}
	g := &Guard{
		db:       db,
		shell:    shell,
		now:      opts.Now,
		logger:   opts.Logger,
		pages:    pages,
		creates:  map[string]int{},
		logLimit: web.NewLimiter(time.Minute, 10),
	}
	s, err := load(db)
	if err != nil {
		return nil, err
	}
	g.st.Store(g.newState(s, nil))
	shell.AddAdminLink(web.AdminLink{Path: "/admin/wiki/antispam", TitleKey: "antispam.admin.title", TextKey: "antispam.admin.summary"})
	shell.AddAdminLink(web.AdminLink{Path: "/admin/wiki/refused", TitleKey: "antispam.refused_log.title", TextKey: "antispam.refused_log.summary"})
	return g, nil
}

// newState builds the state for s, keeping the rate limiters of prev (can
// be nil) when their limits did not change, and the compiled blocklist
// when its text did not.
func (g *Guard) newState(s stored, prev *state) *state {
	st := &state{mode: s.settings.Mode, limits: s.settings.Limits, questions: s.questions, blockText: s.blocklist}
	if prev != nil && prev.blockText == s.blocklist {
		st.blocklist = prev.blocklist
	} else {
		st.blocklist = ParseBlocklist(s.blocklist)
		if n := len(st.blocklist.Errors); n > 0 {
			g.logger.Warn("blocklist lines ignored", "count", n, "first", st.blocklist.Errors[0].Error())
		}
	}
	if prev != nil && prev.limits.AddrEdits == st.limits.AddrEdits {
		st.byAddr = prev.byAddr
	} else {
		st.byAddr = web.NewLimiter(ratePeriod/time.Duration(st.limits.AddrEdits), st.limits.AddrEdits)
	}
	if prev != nil && prev.limits.PageEdits == st.limits.PageEdits {
		st.byPage = prev.byPage
	} else {
		st.byPage = web.NewLimiter(ratePeriod/time.Duration(st.limits.PageEdits), st.limits.PageEdits)
	}
	return st
}

// Mode returns the wiki's current mode.
func (g *Guard) Mode() Mode { return g.st.Load().mode }

// MayEdit reports whether user (nil: anonymous) may edit in the current
// mode, for showing or hiding edit links and forms.
func (g *Guard) MayEdit(user *web.User) bool {
	switch g.Mode() {
	case ModeReadOnly:
		return user.Staff()
	case ModeAccounts:
		return user != nil
	}
	return true
}

// Limits returns the current limits.
func (g *Guard) Limits() Limits { return g.st.Load().limits }

// Question is a question asked to an anonymous writer.
type Question struct {
	ID   string // opaque, carried in FieldQuestion
	Text string // as the administrator wrote it
}

// Form is what an edit form must carry for the guard: hidden fields and,
// when the writer must answer one, the question.
type Form struct {
	Token    string    // value of FieldToken
	Question *Question // can be nil: nothing to ask
}

// Form returns the guard's part of a fresh edit form for the person behind
// r (user nil: anonymous), about to write in the page slug. Anonymous
// writers get a question unless their browser answered one correctly in
// the last AnswerTTL. The slug must be the one given to Check later (see
// Edit.FormSlug for a new page whose slug is typed in the form).
func (g *Guard) Form(w http.ResponseWriter, r *http.Request, user *web.User, slug string) Form {
	st := g.st.Load()
	f := Form{Token: makeToken(g.shell, slug, g.now())}
	if user == nil && !validAnswerCookie(g.shell, r, g.now()) {
		f.Question = st.pick("")
	}
	return f
}

// pick returns the question called id if there is one, else one at
// random; nil when there are no questions.
func (s *state) pick(id string) *Question {
	if q := s.question(id); q != nil {
		return &Question{ID: q.ID, Text: q.Text}
	}
	if len(s.questions) == 0 {
		return nil
	}
	i := 0
	if n, err := rand.Int(rand.Reader, big.NewInt(int64(len(s.questions)))); err == nil {
		i = int(n.Int64())
	}
	q := s.questions[i]
	return &Question{ID: q.ID, Text: q.Text}
}

// Edit is a save the guard is asked about.
type Edit struct {
	Slug     string
	Create   bool      // the page does not exist yet
	User     *web.User // nil: anonymous
	Old, New string    // the page's source before and after
	Summary  string
	// Pseudonym is the name an anonymous writer chose; can be empty. It
	// goes to the log of refused edits and through the blocklist.
	Pseudonym string
	// FormSlug is the slug the form was made for with Guard.Form, when it
	// is not Slug (a new page whose title is typed in the form); "" means
	// Slug.
	FormSlug string
}

// Verdict is the guard's answer about an edit.
type Verdict struct {
	OK     bool
	Reason string // catalog key of why it was refused, for the writer; "" when OK
	Form   Form   // the form to show again when refused (text kept by the caller)
}

// Check decides on an edit posted by r, whose form fields it reads, and
// records the refusal when there is one. A correct answer to the question
// is remembered in a signed cookie it sets on w.
//
// Staff (administrators, moderators) pass every check. The mode is
// enforced for everyone else. Anonymous writers must also leave the
// honeypot empty, send a form token that is genuine, for this page, and
// neither too fresh nor too old, and answer the question on a first edit
// and on any edit that adds links to other sites. Anonymous writers and
// accounts that are not staff are held to the limit on new links, the
// blocklist (applied to the added text, the summary and the pseudonym) and
// the rates per network and per page; anonymous writers, to the daily cap
// on new pages per network.
//
// The checks run cheapest and least forgiving first: the rate per network
// (it counts every attempt, refused or not), the honeypot and the token,
// then the content, then the question, then the rate per page and the
// daily cap (which count accepted edits only).
func (g *Guard) Check(ctx context.Context, w http.ResponseWriter, r *http.Request, e Edit) Verdict {
	user := e.User
	if user.Staff() {
		return Verdict{OK: true}
	}
	st := g.st.Load()
	now := g.now()
	anon := user == nil
	formSlug := e.FormSlug
	if formSlug == "" {
		formSlug = e.Slug
	}
	addrKey := web.AddrKey(web.ClientAddr(r))
	var (
		added    string
		newLinks []string
		answered bool // this request carries a correct answer
	)
	refuse := func(reason, detail string) Verdict {
		v := Verdict{Reason: reason, Form: Form{Token: makeToken(g.shell, formSlug, now)}}
		if anon && (len(newLinks) > 0 || !answered && !validAnswerCookie(g.shell, r, now)) {
			v.Form.Question = st.pick(r.PostFormValue(FieldQuestion))
		}
		g.refused(r, e, addrKey, reason, detail, added, now)
		return v
	}

	switch {
	case st.mode == ModeReadOnly:
		return refuse(ReasonReadOnly, "")
	case st.mode == ModeAccounts && anon:
		return refuse(ReasonAccounts, "")
	}
	if !st.byAddr.Allow(addrKey) {
		return refuse(ReasonRateAddr, addrKey)
	}
	if anon {
		if r.PostFormValue(FieldHoneypot) != "" {
			return refuse(ReasonHoneypot, truncate(r.PostFormValue(FieldHoneypot), 100))
		}
		min := time.Duration(st.limits.MinSeconds) * time.Second
		max := time.Duration(st.limits.MaxHours) * time.Hour
		if bad := checkToken(g.shell, r.PostFormValue(FieldToken), formSlug, now, min, max); bad != tokenOK {
			return refuse(string(bad), "")
		}
		if q := st.question(r.PostFormValue(FieldQuestion)); q != nil && q.accepts(r.PostFormValue(FieldAnswer)) {
			answered = true
			c := &http.Cookie{
				Name:     AnswerCookie,
				Value:    answerCookie(g.shell, now.Add(AnswerTTL)),
				Path:     "/",
				MaxAge:   int(AnswerTTL / time.Second),
				HttpOnly: true,
				Secure:   g.shell.Secure(),
				SameSite: http.SameSiteLaxMode,
			}
			http.SetCookie(w, c)
		}
	}

	added = AddedText(e.Old, e.New)
	newLinks = NewLinks(e.Old, e.New)
	if len(newLinks) > st.limits.MaxNewLinks {
		return refuse(ReasonLinks, strconv.Itoa(len(newLinks))+": "+strings.Join(newLinks[:min(len(newLinks), 10)], " "))
	}
	if line, src, ok := st.blocklist.Match(added + "\n" + e.Summary + "\n" + e.Pseudonym); ok {
		return refuse(ReasonBlocklist, strconv.Itoa(line)+": "+src)
	}
	if anon && !answered && len(st.questions) > 0 && (len(newLinks) > 0 || !validAnswerCookie(g.shell, r, now)) {
		switch {
		case r.PostFormValue(FieldAnswer) != "":
			return refuse(ReasonAnswer, truncate(r.PostFormValue(FieldAnswer), 100))
		case len(newLinks) > 0:
			return refuse(ReasonLinkQuestion, "")
		default:
			return refuse(ReasonQuestion, "")
		}
	}
	if !st.byPage.Allow(e.Slug) {
		return refuse(ReasonRatePage, "")
	}
	if anon && e.Create && !g.allowCreate(addrKey, now, st.limits.CreatesPerDay) {
		return refuse(ReasonCreates, addrKey)
	}
	return Verdict{OK: true}
}

// allowCreate counts a page created by an anonymous writer of network key
// today, and reports whether it is within the day's cap. The counts live
// in memory: a restart forgets them, which at worst doubles one day's cap.
func (g *Guard) allowCreate(key string, now time.Time, capPerDay int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	day := now.UTC().Format(time.DateOnly)
	if day != g.createDay {
		g.createDay = day
		clear(g.creates)
	}
	n, ok := g.creates[key]
	if n >= capPerDay || !ok && len(g.creates) >= maxCreateKeys {
		return false
	}
	g.creates[key] = n + 1
	return true
}

// AddrHash returns the hashed network (AddrKey) of the person behind r, as
// the log of refused edits shows it: a keyed hash, so that moderators can
// tell writers apart and group their edits without the addresses being
// stored. The wiki can record the same value with revisions.
func (g *Guard) AddrHash(r *http.Request) string {
	return hashAddr(g.shell, web.AddrKey(web.ClientAddr(r)))
}

func hashAddr(s signer, key string) string { return s.Sign(signAddr, key)[:12] }

// refused logs and records a refusal.
func (g *Guard) refused(r *http.Request, e Edit, addrKey, reason, detail, added string, now time.Time) {
	who, account := e.Pseudonym, false
	if e.User != nil {
		who, account = e.User.Login, true
	}
	if added == "" && reason != ReasonRateAddr {
		added = AddedText(e.Old, e.New)
	}
	addr := hashAddr(g.shell, addrKey)
	if !g.logLimit.Allow(addrKey) {
		// A flood: neither the disk nor the log hears of every attempt.
		g.logger.Debug("wiki edit refused", "slug", e.Slug, "reason", reason, "addr", addr, "who", who, "recorded", false)
		return
	}
	g.logger.Info("wiki edit refused", "slug", e.Slug, "reason", reason, "addr", addr, "who", who)
	err := g.record(Refusal{
		Time: now, Slug: e.Slug, Reason: reason, Detail: truncate(detail, 300),
		Addr: addr, Who: truncate(who, 100), Account: account, Added: added,
	})
	if err != nil {
		g.logger.Error("record refused edit", "slug", e.Slug, "error", err)
	}
}
