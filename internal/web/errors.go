package web

import (
	"errors"
	"net/http"
	"net/url"
)

// Errors that handlers return, or wrap, to choose the page the visitor
// gets. Error maps them to statuses in this one place; any other error is a
// 500 whose details go to the log only.
var (
	ErrNotFound        = errors.New("not found")
	ErrBadRequest      = errors.New("bad request")
	ErrForbidden       = errors.New("forbidden")
	ErrConflict        = errors.New("conflict")
	ErrTooLarge        = errors.New("request body too large")
	ErrTooManyRequests = errors.New("too many requests")
	ErrBusy            = errors.New("server busy")
	ErrExpiredForm     = errors.New("form expired or sent from elsewhere")
)

// Status returns the HTTP status for err.
func Status(err error) int {
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, ErrForbidden), errors.Is(err, ErrExpiredForm):
		return http.StatusForbidden
	case errors.Is(err, ErrConflict):
		return http.StatusConflict
	case errors.Is(err, ErrTooLarge), errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrTooManyRequests):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrBusy):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

type errorPage struct {
	Status int
	Key    string // catalog key prefix: error.<key>.title, error.<key>.text
}

// Error answers r with the error page for err. A 500 is logged with the
// error; the page says only that something went wrong.
func (s *Shell) Error(w http.ResponseWriter, r *http.Request, err error) {
	status := Status(err)
	key := "internal"
	switch {
	case errors.Is(err, ErrExpiredForm):
		key = "expired_form"
	case status == http.StatusNotFound:
		key = "not_found"
	case status == http.StatusBadRequest:
		key = "bad_request"
	case status == http.StatusForbidden:
		key = "forbidden"
	case status == http.StatusConflict:
		key = "conflict"
	case status == http.StatusRequestEntityTooLarge:
		key = "too_large"
	case status == http.StatusTooManyRequests:
		key = "too_many"
	case status == http.StatusServiceUnavailable:
		key = "busy"
	default:
		s.logger.Error("serve request", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	switch status {
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "60")
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "30")
	}
	s.RenderNoIndex(w, r, status, s.pages, "error.html", errorPage{Status: status, Key: key})
}

// serverError writes a minimal 500 page, for when the page templates
// themselves failed.
func (s *Shell) serverError(w http.ResponseWriter, r *http.Request) {
	p := s.Printer(r)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	w.Write([]byte(p.T("error.internal.title") + "\n\n" + p.T("error.internal.text") + "\n"))
}

// NotFound answers r with the 404 page.
func (s *Shell) NotFound(w http.ResponseWriter, r *http.Request) { s.Error(w, r, ErrNotFound) }

// Redirect answers a form's POST with a 303 to url, so that reloading the
// page that follows does not send the form again.
func Redirect(w http.ResponseWriter, r *http.Request, url string) {
	http.Redirect(w, r, url, http.StatusSeeOther)
}

// LocalPath returns p if it is a path on this site ("/wiki/x?y"), else "/":
// for "next" parameters, which must never send a person to another site.
func LocalPath(p string) string {
	if p == "" || p[0] != '/' || len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return "/"
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	return p
}

// RequireUser wraps h so that an anonymous visitor is sent to the login
// page first.
func (s *Shell) RequireUser(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if UserFrom(r.Context()) == nil {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h(w, r)
	})
}

// RequireStaff wraps h for administrators and moderators only.
func (s *Shell) RequireStaff(h http.HandlerFunc) http.Handler {
	return s.RequireUser(func(w http.ResponseWriter, r *http.Request) {
		if !UserFrom(r.Context()).Staff() {
			s.Error(w, r, ErrForbidden)
			return
		}
		h(w, r)
	})
}

// RequireAdmin wraps h for administrators only.
func (s *Shell) RequireAdmin(h http.HandlerFunc) http.Handler {
	return s.RequireUser(func(w http.ResponseWriter, r *http.Request) {
		if !UserFrom(r.Context()).Admin {
			s.Error(w, r, ErrForbidden)
			return
		}
		h(w, r)
	})
}
