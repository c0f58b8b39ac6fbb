package account_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"codeberg.org/placette/placette/internal/app/apptest"
)

// The journeys below drive a whole placette over HTTP, as a browser
// would: each form is fetched first for its CSRF token.

const (
	adminPassword = "la place du marché"
	modPassword   = "le banc sous le tilleul"
)

// wantStatus fails the test unless resp has the status want.
func wantStatus(t *testing.T, what string, resp *http.Response, body string, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s: status %d, want %d; body:\n%s", what, resp.StatusCode, want, body)
	}
}

// wantRedirect fails the test unless resp is a 303 to location.
func wantRedirect(t *testing.T, what string, resp *http.Response, body, location string) {
	t.Helper()
	wantStatus(t, what, resp, body, http.StatusSeeOther)
	if got := resp.Header.Get("Location"); got != location {
		t.Fatalf("%s: redirected to %q, want %q", what, got, location)
	}
}

// isLoggedOut reports whether c is sent to the login page from /admin/.
func isLoggedOut(t *testing.T, inst *apptest.Instance, c *http.Client) bool {
	t.Helper()
	resp, err := c.Get(inst.URL + "/admin/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/login"):
		return true
	case resp.StatusCode == http.StatusOK:
		return false
	}
	t.Fatalf("GET /admin/: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	return false
}

func TestSetupJourney(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t)
	path, err := inst.App.SetupPath()
	if err != nil || !strings.HasPrefix(path, "/setup/") {
		t.Fatalf("SetupPath = %q, %v", path, err)
	}
	if !strings.Contains(inst.Log.String(), inst.URL+path) {
		t.Errorf("the log does not give the setup link %s:\n%s", inst.URL+path, inst.Log)
	}
	c := inst.Client(t)

	status, body := inst.Get(t, c, path)
	if status != http.StatusOK || !strings.Contains(body, `name="password2"`) {
		t.Fatalf("GET the setup link: status %d; body:\n%s", status, body)
	}
	status, _ = inst.Get(t, c, "/setup/not-the-token")
	if status != http.StatusNotFound {
		t.Errorf("GET a wrong setup link: status %d, want 404", status)
	}
	resp, _ := inst.Submit(t, c, path, "/setup/not-the-token", url.Values{"login": {"mallory"}, "password": {adminPassword}, "password2": {adminPassword}})
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST a wrong setup link: status %d, want 404", resp.StatusCode)
	}

	resp, body = inst.Submit(t, c, path, path, url.Values{"login": {"Sam"}, "password": {adminPassword}, "password2": {adminPassword + "!"}})
	wantStatus(t, "two different passwords", resp, body, http.StatusBadRequest)
	if !strings.Contains(body, `value="Sam"`) {
		t.Errorf("the refused form lost the login:\n%s", body)
	}
	if !strings.Contains(body, "Les deux mots de passe sont différents.") {
		t.Errorf("the refused form does not say why:\n%s", body)
	}
	resp, body = inst.Submit(t, c, path, path, url.Values{"login": {"Sam"}, "password": {"court"}, "password2": {"court"}})
	wantStatus(t, "a weak password", resp, body, http.StatusBadRequest)
	if !strings.Contains(body, "au moins 10 caractères") {
		t.Errorf("the refused form does not say why:\n%s", body)
	}

	resp, body = inst.Submit(t, c, path, path, url.Values{"login": {"Sam"}, "password": {adminPassword}, "password2": {adminPassword}})
	wantRedirect(t, "create the first administrator", resp, body, "/admin/")
	status, body = inst.Get(t, c, "/admin/")
	if status != http.StatusOK || !strings.Contains(body, `href="/admin/accounts"`) {
		t.Errorf("GET /admin/ after setup: status %d; body:\n%s", status, body)
	}

	status, _ = inst.Get(t, c, path)
	if status != http.StatusNotFound {
		t.Errorf("GET the used setup link: status %d, want 404", status)
	}
	resp, _ = inst.Post(t, c, path, url.Values{"csrf": {inst.CSRF(t, c, "/login")}, "login": {"mallory"}, "password": {adminPassword}, "password2": {adminPassword}})
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST the used setup link: status %d, want 404", resp.StatusCode)
	}
	if p, err := inst.App.SetupPath(); p != "" || err != nil {
		t.Errorf("SetupPath after setup = %q, %v; want \"\"", p, err)
	}
	// The account works for a login, under its lower-case name.
	inst.Login(t, "sam", adminPassword)
}

