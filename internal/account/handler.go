package account

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"codeberg.org/placette/placette/internal/web"
)

//go:embed templates
var templates embed.FS

// Handler serves the login and logout pages, the first administrator's
// setup page and the administration of accounts.
type Handler struct {
	shell  *web.Shell
	store  *Store
	pages  *web.Templates
	logger *slog.Logger

	byAddr  *web.Limiter // login attempts per network
	byLogin *web.Limiter // login attempts per account

	mu         sync.Mutex // guards setupToken
	setupToken string     // the one-time secret of the first-administrator link; "" once used
}

// NewHandler returns the accounts' handler and registers its entry in the
// administration.
func NewHandler(shell *web.Shell, st *Store) (*Handler, error) {
	pages, err := shell.Parse(templates, "templates/*.html")
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 24)
	rand.Read(raw)
	shell.SetUsers(st)
	shell.AddAdminLink(web.AdminLink{Path: "/admin/accounts", TitleKey: "account.admin.title", TextKey: "account.admin.summary", AdminOnly: true})
	return &Handler{
		shell:      shell,
		store:      st,
		pages:      pages,
		logger:     shell.Logger().With("component", "account"),
		byAddr:     web.NewLimiter(time.Minute, 10),
		byLogin:    web.NewLimiter(time.Minute, 5),
		setupToken: base64.RawURLEncoding.EncodeToString(raw),
	}, nil
}

// SetupPath returns the path of the one-time page that creates the first
// administrator, or "" when an administrator exists already.
func (h *Handler) SetupPath() (string, error) {
	has, err := h.store.HasAdmin()
	if err != nil || has {
		return "", err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.setupToken == "" {
		return "", nil
	}
	return "/setup/" + h.setupToken, nil
}

// Routes registers the handler's pages on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", h.loginForm)
	mux.HandleFunc("POST /login", h.login)
	mux.HandleFunc("POST /logout", h.logout)
	mux.HandleFunc("GET /setup/{token}", h.setupForm)
	mux.HandleFunc("POST /setup/{token}", h.setup)
	mux.Handle("GET /admin/accounts", h.shell.RequireAdmin(h.list))
	mux.Handle("POST /admin/accounts", h.shell.RequireAdmin(h.create))
	mux.Handle("POST /admin/accounts/{login}/roles", h.shell.RequireAdmin(h.setRoles))
	mux.Handle("POST /admin/accounts/{login}/password", h.shell.RequireAdmin(h.setPassword))
	mux.Handle("POST /admin/accounts/{login}/delete", h.shell.RequireAdmin(h.remove))
}

// errorKey returns the catalog key explaining err to the person who typed
// the form, or "" for an error that is not theirs.
func errorKey(err error) string {
	switch {
	case errors.Is(err, ErrBadLogin):
		return "account.error.login"
	case errors.Is(err, ErrExists):
		return "account.error.exists"
	case errors.Is(err, ErrWeakPassword):
		return "account.error.weak"
	case errors.Is(err, ErrLongPassword):
		return "account.error.long"
	case errors.Is(err, ErrWrongLogin):
		return "account.error.wrong"
	case errors.Is(err, ErrLastAdmin):
		return "account.error.last_admin"
	case errors.Is(err, errMismatch):
		return "account.error.mismatch"
	case errors.Is(err, web.ErrTooManyRequests):
		return "account.error.too_many"
	}
	return ""
}

var errMismatch = errors.New("the two passwords differ")

type loginPage struct {
	Login string
	Next  string
	Error string // catalog key
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	h.shell.RenderNoIndex(w, r, http.StatusOK, h.pages, "login.html", loginPage{Next: web.LocalPath(r.URL.Query().Get("next"))})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	page := loginPage{Login: r.PostFormValue("login"), Next: web.LocalPath(r.PostFormValue("next"))}
	login := strings.ToLower(strings.TrimSpace(page.Login))
	addr := web.AddrKey(web.ClientAddr(r))
	allowed := h.byAddr.Allow(addr)
	if norm, err := NormalizeLogin(login); allowed && err == nil {
		// Only a login that can exist is counted by name: the limiter
		// keeps no key for every odd string sent.
		allowed = h.byLogin.Allow(norm)
	}
	if !allowed {
		h.logger.Warn("login refused: too many attempts", "login", login, "addr", addr)
		page.Error = errorKey(web.ErrTooManyRequests)
		w.Header().Set("Retry-After", "60")
		h.shell.RenderNoIndex(w, r, http.StatusTooManyRequests, h.pages, "login.html", page)
		return
	}
	a, err := h.store.Authenticate(login, r.PostFormValue("password"))
	if err != nil {
		if page.Error = errorKey(err); page.Error == "" {
			h.shell.Error(w, r, err)
			return
		}
		h.logger.Info("login failed", "login", login, "addr", addr)
		h.shell.RenderNoIndex(w, r, http.StatusUnauthorized, h.pages, "login.html", page)
		return
	}
	if err := h.shell.StartSession(w, r, a.Login); err != nil {
		h.shell.Error(w, r, err)
		return
	}
	h.logger.Info("login", "login", a.Login)
	web.Redirect(w, r, page.Next)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if err := h.shell.EndSession(w, r); err != nil {
		h.shell.Error(w, r, err)
		return
	}
	web.Redirect(w, r, "/")
}

