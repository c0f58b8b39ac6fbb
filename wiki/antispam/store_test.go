package antispam

import (
	"io"
	"log/slog"
	"testing"

	"codeberg.org/placette/placette/internal/web"
)

// TestSettingsPersist checks that a new wiki gets the defaults, and that a
// restart (a new shell and guard on the same database) keeps what the
// administrators changed rather than running the first migration again.
func TestSettingsPersist(t *testing.T) {
	s := newSite(t)
	st, err := load(s.db)
	if err != nil {
		t.Fatal(err)
	}
	if st.settings.Mode != ModeOpen || st.settings.Limits != DefaultLimits() || len(st.questions) != len(defaultQuestions()) || st.blocklist != defaultBlocklist {
		t.Fatalf("a new wiki's settings: %+v", st)
	}
	if b := ParseBlocklist(defaultBlocklist); b.Len() != 0 || len(b.Errors) != 0 {
		t.Errorf("the default blocklist blocks or has errors: %d, %v", b.Len(), b.Errors)
	}
	s.setMode(ModeAccounts)
	s.setLimits(func(l *Limits) { l.MaxNewLinks = 7 })
	s.setBlocklist("casino\n")
	if v, err := s.db.SchemaVersion("wiki/antispam"); err != nil || v != len(migrations) {
		t.Fatalf("schema version %d, %v", v, err)
	}

	shell, err := web.NewShell(s.db, web.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(s.db, shell)
	if err != nil {
		t.Fatal(err)
	}
	if g.Mode() != ModeAccounts || g.Limits().MaxNewLinks != 7 || g.st.Load().blocklist.Len() != 1 {
		t.Errorf("after a restart: mode %s, limits %+v, %d patterns", g.Mode(), g.Limits(), g.st.Load().blocklist.Len())
	}
}
