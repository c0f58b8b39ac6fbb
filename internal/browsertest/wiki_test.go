//go:build browser

package browsertest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/app/apptest"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// answers are the answers to the wiki's default questions.
var answers = map[string]string{
	"deux plus trois": "5",
	"ciel":            "bleu",
	"après lundi":     "mardi",
	"chat":            "4",
	"neige":           "blanche",
}

// answerQuestion types the answer to the question the edit form asks, if
// it asks one.
func answerQuestion(t *testing.T, b *Browser) {
	t.Helper()
	n, err := Get(t, b, chromedp.Evaluate[int](`document.querySelectorAll("#wiki-answer").length`))
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		return
	}
	q := b.Text(t, `label[for="wiki-answer"]`)
	for k, a := range answers {
		if strings.Contains(q, k) {
			b.Run(t, chromedp.SetValue(chromedp.CSS(`#wiki-answer`), a))
			return
		}
	}
	t.Fatalf("no known answer to the question %q", q)
}

// waitForm lets the signed form timestamp age past the guard's "too
// fast" threshold (3 s): a person takes longer than that to write.
func waitForm() { time.Sleep(3200 * time.Millisecond) }

// setText replaces the page text in the edit form.
func setText(t *testing.T, b *Browser, text string) {
	t.Helper()
	b.Run(t, chromedp.SetValue(chromedp.CSS(`#wiki-text`), text))
}

