package mailinglist_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"codeberg.org/placette/placette/internal/app/apptest"
)

// TestAppWiring drives the lists' pages through the whole of placette: an
// administrator creates a list in the admin, a visitor asks to subscribe,
// and the one-click endpoint answers a mail provider's POST from another
// origin (a forged link: 404, not the 403 of a CSRF refusal).
func TestAppWiring(t *testing.T) {
	in := apptest.Start(t)
	admin := in.CreateAdmin(t, "alice", "un mot de passe long")
	form := url.Values{"name": {"entraide"}, "title": {"Entraide"}, "policy": {"members"}, "reply_to": {"author"}}
	resp, body := in.Submit(t, admin, "/admin/lists", "/admin/lists", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create a list: status %d:\n%s", resp.StatusCode, body)
	}
	status, body := in.Get(t, admin, "/admin/")
	if status != http.StatusOK || !strings.Contains(body, `href="/admin/lists"`) || !strings.Contains(body, `href="/admin/moderation"`) || !strings.Contains(body, `href="/admin/mail"`) {
		t.Errorf("the administration's index lacks the lists' entries:\n%s", body)
	}

	visitor := in.Client(t)
	status, body = in.Get(t, visitor, "/lists/")
	if status != http.StatusOK || !strings.Contains(body, "entraide@") {
		t.Fatalf("directory: status %d:\n%s", status, body)
	}
	resp, body = in.Submit(t, visitor, "/lists/entraide/subscribe", "/lists/entraide/subscribe", url.Values{"addr": {"zoe@example.org"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "zoe@example.org") {
		t.Fatalf("subscribe: status %d:\n%s", resp.StatusCode, body)
	}

	req, err := http.NewRequest("POST", in.URL+"/lists/entraide/unsubscribe/forged", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://mail.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("one-click POST with a forged link: status %d, want 404", r.StatusCode)
	}
}
