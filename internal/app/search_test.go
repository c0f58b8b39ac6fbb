package app_test

import (
	"archive/zip"
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/app/apptest"
	"github.com/emersion/go-smtp"
)

// TestSearchAcrossWikiAndLists: a page and a public list's message are
// found without accents, a private list's message only by staff, and
// "placette reindex" rebuilds the same index.
func TestSearchAcrossWikiAndLists(t *testing.T) {
	inst := apptest.Start(t)
	admin := inst.CreateAdmin(t, "sam", adminPassword)
	anon := inst.Client(t)

	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("mediation-numerique.md")
	w.Write([]byte("---\ntitle: Médiation numérique\ntags: [fiche]\n---\nLes ateliers de médiation numérique à la médiathèque.\n"))
	zw.Close()
	inst.Call(t, &zbuf, "wiki", "import")

	inst.Call(t, nil, "list", "create", "entraide", "-title", "Entraide")
	inst.Call(t, nil, "list", "create", "bureau", "-title", "Bureau", "-private")
	inst.Call(t, nil, "list", "members", "entraide", "add", "alice@example.net")
	inst.Call(t, nil, "list", "members", "bureau", "add", "alice@example.net")
	post := func(list, subject, body string) {
		t.Helper()
		msg := "From: Alice <alice@example.net>\r\nTo: " + list + "@localhost\r\nSubject: " + subject + "\r\nMessage-ID: <" + list + "-1@example.net>\r\n\r\n" + body + "\r\n"
		c, err := smtp.Dial(inst.Mail)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.SendMail("alice@example.net", []string{list + "@localhost"}, strings.NewReader(msg)); err != nil {
			t.Fatalf("post to %s: %v", list, err)
		}
	}
	post("entraide", "Imprimante en panne", "Quelqu'un connaît une imprimante solide pour l'espace public numérique ?")
	post("bureau", "Budget confidentiel", "Le budget confidentiel de l'imprimante est voté.")

	search := func(c *http.Client, q string) string {
		t.Helper()
		status, body := inst.Get(t, c, "/search?q="+url.QueryEscape(q))
		if status != http.StatusOK && status != http.StatusServiceUnavailable {
			t.Fatalf("search %q: status %d", q, status)
		}
		return body
	}
	// The index catches up in the background: wait for both posts.
	deadline := time.Now().Add(30 * time.Second)
	for got := search(admin, "imprimante"); !strings.Contains(got, "/lists/bureau/m/") || !strings.Contains(got, "/lists/entraide/m/"); got = search(admin, "imprimante") {
		if time.Now().After(deadline) {
			t.Fatalf("the index never caught up:\n%s", search(admin, "imprimante"))
		}
		time.Sleep(50 * time.Millisecond)
	}

	if got := search(anon, "mediation numerique"); !strings.Contains(got, "/wiki/mediation-numerique") {
		t.Errorf("a search without accents misses the page:\n%s", got)
	}
	got := search(anon, "imprimante")
	if !strings.Contains(got, "/lists/entraide/m/") {
		t.Errorf("anonymous search misses the public message:\n%s", got)
	}
	if strings.Contains(got, "confidentiel") || strings.Contains(got, "/lists/bureau/") {
		t.Errorf("anonymous search shows the private list:\n%s", got)
	}
	if got := search(anon, "confidentiel"); strings.Contains(got, "/lists/bureau/") {
		t.Errorf("anonymous search finds the private message:\n%s", got)
	}

	out := inst.Call(t, nil, "reindex")
	if !strings.Contains(out, "3 documents") {
		t.Errorf("reindex says %q, want 3 documents", out)
	}
	if got := search(admin, "budget"); !strings.Contains(got, "/lists/bureau/m/") {
		t.Errorf("after reindex, staff no longer find the private message:\n%s", got)
	}
}
