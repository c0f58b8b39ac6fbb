package mailinglist

import (
	"strings"
	"testing"
	"unicode/utf8"

	"codeberg.org/placette/placette/mailinglist/delivery"
)

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in, want string // want "" for ErrBadAddress
	}{
		{"ana@example.org", "ana@example.org"},
		{"  Ana.Martin@Example.ORG \n", "ana.martin@example.org"},
		{"a+liste@sous.domaine.example.fr", "a+liste@sous.domaine.example.fr"},
		{"zoé@exemple.fr", "zoé@exemple.fr"},
		{"ana@médiathèque.fr", "ana@médiathèque.fr"},
		{"ana@localhost", "ana@localhost"},
		{"", ""},
		{"ana", ""},
		{"@example.org", ""},
		{"ana@", ""},
		{"ana@@example.org", ""},
		{"ana@b@example.org", ""},
		{"ana martin@example.org", ""},
		{"Ana <ana@example.org>", ""},
		{"ana@example..org", ""},
		{"ana@.example.org", ""},
		{"ana@example.org.", ""},
		{"ana@-example.org", ""},
		{"ana@exa_mple.org", ""},
		{".ana@example.org", ""},
		{"ana.@example.org", ""},
		{"a..na@example.org", ""},
		{"ana\r\nBcc: x@example.org@example.org", ""},
		{"ana\x00@example.org", ""},
		{"\"ana\"@example.org", ""},
		{"ana@exam ple.org", ""},
		{"\xff@example.org", ""},
		{strings.Repeat("a", 65) + "@example.org", ""},
		{"a@" + strings.Repeat("b", 64) + ".org", ""},
		{"a@" + strings.Repeat("b.", 130) + "org", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseAddress(tt.in)
			if tt.want == "" {
				if err != ErrBadAddress {
					t.Errorf("parseAddress(%q) = %q, %v; want ErrBadAddress", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseAddress(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// FuzzParseAddress checks what parseAddress accepts is a single, clean,
// lower-case address that parses to itself again.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"ana@example.org", " A@B.c ", "zoé@exemple.fr", "a@b@c", "a b@c", "\xff@x", "x@-y", "<a@b>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseAddress(s)
		if err != nil {
			if a != "" {
				t.Fatalf("an error with a result %q", a)
			}
			return
		}
		if !utf8.ValidString(a) || len(a) > maxAddress || strings.Count(a, "@") != 1 || strings.ContainsAny(a, " \t\r\n<>\",;") || a != strings.ToLower(a) {
			t.Fatalf("parseAddress(%q) = %q", s, a)
		}
		if again, err := parseAddress(a); err != nil || again != a {
			t.Fatalf("parseAddress(%q) = %q, %v: not stable", a, again, err)
		}
	})
}

func TestListForm(t *testing.T) {
	ok := listForm{Name: " Entraide ", Title: "Entraide\nnumérique", Policy: "members", MaxKB: "10", Domain: "Example.org"}
	l, errs := ok.toList()
	if errs != nil {
		t.Fatalf("errors %v", errs)
	}
	if l.Name != "entraide" || l.Title != "Entraide numérique" || l.MaxBytes != 10*1024 || l.Domain != "example.org" {
		t.Errorf("list %+v", l)
	}
	if got := formFromList(&l); got.MaxKB != "10" || got.Policy != "members" {
		t.Errorf("form from list %+v", got)
	}
	tests := []struct {
		name  string
		edit  func(*listForm)
		field string
	}{
		{"no name", func(f *listForm) { f.Name = " " }, "name"},
		{"policy", func(f *listForm) { f.Policy = "all" }, "policy"},
		{"size letters", func(f *listForm) { f.MaxKB = "2 Mo" }, "max_kb"},
		{"size negative", func(f *listForm) { f.MaxKB = "-1" }, "max_kb"},
		{"size huge", func(f *listForm) { f.MaxKB = "99999999999999999999" }, "max_kb"},
		{"domain", func(f *listForm) { f.Domain = "exa mple" }, "domain"},
		{"title too long", func(f *listForm) { f.Title = strings.Repeat("é", 200) }, "title"},
		{"description encoding", func(f *listForm) { f.Description = "\xff\xfe" }, "description"},
		{"tag", func(f *listForm) { f.SubjectTag = strings.Repeat("x", 41) }, "subject_tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ok
			tt.edit(&f)
			if _, errs := f.toList(); errs[tt.field] == "" {
				t.Errorf("no error on %s: %v", tt.field, errs)
			}
		})
	}
}

// FuzzListForm checks the list form never panics and that what it accepts
// is within its limits and valid UTF-8.
func FuzzListForm(f *testing.F) {
	f.Add("entraide", "Titre", "Desc", "example.org", "[e]", "10", "members")
	f.Add("", "\xff", "", "-x", "", "-5", "")
	f.Fuzz(func(t *testing.T, name, title, desc, domain, tag, kb, policy string) {
		l, errs := listForm{Name: name, Title: title, Description: desc, Domain: domain, SubjectTag: tag, MaxKB: kb, Policy: policy}.toList()
		if errs != nil {
			return
		}
		for _, s := range []string{l.Title, l.Description, l.SubjectTag} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 accepted: %q", s)
			}
		}
		if len(l.Title) > maxName || len(l.Description) > maxDescription || l.MaxBytes < 0 || l.MaxBytes > maxKB*1024 || strings.ContainsAny(l.Title, "\r\n") {
			t.Fatalf("accepted %+v", l)
		}
	})
}