type setupPage struct {
	Token string
	Login string
	Error string
}

// validSetup reports whether token opens the first-administrator page now.
func (h *Handler) validSetup(token string) bool {
	if p, err := h.SetupPath(); err != nil || p == "" {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return subtle.ConstantTimeCompare([]byte(token), []byte(h.setupToken)) == 1
}

func (h *Handler) setupForm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if !h.validSetup(token) {
		h.shell.Error(w, r, web.ErrNotFound)
		return
	}
	h.shell.RenderNoIndex(w, r, http.StatusOK, h.pages, "setup.html", setupPage{Token: token})
}

func (h *Handler) setup(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if !h.validSetup(token) {
		h.shell.Error(w, r, web.ErrNotFound)
		return
	}
	page := setupPage{Token: token, Login: r.PostFormValue("login")}
	password := r.PostFormValue("password")
	var a *Account
	err := errMismatch
	if password == r.PostFormValue("password2") {
		a, err = h.store.Create(page.Login, password, true, false)
	}
	if err != nil {
		if page.Error = errorKey(err); page.Error == "" {
			h.shell.Error(w, r, err)
			return
		}
		h.shell.RenderNoIndex(w, r, http.StatusBadRequest, h.pages, "setup.html", page)
		return
	}
	h.mu.Lock()
	h.setupToken = ""
	h.mu.Unlock()
	h.logger.Info("first administrator created", "login", a.Login)
	if err := h.shell.StartSession(w, r, a.Login); err != nil {
		h.shell.Error(w, r, err)
		return
	}
	web.Redirect(w, r, "/admin/")
}

type listPage struct {
	Accounts []*Account
	Form     struct{ Login string }
	Error    string // catalog key
	Done     string // catalog key of what was just done
}

func (h *Handler) renderList(w http.ResponseWriter, r *http.Request, status int, page listPage) {
	list, err := h.store.List()
	if err != nil {
		h.shell.Error(w, r, err)
		return
	}
	page.Accounts = list
	h.shell.RenderNoIndex(w, r, status, h.pages, "accounts.html", page)
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	var page listPage
	switch r.URL.Query().Get("done") {
	case "created", "roles", "password", "deleted":
		page.Done = "account.done." + r.URL.Query().Get("done")
	}
	h.renderList(w, r, http.StatusOK, page)
}

// formError answers a refused account form: the list again with the reason,
// or the error page for an error that is not the person's.
func (h *Handler) formError(w http.ResponseWriter, r *http.Request, err error, page listPage) {
	page.Error = errorKey(err)
	if page.Error == "" {
		h.shell.Error(w, r, err)
		return
	}
	status := http.StatusBadRequest
	if errors.Is(err, ErrLastAdmin) || errors.Is(err, ErrExists) {
		status = http.StatusConflict
	}
	h.renderList(w, r, status, page)
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	var page listPage
	page.Form.Login = r.PostFormValue("login")
	role := r.PostFormValue("role")
	_, err := h.store.Create(page.Form.Login, r.PostFormValue("password"), role == "admin", role == "moderator")
	if err != nil {
		h.formError(w, r, err, page)
		return
	}
	h.logger.Info("account created", "login", strings.ToLower(page.Form.Login), "role", role, "by", web.UserFrom(r.Context()).Login)
	web.Redirect(w, r, "/admin/accounts?done=created")
}

func (h *Handler) setRoles(w http.ResponseWriter, r *http.Request) {
	login := r.PathValue("login")
	role := r.PostFormValue("role")
	if err := h.store.SetRoles(login, role == "admin", role == "moderator"); err != nil {
		h.formError(w, r, err, listPage{})
		return
	}
	h.logger.Info("account roles changed", "login", login, "role", role, "by", web.UserFrom(r.Context()).Login)
	web.Redirect(w, r, "/admin/accounts?done=roles")
}

func (h *Handler) setPassword(w http.ResponseWriter, r *http.Request) {
	login := strings.ToLower(r.PathValue("login"))
	if err := h.store.SetPassword(login, r.PostFormValue("password")); err != nil {
		h.formError(w, r, err, listPage{})
		return
	}
	if err := h.shell.EndSessionsOf(login); err != nil {
		h.shell.Error(w, r, err)
		return
	}
	me := web.UserFrom(r.Context())
	if me.Login == login {
		// People who change their own password stay logged in here, on a
		// new session; their other browsers are logged out.
		if err := h.shell.StartSession(w, r, login); err != nil {
			h.shell.Error(w, r, err)
			return
		}
	}
	h.logger.Info("account password changed", "login", login, "by", me.Login)
	web.Redirect(w, r, "/admin/accounts?done=password")
}

func (h *Handler) remove(w http.ResponseWriter, r *http.Request) {
	login := r.PathValue("login")
	if err := h.store.Delete(login); err != nil {
		h.formError(w, r, err, listPage{})
		return
	}
	if err := h.shell.EndSessionsOf(strings.ToLower(login)); err != nil {
		h.shell.Error(w, r, err)
		return
	}
	h.logger.Info("account deleted", "login", login, "by", web.UserFrom(r.Context()).Login)
	web.Redirect(w, r, "/admin/accounts?done=deleted")
}