func TestLogin(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t)
	inst.CreateAdmin(t, "sam", adminPassword)
	c := inst.Client(t)

	status, body := inst.Get(t, c, "/login?next=/admin/")
	if status != http.StatusOK || !strings.Contains(body, `name="password"`) || !strings.Contains(body, `name="next" value="/admin/"`) {
		t.Fatalf("GET /login: status %d; body:\n%s", status, body)
	}

	resp, body := inst.Submit(t, c, "/login", "/login", url.Values{"login": {"Sam"}, "password": {"pas le bon mot de passe"}})
	wantStatus(t, "a wrong password", resp, body, http.StatusUnauthorized)
	if !strings.Contains(body, `value="Sam"`) {
		t.Errorf("the refused login lost what was typed:\n%s", body)
	}
	if !strings.Contains(body, "Identifiant ou mot de passe incorrect.") {
		t.Errorf("the refused login does not say why, in French:\n%s", body)
	}
	resp, body = inst.Submit(t, c, "/login", "/login", url.Values{"login": {"nobody"}, "password": {adminPassword}})
	wantStatus(t, "an unknown login", resp, body, http.StatusUnauthorized)
	if isLoggedOut(t, inst, c) != true {
		t.Fatal("refused logins opened a session")
	}

	resp, body = inst.Submit(t, c, "/login", "/login", url.Values{"login": {"Sam"}, "password": {adminPassword}, "next": {"/admin/"}})
	wantRedirect(t, "the right password", resp, body, "/admin/")
	if isLoggedOut(t, inst, c) {
		t.Error("after a login, /admin/ sends to the login page")
	}

	// "next" never leads to another site.
	c2 := inst.Client(t)
	resp, body = inst.Submit(t, c2, "/login", "/login", url.Values{"login": {"sam"}, "password": {adminPassword}, "next": {"//evil.example/"}})
	wantRedirect(t, "a login with a foreign next", resp, body, "/")
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t)
	inst.CreateAdmin(t, "sam", adminPassword)
	c := inst.Client(t)
	token := inst.CSRF(t, c, "/login")
	login := func(password string) (*http.Response, string) {
		return inst.Post(t, c, "/login", url.Values{"csrf": {token}, "login": {"sam"}, "password": {password}})
	}
	// The account's burst of attempts: each is answered.
	for i := range 5 {
		resp, body := login("pas le bon mot de passe")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password #%d: status %d, want 401; body:\n%s", i+1, resp.StatusCode, body)
		}
	}
	resp, body := login(adminPassword)
	wantStatus(t, "the right password after the burst", resp, body, http.StatusTooManyRequests)
	if resp.Header.Get("Retry-After") == "" {
		t.Error("a 429 without Retry-After")
	}
	if !strings.Contains(body, "Trop de tentatives de connexion") || !strings.Contains(body, `value="sam"`) {
		t.Errorf("the 429 page does not explain, or lost the login:\n%s", body)
	}
	if !isLoggedOut(t, inst, c) {
		t.Error("a refused login opened a session")
	}
	if !strings.Contains(inst.Log.String(), "too many attempts") {
		t.Errorf("the refusal is not logged:\n%s", inst.Log)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t)
	c := inst.CreateAdmin(t, "sam", adminPassword)
	u, _ := url.Parse(inst.URL)
	var session *http.Cookie
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "placette_session" {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("no session cookie after setup")
	}

	resp, body := inst.Submit(t, c, "/admin/", "/logout", nil)
	wantRedirect(t, "log out", resp, body, "/")
	resp, err := c.Get(inst.URL + "/admin/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fadmin%2F" {
		t.Errorf("GET /admin/ after logout: status %d to %q, want 303 to the login page", resp.StatusCode, resp.Header.Get("Location"))
	}

	// The session is over on the server too, not only in this browser.
	stolen := inst.Client(t)
	stolen.Jar.SetCookies(u, []*http.Cookie{{Name: session.Name, Value: session.Value, Path: "/"}})
	if !isLoggedOut(t, inst, stolen) {
		t.Error("the session cookie still works after logout")
	}
}

