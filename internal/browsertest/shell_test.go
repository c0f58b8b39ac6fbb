//go:build browser

package browsertest

import (
	"net/http"
	"strings"
	"testing"

	"codeberg.org/placette/placette/internal/app/apptest"
	"github.com/chromedp/chromedp"
)

// TestFirstAdministrator follows the one-time setup link, creates the
// first administrator, and renames the site, all without JavaScript.
func TestFirstAdministrator(t *testing.T) {
	inst := apptest.Start(t)
	path, err := inst.App.SetupPath()
	if err != nil || path == "" {
		t.Fatalf("setup path = %q, %v", path, err)
	}
	b := New(t)
	if status := b.Open(t, inst.URL+path); status != http.StatusOK {
		t.Fatalf("setup page: status %d", status)
	}
	b.Run(t,
		chromedp.SendKeys(chromedp.CSS(`#login`), "sam"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "un mot de passe solide"),
		chromedp.SendKeys(chromedp.CSS(`#password2`), "un mot de passe solide"),
	)
	b.Submit(t, `#login`)
	if status := b.Open(t, inst.URL+"/admin/settings"); status != http.StatusOK {
		t.Fatalf("settings page after setup: status %d (not logged in?)", status)
	}
	b.Run(t, chromedp.SetValue(chromedp.CSS(`#s-name`), "La Placette du quartier"))
	b.Submit(t, `#s-name`)
	b.Open(t, inst.URL+"/")
	if got := b.Text(t, "h1"); got != "La Placette du quartier" {
		t.Errorf("home page heading = %q, want the new site name", got)
	}
	if loc := b.Location(t); !strings.HasPrefix(loc, inst.URL) {
		t.Errorf("the browser left the site: %s", loc)
	}
}
