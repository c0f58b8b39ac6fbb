package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"codeberg.org/placette/placette/internal/store"
	bolt "go.etcd.io/bbolt"
)

// RecentItem is one line of the home page's lists of recent changes and
// threads.
type RecentItem struct {
	Title string
	URL   string
	Who   string
	When  time.Time
}

// Recent provides the newest items of a part of the site for the home
// page.
type Recent interface {
	// Recent returns at most n items that viewer (nil: anonymous) may
	// read, newest first.
	Recent(ctx context.Context, viewer *User, n int) ([]RecentItem, error)
}

// Handler serves the shell's own pages: home, terms, privacy, the language
// switch, static assets, the administration's index and settings, and
// /healthz.
type Handler struct {
	shell *Shell
	db    *store.DB

	// Wiki lists recent wiki changes on the home page; can be nil.
	Wiki Recent
	// Lists lists recent threads on the home page; can be nil.
	Lists Recent
	// Status gives the server's state shown on the administration's
	// index; can be nil (no status shown).
	Status StatusSource
}

// StatusSource reports the server's state for the administration's index
// page. Package app implements it: certificates, DNS, queue and disk are
// known to the wiring, not to the web layer.
type StatusSource interface {
	// Status returns the server's state; with check, it also asks DNS
	// what it answers for the records placette needs, within ctx.
	Status(ctx context.Context, check bool) (*ServerStatus, error)
}

// ServerStatus is the server's state, for the people who run it.
type ServerStatus struct {
	Version string
	Mode    string // "local", "public", "proxy" or "lan"
	URL     string // the site's absolute URL
	// Certificates are the TLS certificates served; empty in local and
	// proxy modes.
	Certificates []CertStatus
	// DNS are the records to publish; DNSChecked tells whether Found and
	// OK were filled in from DNS.
	DNS        []DNSRecord
	DNSChecked bool
	Queue      QueueStatus
	Storage    StorageStatus
	// LocalCA is the LAN mode's certificate authority; nil in other
	// modes.
	LocalCA *LocalCAStatus
}

// CertStatus is one certificate's state.
type CertStatus struct {
	Name      string
	NotAfter  time.Time // zero when there is none yet
	Issuer    string
	Obtaining bool
	Error     string // the last failure to get or renew it; "" if none
	ErrorAt   time.Time
	Soon      bool // expires within 14 days
}

// DNSRecord is a record placette needs, and what DNS answers for it.
type DNSRecord struct {
	Type, Name, Value string
	Found             []string
	OK                bool
}

// QueueStatus is the state of the outgoing mail.
type QueueStatus struct {
	Waiting, Failing int
	Oldest           time.Time // zero when the queue is empty
	Outbox           int       // messages written to the local outbox
	Error            string
}

// StorageStatus is the space placette uses and has.
type StorageStatus struct {
	DataDir             string
	DatabaseBytes       int64
	IndexBytes          int64
	DiskFree, DiskTotal uint64 // zero when unknown
	DiskLow             bool   // less than 5% or 500 MB free
}

// Size is a number of bytes as a catalog key and a count, for templates:
// {{with .Size}}{{t .Key .N}}{{end}}.
type Size struct {
	Key string
	N   int64
}

// SizeOf returns n bytes in megabytes, or in gigabytes from 10 GB on.
func SizeOf(n uint64) Size {
	const mb, gb = 1 << 20, 1 << 30
	if n >= 10*gb {
		return Size{Key: "admin.status.gb", N: int64(n / gb)}
	}
	return Size{Key: "admin.status.mb", N: int64((n + mb/2) / mb)}
}

// Database returns the database's size.
func (s StorageStatus) Database() Size { return SizeOf(uint64(max(s.DatabaseBytes, 0))) }

// Index returns the search index's size.
func (s StorageStatus) Index() Size { return SizeOf(uint64(max(s.IndexBytes, 0))) }

// Free returns the free disk space.
func (s StorageStatus) Free() Size { return SizeOf(s.DiskFree) }

// Total returns the disk's size.
func (s StorageStatus) Total() Size { return SizeOf(s.DiskTotal) }

// LocalCAStatus is what people need to trust the LAN mode's authority.
type LocalCAStatus struct {
	Fingerprint string // SHA-256, "AB:CD:…"
	Path        string // where the root certificate is downloaded
}

// NewHandler returns the handler of the shell's pages.
func NewHandler(shell *Shell, db *store.DB) *Handler {
	shell.AddAdminLink(AdminLink{Path: "/admin/settings", TitleKey: "admin.settings.title", TextKey: "admin.settings.summary", AdminOnly: true})
	return &Handler{shell: shell, db: db}
}

