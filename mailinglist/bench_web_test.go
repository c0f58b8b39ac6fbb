package mailinglist

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkDirectory serves /lists/ with 10 lists of 100 members each,
// through the shell's middleware, without the network.
func BenchmarkDirectory(b *testing.B) {
	s := newTestSite(b)
	storeReady(b, s)
	for i := range 10 {
		name := fmt.Sprintf("liste%d", i)
		if err := s.svc.CreateList(List{Name: name, Title: "Liste " + name, Description: "Une liste pour échanger.", Policy: PolicyMembers, Private: i%2 == 1}); err != nil {
			b.Fatal(err)
		}
		var csv strings.Builder
		for j := range 100 {
			fmt.Fprintf(&csv, "m%d@example.net,Membre %d\n", j, j)
		}
		if _, _, err := s.svc.ImportMembers(name, strings.NewReader(csv.String())); err != nil {
			b.Fatal(err)
		}
	}
	h := s.srv.Config.Handler
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/lists/", nil))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkListPage serves a list's own page.
func BenchmarkListPage(b *testing.B) {
	s := newTestSite(b)
	storeReady(b, s)
	if err := s.svc.CreateList(List{Name: "entraide", Title: "Entraide", Description: "Pour s’entraider.", Policy: PolicyMembers}); err != nil {
		b.Fatal(err)
	}
	h := s.srv.Config.Handler
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/lists/entraide/", nil))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
