package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchHome returns the home page served through the whole shell, and a
// request for it.
func benchHome(b *testing.B) (http.Handler, *http.Request) {
	b.Helper()
	shell, db, _ := newShell(b, Config{})
	mux := http.NewServeMux()
	NewHandler(shell, db).Routes(mux)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept-Language", "fr-FR,fr;q=0.9,en;q=0.8")
	return shell.Wrap(mux), r
}

// BenchmarkHome serves GET / through the shell: middleware, language,
// template, headers.
func BenchmarkHome(b *testing.B) {
	h, r := benchHome(b)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	b.SetBytes(int64(w.Body.Len()))
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkRawBytes writes the same bytes as BenchmarkHome from memory with
// a plain handler: the reference the design's budgets are a ratio to.
func BenchmarkRawBytes(b *testing.B) {
	h, r := benchHome(b)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	body := w.Body.Bytes()
	raw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(body)
	})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		raw.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
