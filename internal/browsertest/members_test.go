//go:build browser

package browsertest

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"codeberg.org/placette/placette/internal/app/apptest"
	"github.com/chromedp/chromedp"
)

// TestSubscribeJourney: a reader finds the list from the lists' page,
// subscribes with the form, follows the link of the confirmation mail
// from the outbox, confirms with the page's button and reaches her
// settings; only then is she a member.
func TestSubscribeJourney(t *testing.T) {
	inst := apptest.Start(t)
	inst.Call(t, nil, "list", "create", "entraide", "-title", "Entraide numérique")

	b := New(t)
	b.Open(t, inst.URL+"/lists/")
	if status := b.Load(t, chromedp.Click(chromedp.CSS(`main a[href="/lists/entraide/"]`))); status != http.StatusOK {
		t.Fatalf("the list's page: status %d", status)
	}
	b.Run(t,
		chromedp.SendKeys(chromedp.CSS(`#sub-addr`), "lea@example.org"),
		chromedp.SendKeys(chromedp.CSS(`#sub-name`), "Léa Martin"),
	)
	if status := b.Submit(t, `#sub-addr`); status != http.StatusOK {
		t.Fatalf("subscribing: status %d: %s", status, b.Text(t, "main"))
	}
	if got := b.Text(t, `main [role="status"]`); !strings.Contains(got, "lea@example.org") {
		t.Errorf("the page does not say where the mail went: %q", got)
	}
	if strings.Contains(members(t, inst, "entraide"), "lea@example.org") {
		t.Fatal("a member before confirming")
	}

	// The confirmation mail, in the outbox; its link shows a button, and
	// following it changes nothing yet (mail scanners follow links).
	link := mailedLink(t, inst, "lea@example.org", regexp.MustCompile(`https?://\S+/lists/entraide/confirm/[A-Za-z0-9_.\-]+`))
	if status := b.Open(t, link); status != http.StatusOK {
		t.Fatalf("the confirmation link: status %d", status)
	}
	if strings.Contains(members(t, inst, "entraide"), "lea@example.org") {
		t.Fatal("opening the link subscribed before the button was pressed")
	}
	if status := b.Submit(t, `main form button`); status != http.StatusOK {
		t.Fatalf("confirming: status %d: %s", status, b.Text(t, "main"))
	}
	if got := b.Text(t, "h1"); !strings.HasPrefix(got, "Bienvenue") {
		t.Errorf("after confirming, the heading is %q", got)
	}
	if !strings.Contains(members(t, inst, "entraide"), "lea@example.org") {
		t.Fatal("not a member after confirming")
	}
	// Her settings, from the welcome page.
	if status := b.Load(t, chromedp.Click(chromedp.CSS(`main a[href*="/member/"]`))); status != http.StatusOK {
		t.Fatalf("the member's page: status %d", status)
	}
	if got := b.Text(t, "main"); !strings.Contains(got, "lea@example.org") {
		t.Errorf("the member's page does not name her address: %q", got)
	}
	// A second use of the link is refused and says how to start again.
	if status := b.Open(t, link); status != http.StatusOK {
		t.Fatalf("the confirmation link again: status %d", status)
	}
	if status := b.Submit(t, `main form button`); status != http.StatusNotFound {
		t.Errorf("confirming twice: status %d, want 404", status)
	}
}