func TestRelayForm(t *testing.T) {
	old := delivery.Relay{Way: delivery.Smarthost, Host: "old.example.net", Port: 587, Username: "u", Password: "kept"}
	tests := []struct {
		name     string
		form     relayForm
		password string
		want     delivery.Relay
		field    string // the field in error; "" for none
	}{
		{"outbox", relayForm{Way: "outbox"}, "", delivery.Relay{Way: delivery.Outbox, Password: "kept"}, ""},
		{"mx keeps smarthost fields", relayForm{Way: "mx", Host: "smtp.example.net", Port: "465"}, "", delivery.Relay{Way: delivery.MX, Host: "smtp.example.net", Port: 465, Password: "kept"}, ""},
		{"smarthost", relayForm{Way: "smarthost", Host: " SMTP.example.net ", Port: "587", Username: "liste", VERP: true}, "new", delivery.Relay{Way: delivery.Smarthost, Host: "smtp.example.net", Port: 587, Username: "liste", Password: "new", VERP: true}, ""},
		{"no host", relayForm{Way: "smarthost", Port: "587"}, "", delivery.Relay{}, "host"},
		{"bad host", relayForm{Way: "smarthost", Host: "smtp example", Port: "587"}, "", delivery.Relay{}, "host"},
		{"bad port", relayForm{Way: "smarthost", Host: "smtp.example.net", Port: "22"}, "", delivery.Relay{}, "port"},
		{"no port", relayForm{Way: "smarthost", Host: "smtp.example.net"}, "", delivery.Relay{}, "port"},
		{"bad way", relayForm{Way: "pigeon"}, "", delivery.Relay{}, "way"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := tt.form.toRelay(tt.password, old)
			if tt.field != "" {
				if errs[tt.field] == "" {
					t.Errorf("no error on %s: %v", tt.field, errs)
				}
				return
			}
			if errs != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, errs, tt.want)
			}
		})
	}
}

func TestRecordRow(t *testing.T) {
	for _, v := range []string{"", "v=spf1 mx ~all", strings.Repeat("é", 100), strings.Repeat("ab", 300)} {
		row := newRecordRow(Record{Value: v})
		if got := strings.Join(row.Parts, ""); got != v {
			t.Errorf("parts of %q join to %q", v, got)
		}
		for _, p := range row.Parts {
			if !utf8.ValidString(p) || len(p) > breakEvery+utf8.UTFMax {
				t.Errorf("part %q", p)
			}
		}
	}
}