func textValue(t *testing.T, b *Browser) string {
	t.Helper()
	v, err := Get(t, b, chromedp.Value(chromedp.CSS(`#wiki-text`)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestWikiJourney is Clémence's journey, without an account and without
// JavaScript: she creates a fiche from the template by answering the
// question, edits it, meets another writer's edit and resolves the
// conflict without losing her text, reads the history and a diff,
// restores a revision, prints the fiche and finds it in the catalogue;
// then a spammer's edits are refused with their text kept.
func TestWikiJourney(t *testing.T) {
	inst := apptest.Start(t)
	b := New(t)

	// Create the fiche from the template.
	b.Open(t, inst.URL+"/wiki/-/new")
	b.Run(t,
		chromedp.SendKeys(chromedp.CSS(`#new-title`), "Atelier smartphone pour débutants"),
		chromedp.Click(chromedp.CSS(`#tpl-fiche`)),
	)
	b.Submit(t, `#new-title`)
	text := textValue(t, b)
	for _, want := range []string{"public:", "duree:", "niveau:", "## Déroulé", "## Astuces", "## Pour aller plus loin"} {
		if !strings.Contains(text, want) {
			t.Fatalf("the template lacks %q:\n%s", want, text)
		}
	}
	fiche := strings.NewReplacer(
		"public: \n", "public: adultes débutants\n",
		"duree: \n", "duree: 2 h\n",
		"niveau: \n", "niveau: débutant\n",
	).Replace(text)
	fiche = strings.Replace(fiche, "Une phrase qui dit ce que l’atelier apporte.", "Prendre en main son téléphone : appels, photos, messages.", 1)
	setText(t, b, fiche)
	answerQuestion(t, b)
	waitForm()
	if status := b.Submit(t, `#wiki-text`); status != http.StatusOK {
		t.Fatalf("saving the new fiche: status %d: %s", status, b.Text(t, "main"))
	}
	pageURL := inst.URL + "/wiki/atelier-smartphone-pour-debutants"
	if loc := b.Location(t); !strings.HasPrefix(loc, pageURL) || strings.HasPrefix(loc, pageURL+"/") {
		t.Fatalf("after saving, the browser is at %s, want %s", loc, pageURL)
	}
	if h1 := b.Text(t, "h1"); h1 != "Atelier smartphone pour débutants" {
		t.Errorf("page heading = %q", h1)
	}
	if card := b.Text(t, ".fiche-card"); !strings.Contains(card, "2 h") || !strings.Contains(card, "adultes débutants") {
		t.Errorf("the fiche's card does not show its front matter: %q", card)
	}
	if body := b.Text(t, "main"); !strings.Contains(body, "Prendre en main son téléphone\u00a0: appels") && !strings.Contains(body, "Prendre en main son téléphone\u202f: appels") {
		t.Errorf("the colon has no no-break space before it: %q", body)
	}

	// Edit it: the question was answered once, it is not asked again.
	b.Open(t, pageURL+"/edit")
	if n, _ := Get(t, b, chromedp.Evaluate[int](`document.querySelectorAll("#wiki-answer").length`)); n != 0 {
		t.Error("the question is asked again after a right answer")
	}
	second := strings.Replace(textValue(t, b), "2. \n", "2. Prendre une photo et l’envoyer (30 min)\n", 1)
	setText(t, b, second)
	waitForm()
	b.Submit(t, `#wiki-text`)
	if !strings.Contains(b.Text(t, "main"), "Prendre une photo") {
		t.Fatal("the edit is not on the page")
	}

	// A conflict: Clémence opens the editor, another writer saves a change
	// to the same line meanwhile, then she saves hers.
	b.Open(t, pageURL+"/edit")
	mine := strings.Replace(textValue(t, b), "1. Accueil et tour de table (10 min)", "1. Accueil, café et tour de table (15 min)", 1)
	setText(t, b, mine)
	other := New(t) // another person, in another browser
	other.Open(t, pageURL+"/edit")
	setText(t, other, strings.Replace(textValue(t, other), "1. Accueil et tour de table (10 min)", "1. Accueil et présentations (10 min)", 1))
	other.Run(t, chromedp.SetValue(chromedp.CSS(`#wiki-pseudonym`), "Karim"))
	answerQuestion(t, other)
	waitForm()
	if status := other.Submit(t, `#wiki-text`); status != http.StatusOK {
		t.Fatalf("the other writer's save: status %d: %s", status, other.Text(t, "main"))
	}
	if status := b.Submit(t, `#wiki-text`); status != http.StatusConflict {
		t.Fatalf("overlapping edits: status %d, want 409", status)
	}
	if got := textValue(t, b); !strings.Contains(got, "Accueil, café et tour de table (15 min)") {
		t.Fatalf("the conflict lost the writer's text:\n%s", got)
	}
	if conflict := b.Text(t, ".conflict"); !strings.Contains(conflict, "présentations") {
		t.Errorf("the conflict does not show the other edit: %q", conflict)
	}
	// She keeps both ideas and saves again.
	setText(t, b, strings.Replace(textValue(t, b), "Accueil, café et tour de table (15 min)", "Accueil, café et présentations (15 min)", 1))
	waitForm()
	if status := b.Submit(t, `#wiki-text`); status != http.StatusOK {
		t.Fatalf("saving after the conflict: status %d: %s", status, b.Text(t, "main"))
	}
	if !strings.Contains(b.Text(t, "main"), "Accueil, café et présentations (15 min)") {
		t.Fatal("the resolved text is not on the page")
	}

	// History and a diff between the first and the last revision.
	b.Open(t, pageURL+"/history")
	rows, err := Get(t, b, chromedp.Evaluate[int](`document.querySelectorAll("tbody tr").length`))
	if err != nil || rows != 4 {
		t.Fatalf("history rows = %d (%v), want 4 revisions", rows, err)
	}
	b.Run(t, chromedp.Click(chromedp.CSS(`#from-1`)), chromedp.Click(chromedp.CSS(`#to-4`)))
	b.Submit(t, `#from-1`)
	ins := b.Text(t, "ins")
	if !strings.Contains(b.Text(t, "main"), "présentations") || ins == "" {
		t.Errorf("the diff shows no insertion: %q", b.Text(t, "main"))
	}
	if !strings.Contains(ins, "ajouté") {
		t.Errorf("the insertion is not announced to screen readers: %q", ins)
	}

	// Restore the second revision.
	b.Open(t, pageURL+"/restore?rev=2")
	answerQuestion(t, b)
	waitForm()
	b.Submit(t, `#restore-summary`)
	if body := b.Text(t, "main"); !strings.Contains(body, "Accueil et tour de table (10 min)") || strings.Contains(body, "café") {
		t.Errorf("the restored page is not revision 2: %q", body)
	}

	// Print it: navigation and actions are not on paper, and a PDF comes out.
	b.Open(t, pageURL)
	b.Run(t, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	}))
	for _, sel := range []string{"header.site", "footer.site", ".page-actions"} {
		display, err := Get(t, b, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("`+sel+`")).display`))
		if err != nil || display != "none" {
			t.Errorf("in print, %s has display %q (%v), want none", sel, display, err)
		}
	}
	pdf, err := Get(t, b, chromedp.Action[page.PrintToPDFResult](func(ctx context.Context, tg *chromedp.Target) (page.PrintToPDFResult, error) {
		return cdp.Call(ctx, tg, page.PrintToPDF, page.PrintToPDFParams{})
	}))
	if err != nil || !strings.HasPrefix(string(pdf.Data), "%PDF") {
		t.Errorf("print to PDF: %d bytes, %v", len(pdf.Data), err)
	}
	b.Run(t, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""})
		return err
	}))

	// Find it in the catalogue, filtered by level.
	b.Open(t, inst.URL+"/wiki/-/fiches?niveau="+url.QueryEscape("débutant"))
	if !strings.Contains(b.Text(t, "main"), "Atelier smartphone pour débutants") {
		t.Errorf("the catalogue filtered by level misses the fiche: %q", b.Text(t, "main"))
	}
	b.Open(t, inst.URL+"/wiki/-/fiches?niveau=expert")
	if strings.Contains(b.Text(t, "main"), "Atelier smartphone pour débutants") {
		t.Error("the catalogue filtered on another level shows the fiche")
	}
}

// TestWikiSpamRefused: a spammer's edits are refused and the form comes
// back with their text kept — too many links, a blocklisted word, a
// filled honeypot — while the page stays as it was.
func TestWikiSpamRefused(t *testing.T) {
	inst := apptest.Start(t)
	admin := inst.CreateAdmin(t, "sam", "un mot de passe solide")
	resp, body := inst.Submit(t, admin, "/admin/wiki/antispam", "/admin/wiki/antispam/blocklist", url.Values{
		"blocklist": {"# pharmacie en ligne\nviagra\ncasino.?gratuit\n"},
	})
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving the blocklist: status %d: %s", resp.StatusCode, body)
	}

	b := New(t)
	for _, tc := range []struct {
		name, text string
		honeypot   bool
		want       string // part of the error shown
	}{
		{"too many links", "Des liens : https://a.example/ https://b.example/ https://c.example/ https://d.example/ https://e.example/\n", false, "lien"},
		{"blocklisted words", "Le meilleur casino gratuit du web.\n", false, "anti-spam"},
		{"honeypot filled", "Un texte tout à fait normal.\n", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.Open(t, inst.URL+"/wiki/bac-a-sable/edit")
			setText(t, b, tc.text)
			answerQuestion(t, b)
			if tc.honeypot {
				b.Run(t, chromedp.SetValue(chromedp.CSS(`#wiki-hp`), "https://spam.example/"))
			}
			waitForm()
			status := b.Submit(t, `#wiki-text`)
			if status < 400 {
				t.Fatalf("the spam was saved: status %d", status)
			}
			if got := textValue(t, b); got != tc.text {
				t.Errorf("the refused form lost the text:\n got %q\nwant %q", got, tc.text)
			}
			msg := b.Text(t, "#edit-error")
			if msg == "" || !strings.Contains(strings.ToLower(msg), tc.want) {
				t.Errorf("error shown = %q, want it to speak of %q", msg, tc.want)
			}
		})
	}
	if status, _ := inst.Get(t, inst.Client(t), "/wiki/bac-a-sable"); status != http.StatusNotFound {
		t.Errorf("the page exists after refused edits only: status %d", status)
	}
}