// TestUnsubscribeJourney: a member leaves from a copy she received, in one
// click: the List-Unsubscribe address of the mail shows a button and
// changes nothing until it is pressed.
func TestUnsubscribeJourney(t *testing.T) {
	inst := apptest.Start(t)
	inst.Call(t, nil, "list", "create", "entraide", "-title", "Entraide numérique")
	inst.Call(t, nil, "list", "members", "entraide", "add", "ana@example.org", "bob@example.org")

	post(t, inst, "bob@example.org", "entraide@localhost", "From: Bob <bob@example.org>\nTo: entraide@localhost\nSubject: Atelier de jeudi\nMessage-ID: <jeudi@example.org>\nDate: Mon, 23 Nov 2026 10:00:00 +0000\nContent-Type: text/plain; charset=utf-8\n\nQui vient jeudi à l’atelier ?\n")
	copy := waitMail(t, inst, "ana@example.org", func(m sentMail) bool { return m.Header.Get("Message-ID") == "<jeudi@example.org>" }, "Bob's post")
	if got := copy.Header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post: %q", got)
	}
	link := regexp.MustCompile(`<(https?://[^>]+)>`).FindStringSubmatch(copy.Header.Get("List-Unsubscribe"))
	if link == nil {
		t.Fatalf("no web address in List-Unsubscribe: %q", copy.Header.Get("List-Unsubscribe"))
	}

	b := New(t)
	if status := b.Open(t, link[1]); status != http.StatusOK {
		t.Fatalf("the unsubscribe address: status %d", status)
	}
	if got := b.Text(t, "main"); !strings.Contains(got, "ana@example.org") || !strings.Contains(got, "Entraide numérique") {
		t.Errorf("the page does not say who leaves what: %q", got)
	}
	if !strings.Contains(members(t, inst, "entraide"), "ana@example.org") {
		t.Fatal("opening the address unsubscribed before the button was pressed")
	}
	if status := b.Submit(t, `main form button`); status != http.StatusOK {
		t.Fatalf("unsubscribing: status %d: %s", status, b.Text(t, "main"))
	}
	if got := b.Text(t, `main [role="status"]`); !strings.Contains(got, "ana@example.org") {
		t.Errorf("the page does not confirm: %q", got)
	}
	if list := members(t, inst, "entraide"); strings.Contains(list, "ana@example.org") || !strings.Contains(list, "bob@example.org") {
		t.Fatalf("after unsubscribing, the members are:\n%s", list)
	}
	// The page offers the way back.
	if status := b.Load(t, chromedp.Click(chromedp.CSS(`main a[href="/lists/entraide/subscribe"]`))); status != http.StatusOK {
		t.Errorf("subscribing again: status %d", status)
	}
}

