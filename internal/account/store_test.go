package account

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"codeberg.org/placette/placette/internal/store/storetest"
	"codeberg.org/placette/placette/internal/web"
)

// newStore returns an account store over a fresh database.
func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := NewStore(storetest.Open(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const goodPassword = "une phrase de passe"

func TestCreate(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	a, err := s.Create("  Clemence.Dupont ", goodPassword, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if a.Login != "clemence.dupont" || a.Admin || !a.Moderator || a.Created.IsZero() {
		t.Errorf("created %+v, want login clemence.dupont, moderator only, with a date", a)
	}
	got, err := s.Get("CLEMENCE.DUPONT")
	if err != nil {
		t.Fatal(err)
	}
	if got.Login != "clemence.dupont" || !got.Moderator || got.Admin {
		t.Errorf("stored %+v", got)
	}
	if bytes.Contains(got.Hash, []byte(goodPassword)) || len(got.Hash) == 0 {
		t.Errorf("the stored hash %q holds the password, or nothing", got.Hash)
	}

	if _, err := s.Create("clemence.DUPONT", "un autre mot de passe", true, false); !errors.Is(err, ErrExists) {
		t.Errorf("create a duplicate login: %v, want ErrExists", err)
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Errorf("%d accounts after a refused duplicate, want 1", len(list))
	}
}

func TestCreateRefuses(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	tests := []struct {
		name     string
		login    string
		password string
		want     error
	}{
		{"empty login", "", goodPassword, ErrBadLogin},
		{"one-letter login", "a", goodPassword, ErrBadLogin},
		{"41-character login", strings.Repeat("a", 41), goodPassword, ErrBadLogin},
		{"accented login", "é", goodPassword, ErrBadLogin},
		{"accented longer login", "clémence", goodPassword, ErrBadLogin},
		{"login with a space", "a b", goodPassword, ErrBadLogin},
		{"login with a slash", "../x", goodPassword, ErrBadLogin},
		{"dot-dot login", "..", goodPassword, ErrBadLogin},
		{"login like a flag", "-admin", goodPassword, ErrBadLogin},
		{"weak password", "karim", "court", ErrWeakPassword},
		{"password of spaces", "karim", "    a     ", ErrWeakPassword},
		{"long password", "karim", strings.Repeat("é", 513), ErrLongPassword},
		{"invalid UTF-8 password", "karim", "abcdefghij\xff\xfe", ErrWeakPassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := s.Create(tt.login, tt.password, true, false)
			if !errors.Is(err, tt.want) {
				t.Errorf("Create(%q, %q): %v, %v; want %v", tt.login, tt.password, a, err, tt.want)
			}
		})
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Errorf("refused creations left %d accounts", len(list))
	}
}

func TestNormalizeLogin(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"karim", "karim"},
		{" Karim ", "karim"},
		{"sam_42", "sam_42"},
		{"j.dupont-martin", "j.dupont-martin"},
		{"42", "42"},
		{strings.Repeat("x", 40), strings.Repeat("x", 40)},
	} {
		got, err := NormalizeLogin(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeLogin(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if _, err := s.Create("karim", goodPassword, false, true); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, login, password string
		ok                    bool
	}{
		{"right password", "karim", goodPassword, true},
		{"login in capitals", "KARIM", goodPassword, true},
		{"wrong password", "karim", goodPassword + "!", false},
		{"password in capitals", "karim", strings.ToUpper(goodPassword), false},
		{"empty password", "karim", "", false},
		{"unknown login", "clemence", goodPassword, false},
		{"too long password", "karim", strings.Repeat("x", maxPasswordBytes+1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := s.Authenticate(tt.login, tt.password)
			if tt.ok {
				if err != nil || a == nil || a.Login != "karim" {
					t.Errorf("Authenticate: %v, %v; want karim's account", a, err)
				}
				return
			}
			if a != nil || !errors.Is(err, ErrWrongLogin) {
				t.Errorf("Authenticate: %v, %v; want ErrWrongLogin", a, err)
			}
		})
	}
}

// TestLongPassphrase shows that the whole of a long passphrase counts,
// where bcrypt alone would read only its first 72 bytes.
func TestLongPassphrase(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	phrase := "À l’atelier du mercredi, Clémence explique à Gérard où trouver l’été"
	phrase += strings.Repeat("é", 100-len([]rune(phrase)))
	if n := len([]rune(phrase)); n != 100 {
		t.Fatalf("the passphrase has %d characters, want 100", n)
	}
	if len(phrase) <= 80 {
		t.Fatalf("the passphrase has only %d bytes", len(phrase))
	}
	if _, err := s.Create("clemence", phrase, true, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate("clemence", phrase); err != nil {
		t.Errorf("the right passphrase: %v", err)
	}
	// The same first 72 bytes and more, then a different ending.
	other := phrase[:len(phrase)-2] + "e"
	if other[:72] != phrase[:72] {
		t.Fatal("the two passphrases differ within the first 72 bytes")
	}
	if _, err := s.Authenticate("clemence", other); !errors.Is(err, ErrWrongLogin) {
		t.Errorf("a passphrase that differs after byte 72: %v, want ErrWrongLogin", err)
	}
}

func TestLastAdmin(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if _, err := s.Create("sam", goodPassword, true, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create("karim", goodPassword, false, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRoles("sam", false, true); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("demote the last administrator: %v, want ErrLastAdmin", err)
	}
	if err := s.Delete("SAM"); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("delete the last administrator: %v, want ErrLastAdmin", err)
	}
	if a, err := s.Get("sam"); err != nil || !a.Admin {
		t.Fatalf("after the refusals, sam is %+v, %v; want still an administrator", a, err)
	}
	// A moderator can lose their role and go.
	if err := s.SetRoles("karim", false, false); err != nil {
		t.Errorf("remove the moderator's role: %v", err)
	}

	// With a second administrator, the first can be demoted, then the
	// second (now the last) cannot be deleted, but the first can.
	if err := s.SetRoles("karim", true, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRoles("sam", false, true); err != nil {
		t.Errorf("demote one of two administrators: %v", err)
	}
	if a, err := s.Get("sam"); err != nil || a.Admin || !a.Moderator {
		t.Errorf("sam is %+v, %v; want a moderator", a, err)
	}
	if err := s.Delete("karim"); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("delete the last administrator: %v, want ErrLastAdmin", err)
	}
	if err := s.SetRoles("sam", true, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("karim"); err != nil {
		t.Errorf("delete one of two administrators: %v", err)
	}
	if _, err := s.Get("karim"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get a deleted account: %v, want ErrNotFound", err)
	}
	if has, err := s.HasAdmin(); err != nil || !has {
		t.Errorf("HasAdmin = %v, %v; want true", has, err)
	}

	if err := s.Delete("nobody"); !errors.Is(err, ErrNotFound) || !errors.Is(err, web.ErrNotFound) {
		t.Errorf("delete an unknown account: %v, want ErrNotFound", err)
	}
	if err := s.SetRoles("nobody", true, false); !errors.Is(err, ErrNotFound) {
		t.Errorf("set the roles of an unknown account: %v, want ErrNotFound", err)
	}
}

func TestSetPassword(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if _, err := s.Create("karim", goodPassword, false, true); err != nil {
		t.Fatal(err)
	}
	const newPassword = "un tout nouveau mot de passe"
	if err := s.SetPassword("Karim", newPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate("karim", goodPassword); !errors.Is(err, ErrWrongLogin) {
		t.Errorf("the old password: %v, want ErrWrongLogin", err)
	}
	if _, err := s.Authenticate("karim", newPassword); err != nil {
		t.Errorf("the new password: %v", err)
	}
	if err := s.SetPassword("karim", "court"); !errors.Is(err, ErrWeakPassword) {
		t.Errorf("a weak new password: %v, want ErrWeakPassword", err)
	}
	if err := s.SetPassword("nobody", newPassword); !errors.Is(err, ErrNotFound) {
		t.Errorf("the password of an unknown account: %v, want ErrNotFound", err)
	}
	if _, err := s.Authenticate("karim", newPassword); err != nil {
		t.Errorf("after a refused change, the password: %v", err)
	}
}

func TestLookupUser(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	u, err := s.LookupUser(context.Background(), "nobody")
	if u != nil || err != nil {
		t.Errorf("LookupUser(unknown) = %v, %v; want nil, nil", u, err)
	}
	if _, err := s.Create("sam", goodPassword, true, false); err != nil {
		t.Fatal(err)
	}
	u, err = s.LookupUser(context.Background(), "sam")
	if err != nil || u == nil || *u != (web.User{Login: "sam", Admin: true}) {
		t.Errorf("LookupUser(sam) = %+v, %v", u, err)
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if has, err := s.HasAdmin(); err != nil || has {
		t.Errorf("HasAdmin of no accounts = %v, %v", has, err)
	}
	for _, login := range []string{"zoe", "amir", "marc"} {
		if _, err := s.Create(login, goodPassword, false, false); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var logins []string
	for _, a := range list {
		logins = append(logins, a.Login)
	}
	if got := strings.Join(logins, " "); got != "amir marc zoe" {
		t.Errorf("List = %s, want amir marc zoe", got)
	}
	if has, err := s.HasAdmin(); err != nil || has {
		t.Errorf("HasAdmin without administrators = %v, %v", has, err)
	}
}