type homePage struct {
	Wiki, Lists           []RecentItem
	WikiError, ListsError bool
	HasWiki, HasLists     bool
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	data := homePage{HasWiki: h.Wiki != nil, HasLists: h.Lists != nil}
	user := UserFrom(r.Context())
	var err error
	if h.Wiki != nil {
		if data.Wiki, err = h.Wiki.Recent(r.Context(), user, 10); err != nil {
			h.shell.logger.Error("recent wiki changes", "error", err)
			data.WikiError = true
		}
	}
	if h.Lists != nil {
		if data.Lists, err = h.Lists.Recent(r.Context(), user, 10); err != nil {
			h.shell.logger.Error("recent threads", "error", err)
			data.ListsError = true
		}
	}
	h.shell.Render(w, r, http.StatusOK, h.shell.pages, "home.html", data)
}

type textPage struct {
	Kind       string   // "terms" or "privacy"
	Paragraphs []string // the administrator's text, split on blank lines; empty: built-in
}

func (h *Handler) terms(w http.ResponseWriter, r *http.Request) {
	h.shell.Render(w, r, http.StatusOK, h.shell.pages, "text.html", textPage{Kind: "terms", Paragraphs: paragraphs(h.shell.Settings().Terms)})
}

func (h *Handler) privacy(w http.ResponseWriter, r *http.Request) {
	h.shell.Render(w, r, http.StatusOK, h.shell.pages, "text.html", textPage{Kind: "privacy", Paragraphs: paragraphs(h.shell.Settings().Privacy)})
}

// paragraphs splits plain text on blank lines.
func paragraphs(text string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// setLang serves GET /lang?l=en&next=/path: it remembers the reader's
// language and sends them back where they were. It changes no data, only
// the reader's own preference, so a link does it and no script is needed.
func (h *Handler) setLang(w http.ResponseWriter, r *http.Request) {
	lang := r.URL.Query().Get("l")
	if !h.shell.catalog.Supports(lang) {
		h.shell.Error(w, r, ErrBadRequest)
		return
	}
	c := h.shell.cookie(LangCookie, lang, 365*24*time.Hour)
	http.SetCookie(w, c)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, LocalPath(r.URL.Query().Get("next")), http.StatusSeeOther)
}

// healthz answers 200 "ok" while the database answers, 503 otherwise.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	err := h.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("meta")) == nil {
			return errors.New("meta bucket missing")
		}
		return nil
	})
	if err != nil {
		h.shell.logger.Error("health check", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("unavailable\n"))
		return
	}
	w.Write([]byte("ok\n"))
}

type adminPage struct {
	Status      *ServerStatus
	StatusError bool
}

func (h *Handler) adminIndex(w http.ResponseWriter, r *http.Request) {
	var page adminPage
	if h.Status != nil {
		// DNS answers within a few seconds, or the page says it could not
		// check.
		ctx, cancel := context.WithTimeout(r.Context(), 4*time.Second)
		var err error
		page.Status, err = h.Status.Status(ctx, true)
		cancel()
		if err != nil {
			h.shell.logger.Error("server status", "error", err)
			page.StatusError = true
		}
	}
	h.shell.RenderNoIndex(w, r, http.StatusOK, h.shell.pages, "admin.html", page)
}

type settingsPage struct {
	Form  Settings
	Error *FieldError
	Saved bool
}

// Invalid reports whether field is the one the error is about, for
// aria-invalid.
func (p settingsPage) Invalid(field string) bool { return p.Error != nil && p.Error.Field == field }

func (h *Handler) settingsForm(w http.ResponseWriter, r *http.Request) {
	h.shell.RenderNoIndex(w, r, http.StatusOK, h.shell.pages, "settings.html", settingsPage{Form: h.shell.Settings(), Saved: r.URL.Query().Has("saved")})
}

func (h *Handler) saveSettings(w http.ResponseWriter, r *http.Request) {
	st := Settings{
		Name:        r.PostFormValue("name"),
		Description: r.PostFormValue("description"),
		Hoster:      r.PostFormValue("hoster"),
		HosterURL:   r.PostFormValue("hoster_url"),
		Contact:     r.PostFormValue("contact"),
		Terms:       r.PostFormValue("terms"),
		Privacy:     r.PostFormValue("privacy"),
		SourceURL:   r.PostFormValue("source_url"),
	}
	err := h.shell.SaveSettings(st)
	var fe *FieldError
	if errors.As(err, &fe) {
		// The form comes back with everything typed kept; bytes that are
		// not UTF-8 show as U+FFFD, so that the page stays valid UTF-8.
		for _, p := range []*string{&st.Name, &st.Description, &st.Hoster, &st.HosterURL, &st.Contact, &st.Terms, &st.Privacy, &st.SourceURL} {
			*p = strings.ToValidUTF8(*p, "\uFFFD")
		}
		h.shell.RenderNoIndex(w, r, http.StatusBadRequest, h.shell.pages, "settings.html", settingsPage{Form: st, Error: fe})
		return
	}
	if err != nil {
		h.shell.Error(w, r, err)
		return
	}
	Redirect(w, r, "/admin/settings?saved")
}