// TestModerationJourney is Karim's: a stranger's posts are held; the
// notice mailed to him as the list's moderator leads to the queue, where
// he logs in with the moderator account Sam made him, reads a post and
// lets it through to the members and the archive, and rejects the other
// with a reason that reaches its sender.
func TestModerationJourney(t *testing.T) {
	inst := apptest.Start(t)
	inst.Call(t, nil, "list", "create", "entraide", "-title", "Entraide numérique", "-moderator", "karim@example.org")
	inst.Call(t, nil, "list", "members", "entraide", "add", "ana@example.org")

	// Sam, the administrator, makes Karim a moderator's account.
	path, err := inst.App.SetupPath()
	if err != nil || path == "" {
		t.Fatalf("setup path = %q, %v", path, err)
	}
	sam := New(t)
	sam.Open(t, inst.URL+path)
	sam.Run(t,
		chromedp.SendKeys(chromedp.CSS(`#login`), "sam"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "un mot de passe solide"),
		chromedp.SendKeys(chromedp.CSS(`#password2`), "un mot de passe solide"),
	)
	sam.Submit(t, `#login`)
	sam.Open(t, inst.URL+"/admin/accounts")
	sam.Run(t,
		chromedp.SendKeys(chromedp.CSS(`#new-login`), "karim"),
		chromedp.SendKeys(chromedp.CSS(`#new-password`), "le mot de passe de Karim"),
		chromedp.SetValue(chromedp.CSS(`#new-role`), "moderator"),
	)
	if status := sam.Submit(t, `#new-login`); status != http.StatusOK || !strings.Contains(sam.Text(t, "tbody"), "karim") {
		t.Fatalf("creating Karim's account: status %d: %s", status, sam.Text(t, "main"))
	}

	// A stranger writes twice; both posts are held.
	post(t, inst, "inconnu@example.net", "entraide@localhost", "From: Un inconnu <inconnu@example.net>\nTo: entraide@localhost\nSubject: Atelier photo à la médiathèque\nMessage-ID: <photo@example.net>\nDate: Mon, 23 Nov 2026 10:00:00 +0000\nContent-Type: text/plain; charset=utf-8\n\nJ’anime un atelier photo samedi, ouvert à tous.\n")
	post(t, inst, "inconnu@example.net", "entraide@localhost", "From: Un inconnu <inconnu@example.net>\nTo: entraide@localhost\nSubject: Promotion exceptionnelle\nMessage-ID: <promo@example.net>\nDate: Mon, 23 Nov 2026 10:05:00 +0000\nContent-Type: text/plain; charset=utf-8\n\nDes tablettes à moitié prix.\n")

	// Karim follows the notice's link, logs in, and lands on the queue.
	link := mailedLink(t, inst, "karim@example.org", regexp.MustCompile(`https?://\S+/admin/moderation`))
	b := New(t)
	b.Open(t, link)
	b.Run(t,
		chromedp.SendKeys(chromedp.CSS(`#login`), "karim"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "le mot de passe de Karim"),
	)
	if status := b.Submit(t, `#login`); status != http.StatusOK {
		t.Fatalf("logging in: status %d: %s", status, b.Text(t, "main"))
	}
	if loc := b.Location(t); !strings.HasSuffix(loc, "/admin/moderation") {
		t.Fatalf("after logging in, Karim is at %s, not the queue", loc)
	}
	rows, err := Get(t, b, chromedp.Evaluate[int](`document.querySelectorAll("main tbody tr").length`))
	if err != nil || rows != 2 {
		t.Fatalf("the queue has %d rows (%v), want the 2 held posts", rows, err)
	}

	// He reads the first post, and lets it through.
	b.Load(t, chromedp.Click(chromedp.CSS(`main tbody tr:first-child th a`)))
	if got := b.Text(t, "pre"); !strings.Contains(got, "atelier photo samedi") {
		t.Fatalf("the held post's page does not show its text: %q", got)
	}
	if status := b.Load(t, chromedp.Click(chromedp.CSS(`main button[value="approve"]`))); status != http.StatusOK {
		t.Fatalf("approving: status %d: %s", status, b.Text(t, "main"))
	}
	if got := b.Text(t, `main [role="status"]`); !strings.Contains(got, "accepté") {
		t.Errorf("the queue does not say the post went out: %q", got)
	}
	rows, _ = Get(t, b, chromedp.Evaluate[int](`document.querySelectorAll("main tbody tr").length`))
	if rows != 1 {
		t.Errorf("after approving, the queue has %d rows, want 1", rows)
	}
	waitMail(t, inst, "ana@example.org", func(m sentMail) bool { return m.Header.Get("Message-ID") == "<photo@example.net>" }, "the approved post")

	// The other one: rejected, with a reason for its sender.
	b.Load(t, chromedp.Click(chromedp.CSS(`main tbody tr:first-child th a`)))
	b.Run(t, chromedp.SendKeys(chromedp.CSS(`#mod-reason`), "Pas de publicité sur cette liste, merci."))
	if status := b.Load(t, chromedp.Click(chromedp.CSS(`main button[value="reject"]`))); status != http.StatusOK {
		t.Fatalf("rejecting: status %d: %s", status, b.Text(t, "main"))
	}
	if rows, _ := Get(t, b, chromedp.Evaluate[int](`document.querySelectorAll("main tbody tr").length`)); rows != 0 {
		t.Errorf("after rejecting, the queue has %d rows, want none", rows)
	}
	waitMail(t, inst, "inconnu@example.net", func(m sentMail) bool { return strings.Contains(m.Text, "Pas de publicité sur cette liste") }, "the rejection's reason")

	// The approved post is in the archive; the rejected one is not.
	b.Open(t, inst.URL+"/lists/entraide/")
	threads := b.Text(t, "ul.threads")
	if !strings.Contains(threads, "Atelier photo à la médiathèque") || strings.Contains(threads, "Promotion") {
		t.Errorf("the archive's threads: %q", threads)
	}
	b.Load(t, chromedp.Click(chromedp.CSS(`ul.threads a.subject`)))
	if got := b.Text(t, "main"); !strings.Contains(got, "atelier photo samedi") {
		t.Errorf("the thread page: %q", got)
	}
}