// roleOf returns the role selected for login in the accounts page.
func roleOf(t *testing.T, body, login string) string {
	t.Helper()
	re := regexp.MustCompile(`(?s)<select id="role-` + regexp.QuoteMeta(login) + `" name="role">(.*?)</select>`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no role of %s in the page:\n%s", login, body)
	}
	sel := regexp.MustCompile(`<option value="([a-z]*)" selected>`).FindStringSubmatch(m[1])
	if sel == nil {
		t.Fatalf("no role selected for %s in %s", login, m[1])
	}
	return sel[1]
}

func TestAccountsAdmin(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t)
	admin := inst.CreateAdmin(t, "sam", adminPassword)
	const page = "/admin/accounts"
	submit := func(action string, form url.Values) (*http.Response, string) {
		t.Helper()
		return inst.Submit(t, admin, page, action, form)
	}

	status, body := inst.Get(t, admin, page)
	if status != http.StatusOK || !strings.Contains(body, "<th scope=\"row\">sam</th>") {
		t.Fatalf("GET %s: status %d; body:\n%s", page, status, body)
	}

	// Create a moderator.
	resp, body := submit(page, url.Values{"login": {"Karim"}, "password": {modPassword}, "role": {"moderator"}})
	wantRedirect(t, "create a moderator", resp, body, page+"?done=created")
	_, body = inst.Get(t, admin, page+"?done=created")
	if !strings.Contains(body, "Compte créé.") || roleOf(t, body, "karim") != "moderator" {
		t.Errorf("the new moderator is not listed as such:\n%s", body)
	}

	// Refused creations: the form comes back with what was typed.
	tests := []struct {
		name, login, password string
		status                int
		message               string
	}{
		{"bad login", "Karim Dupont", modPassword, http.StatusBadRequest, "Cet identifiant n’est pas valable"},
		{"dot-dot login", "..", modPassword, http.StatusBadRequest, "Cet identifiant n’est pas valable"},
		{"weak password", "clemence", "court", http.StatusBadRequest, "au moins 10 caractères"},
		{"duplicate", "KARIM", modPassword, http.StatusConflict, "Un compte porte déjà cet identifiant."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := submit(page, url.Values{"login": {tt.login}, "password": {tt.password}, "role": {"moderator"}})
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body:\n%s", resp.StatusCode, tt.status, body)
			}
			if !strings.Contains(body, `id="new-login" name="login" value="`+tt.login+`"`) {
				t.Errorf("the form lost the login %q:\n%s", tt.login, body)
			}
			if !strings.Contains(body, tt.message) {
				t.Errorf("the form does not say %q:\n%s", tt.message, body)
			}
		})
	}

	// The last administrator cannot go.
	resp, body = submit(page+"/sam/delete", nil)
	wantStatus(t, "delete the last administrator", resp, body, http.StatusConflict)
	if !strings.Contains(body, "C’est le dernier compte d’administration") {
		t.Errorf("the refusal does not say why:\n%s", body)
	}
	resp, body = submit(page+"/sam/roles", url.Values{"role": {"moderator"}})
	wantStatus(t, "demote the last administrator", resp, body, http.StatusConflict)
	if isLoggedOut(t, inst, admin) {
		t.Fatal("the administrator was logged out")
	}
	resp, body = submit(page+"/nobody/roles", url.Values{"role": {"admin"}})
	wantStatus(t, "roles of an unknown account", resp, body, http.StatusNotFound)

	// The moderator sees the administration, not the accounts.
	mod := inst.Login(t, "karim", modPassword)
	status, body = inst.Get(t, mod, "/admin/")
	if status != http.StatusOK {
		t.Fatalf("a moderator's GET /admin/: status %d", status)
	}
	if strings.Contains(body, `href="/admin/accounts"`) {
		t.Error("a moderator is shown the link to the accounts")
	}
	if status, _ = inst.Get(t, mod, page); status != http.StatusForbidden {
		t.Errorf("a moderator's GET %s: status %d, want 403", page, status)
	}
	resp, _ = inst.Submit(t, mod, "/admin/", page, url.Values{"login": {"mallory"}, "password": {modPassword}, "role": {"admin"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a moderator's POST %s: status %d, want 403", page, resp.StatusCode)
	}

	// A new password ends the moderator's sessions.
	const newModPassword = "un autre banc, place de la mairie"
	resp, body = submit(page+"/karim/password", url.Values{"password": {newModPassword}})
	wantRedirect(t, "change the moderator's password", resp, body, page+"?done=password")
	if !isLoggedOut(t, inst, mod) {
		t.Error("the moderator is still logged in after a new password")
	}
	if isLoggedOut(t, inst, admin) {
		t.Error("the administrator was logged out by another's new password")
	}
	resp, body = submit(page+"/karim/password", url.Values{"password": {"court"}})
	wantStatus(t, "a weak new password", resp, body, http.StatusBadRequest)
	mod = inst.Login(t, "karim", newModPassword)

	// Change the role: the moderator becomes an administrator at once.
	resp, body = submit(page+"/karim/roles", url.Values{"role": {"admin"}})
	wantRedirect(t, "make karim an administrator", resp, body, page+"?done=roles")
	status, body = inst.Get(t, mod, page)
	if status != http.StatusOK || roleOf(t, body, "karim") != "admin" {
		t.Errorf("karim after promotion: status %d; body:\n%s", status, body)
	}

	// Now sam can go, and with the account, its sessions.
	resp, body = inst.Submit(t, mod, page, page+"/sam/delete", nil)
	wantRedirect(t, "delete sam", resp, body, page+"?done=deleted")
	if !isLoggedOut(t, inst, admin) {
		t.Error("a deleted account is still logged in")
	}
	_, body = inst.Get(t, mod, page)
	if strings.Contains(body, "<th scope=\"row\">sam</th>") {
		t.Error("the deleted account is still listed")
	}
}

func TestOwnPasswordKeepsSession(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t)
	here := inst.CreateAdmin(t, "sam", adminPassword)
	elsewhere := inst.Login(t, "sam", adminPassword)

	const newPassword = "un nouveau mot de passe pour sam"
	resp, body := inst.Submit(t, here, "/admin/accounts", "/admin/accounts/sam/password", url.Values{"password": {newPassword}})
	wantRedirect(t, "change one's own password", resp, body, "/admin/accounts?done=password")
	if isLoggedOut(t, inst, here) {
		t.Error("changing one's own password logged this browser out")
	}
	if !isLoggedOut(t, inst, elsewhere) {
		t.Error("changing one's password left another browser logged in")
	}
	inst.Login(t, "sam", newPassword)
}

