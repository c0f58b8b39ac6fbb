package web

import "net/http"

// Routes registers the shell's pages on mux. The catch-all "/" answers the
// 404 page for every path no other handler claims.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", h.home)
	mux.HandleFunc("GET /terms", h.terms)
	mux.HandleFunc("GET /privacy", h.privacy)
	mux.HandleFunc("GET /lang", h.setLang)
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.Handle("GET /static/{file}", h.shell.assets)
	mux.Handle("GET /admin/{$}", h.shell.RequireStaff(h.adminIndex))
	mux.Handle("GET /admin/settings", h.shell.RequireAdmin(h.settingsForm))
	mux.Handle("POST /admin/settings", h.shell.RequireAdmin(h.saveSettings))
	mux.HandleFunc("/", h.shell.NotFound)
}
