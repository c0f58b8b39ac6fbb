package wiki

import "net/http"

// Routes registers the wiki's pages on mux, and the guard's
// administration pages.
func (w *Wiki) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /wiki/{$}", w.index)
	mux.HandleFunc("GET /wiki/-/new", w.newForm)
	mux.HandleFunc("POST /wiki/-/new", w.newPage)
	mux.HandleFunc("GET /wiki/-/recent", w.recent)
	mux.HandleFunc("GET /wiki/-/recent.atom", w.recentAtom)
	mux.HandleFunc("GET /wiki/-/fiches", w.fiches)
	mux.Handle("POST /wiki/-/revert", w.shell.RequireStaff(w.revert))

	mux.HandleFunc("GET /wiki/{slug}", w.view)
	mux.HandleFunc("GET /wiki/{slug}/raw", w.raw)
	mux.HandleFunc("GET /wiki/{slug}/edit", w.editForm)
	mux.HandleFunc("POST /wiki/{slug}/edit", w.save)
	mux.HandleFunc("GET /wiki/{slug}/history", w.history)
	mux.HandleFunc("GET /wiki/{slug}/diff", w.diff)
	mux.HandleFunc("GET /wiki/{slug}/restore", w.restoreForm)
	mux.HandleFunc("POST /wiki/{slug}/restore", w.restore)
	mux.HandleFunc("GET /wiki/{slug}/rename", w.renameForm)
	mux.HandleFunc("POST /wiki/{slug}/rename", w.rename)
	mux.HandleFunc("GET /wiki/{slug}/files", w.filesPage)
	mux.HandleFunc("POST /wiki/{slug}/files", w.upload)
	mux.HandleFunc("GET /wiki/{slug}/files/{name}", w.serveFile)
	mux.Handle("POST /wiki/{slug}/protect", w.shell.RequireStaff(w.protect))

	w.guard.Routes(mux)
}
