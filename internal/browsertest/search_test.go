//go:build browser

package browsertest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/app/apptest"
	"github.com/chromedp/chromedp"
)

// wikiPages returns a zip of n markdown pages, among them the fiche
// "Médiation numérique pour les seniors".
func wikiPages(n int) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("page-%04d.md", i)
		title := fmt.Sprintf("%s et %s %d", strings.ToUpper(words[i%len(words)][:1])+words[i%len(words)][1:], words[(i*7)%len(words)], i)
		body := fmt.Sprintf("Une page sur %s, %s et %s.\n\n## Déroulé\n\n- %s\n- %s\n", words[(i+3)%len(words)], words[(i+4)%len(words)], words[(i+9)%len(words)], words[(i+11)%len(words)], words[(i+13)%len(words)])
		if i == n/2 {
			name, title = "mediation-numerique-pour-les-seniors.md", "Médiation numérique pour les seniors"
			body = "Un atelier d’initiation pour les personnes âgées : allumer la tablette, écrire un courriel, appeler en vidéo ses petits-enfants.\n"
		}
		public := "tout public"
		if i == n/2 {
			public = "seniors"
		}
		w, _ := zw.Create(name)
		fmt.Fprintf(w, "---\ntitle: %s\ntags: [fiche]\npublic: %s\n---\n%s", title, public, body)
	}
	zw.Close()
	return buf.Bytes()
}

var resultsCount = regexp.MustCompile(`id="results"[^>]*>([\d\s\x{a0}\x{202f},.]+) résultat`)

// count returns the number of results a search page announces, or -1.
func count(body string) int {
	m := resultsCount.FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	n, err := strconv.Atoi(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, m[1]))
	if err != nil {
		return -1
	}
	return n
}

// TestSearchJourney: over the standard data set (1,000 pages, 20,000
// messages) imported through the running server, a person finds a fiche
// typing without accents, a message by a word of its body, filters to one
// list; a private list's word finds nothing for a visitor and the message
// for a member.
func TestSearchJourney(t *testing.T) {
	inst := apptest.Start(t)
	admin := inst.CreateAdmin(t, "sam", "un mot de passe solide")
	inst.Call(t, nil, "list", "create", "archives", "-title", "Archives")
	inst.Call(t, nil, "list", "create", "entraide", "-title", "Entraide")
	inst.Call(t, nil, "list", "create", "bureau", "-title", "Bureau", "-private")
	inst.Call(t, nil, "list", "members", "bureau", "add", "karim@example.org")

	inst.Call(t, bytes.NewReader(wikiPages(1000)), "wiki", "import")
	mbox, _, _ := archive(20000)
	inst.Call(t, bytes.NewReader(mbox), "list", "import", "archives", "archives.mbox")
	inst.Call(t, strings.NewReader("From lea@example.org Mon Nov 23 10:00:00 2026\nFrom: Léa <lea@example.org>\nTo: entraide@localhost\nSubject: Une question\nMessage-ID: <entraide-1@example.org>\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n\nQui sait réparer une clémentine numérique ? Et une tablette.\n"),
		"list", "import", "entraide", "entraide.mbox")
	inst.Call(t, strings.NewReader("From karim@example.org Mon Nov 23 11:00:00 2026\nFrom: Karim <karim@example.org>\nTo: bureau@localhost\nSubject: Ordre du jour\nMessage-ID: <bureau-1@example.org>\nDate: Mon, 23 Nov 2026 11:00:00 +0000\n\nLe point bergamote reste entre nous.\n"),
		"list", "import", "bureau", "bureau.mbox")

	// The index catches up in the background.
	deadline := time.Now().Add(5 * time.Minute)
	for {
		_, body := inst.Get(t, admin, "/search?q=bonjour")
		_, berg := inst.Get(t, admin, "/search?q=bergamote")
		_, pages := inst.Get(t, admin, "/search?in=wiki&q=page")
		_, fiche := inst.Get(t, admin, "/search?q=initiation")
		if count(body) >= 20000 && count(berg) == 1 && count(pages) >= 999 && strings.Contains(fiche, "/wiki/mediation-numerique-pour-les-seniors") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the index did not catch up: %d messages with bonjour, %d with bergamote, %d pages", count(body), count(berg), count(pages))
		}
		time.Sleep(200 * time.Millisecond)
	}

	b := New(t)
	b.Open(t, inst.URL+"/")
	b.Run(t, chromedp.SendKeys(chromedp.CSS(`#site-search`), "mediation seniors"))
	b.Audit(t, "/ with a search typed") // what is typed must be readable
	if status := b.Submit(t, `#site-search`); status != http.StatusOK {
		t.Fatalf("search: status %d", status)
	}
	found, err := Get(t, b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("ol.results li h3 a")].map(a => a.getAttribute("href"))`))
	if err != nil || len(found) == 0 || found[0] != "/wiki/mediation-numerique-pour-les-seniors" {
		t.Errorf("« mediation seniors » does not find the fiche first: %v (%v)", found, err)
	}

	// A word from the middle of a message, without its accent.
	b.Open(t, inst.URL+"/search?q=clementine")
	if got := b.Text(t, "ol.results"); !strings.Contains(got, "Une question") {
		t.Errorf("« clementine » does not find the message: %q", got)
	}

	// Filter to one list with the form's controls.
	b.Open(t, inst.URL+"/search?q=tablette")
	before := b.Text(t, "#results")
	b.Run(t, chromedp.SetValue(chromedp.CSS(`#search-list`), "entraide"))
	b.Submit(t, `#search-list`)
	if loc := b.Location(t); !strings.Contains(loc, "list=entraide") {
		t.Errorf("the filter is not in the address: %s", loc)
	}
	hrefs, _ := Get(t, b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("ol.results li h3 a")].map(a => a.getAttribute("href"))`))
	if len(hrefs) != 1 || !strings.HasPrefix(hrefs[0], "/lists/entraide/") {
		t.Errorf("filtered to entraide (%s before), the results are %v", before, hrefs)
	}

	// The private list's word: nothing for a visitor, not even a count.
	b.Open(t, inst.URL+"/search?q="+url.QueryEscape("bergamote"))
	if main := b.Text(t, "main"); strings.Contains(main, "Ordre du jour") || strings.Contains(main, "bureau") {
		t.Errorf("a visitor finds the private message: %q", main)
	}
	if got := b.Text(t, "#results"); !strings.HasPrefix(got, "0 ") && !strings.HasPrefix(got, "Aucun") {
		t.Errorf("a visitor's count for the private word: %q", got)
	}
	// Karim follows the link mailed to him, then finds it.
	b.Open(t, inst.URL+"/lists/bureau/")
	b.Run(t, chromedp.SendKeys(chromedp.CSS(`#login-addr`), "karim@example.org"))
	b.Submit(t, `#login-addr`)
	b.Open(t, mailedLink(t, inst, "karim@example.org", regexp.MustCompile(`https?://[^\s]+/lists/bureau/login/[A-Za-z0-9_.\-]+`)))
	b.Submit(t, `main form button`)
	b.Open(t, inst.URL+"/search?q=bergamote")
	if got := b.Text(t, "ol.results"); !strings.Contains(got, "Ordre du jour") {
		t.Errorf("the member does not find the private message: %q", got)
	}
}