func TestAdminPostsNeedToken(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t)
	admin := inst.CreateAdmin(t, "sam", adminPassword)
	form := url.Values{"login": {"mallory"}, "password": {modPassword}, "role": {"admin"}}

	anon := inst.Client(t)
	resp, body := inst.Post(t, anon, "/admin/accounts", form)
	wantStatus(t, "an anonymous POST without a token", resp, body, http.StatusForbidden)
	if !strings.Contains(body, "Formulaire expiré") {
		t.Errorf("the 403 page does not explain:\n%s", body)
	}

	// A token is not enough without a session.
	resp, body = inst.Submit(t, anon, "/login", "/admin/accounts", form)
	wantRedirect(t, "an anonymous POST with a token", resp, body, "/login?next=%2Fadmin%2Faccounts")

	// Nor a session without a token, or with another browser's token.
	resp, body = inst.Post(t, admin, "/admin/accounts", form)
	wantStatus(t, "an administrator's POST without a token", resp, body, http.StatusForbidden)
	form.Set("csrf", inst.CSRF(t, anon, "/login"))
	resp, body = inst.Post(t, admin, "/admin/accounts", form)
	wantStatus(t, "an administrator's POST with another's token", resp, body, http.StatusForbidden)

	_, body = inst.Get(t, admin, "/admin/accounts")
	if strings.Contains(body, "mallory") {
		t.Error("a refused POST created an account")
	}
}
