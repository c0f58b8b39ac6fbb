package mailinglist_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/app"
	"codeberg.org/placette/placette/internal/app/apptest"
	"codeberg.org/placette/placette/internal/control"
	"github.com/emersion/go-smtp"
)

// call runs a control command against the data folder dir.
func call(t testing.TB, dir string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	c := &control.Call{Name: args[0], Args: args[1:], Stdout: &out, Stderr: &errOut}
	if err := app.Call(context.Background(), dir, c); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, errOut.String())
	}
	return out.String()
}

// send posts msg over SMTP.
func send(addr, from, to, msg string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SendMail(from, []string{to}, strings.NewReader(msg)); err != nil {
		return err
	}
	return c.Quit()
}

// outbox returns the contents of the outbox files of dir.
func outbox(dir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "outbox", "*.eml"))
	var out []string
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			out = append(out, string(b))
		}
	}
	return out
}

// waitOutbox waits until the outbox holds n files.
func waitOutbox(t testing.TB, dir string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		files := outbox(dir)
		if len(files) >= n {
			return files
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d outbox files, want %d", len(files), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLocalModeOutbox(t *testing.T) {
	in := apptest.Start(t)
	call(t, in.DataDir, "list", "create", "entraide", "-title", "Entraide")
	call(t, in.DataDir, "list", "members", "entraide", "add", "alice@example.net", "bob@example.org")
	msg := "From: Alice <alice@example.net>\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\nMessage-ID: <e2e@example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nÀ bientôt, Noël.\r\n"
	if err := send(in.Mail, "alice@example.net", "entraide@localhost", msg); err != nil {
		t.Fatal(err)
	}
	files := waitOutbox(t, in.DataDir, 1)
	f := files[0]
	for _, want := range []string{"X-Envelope-To: <bob@example.org>", "X-Envelope-From: <entraide-bounces@localhost>", "DKIM-Signature:", "List-Id: Entraide <entraide.localhost>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click", "\r\n\r\nÀ bientôt, Noël.\r\n"} {
		if !strings.Contains(f, want) {
			t.Errorf("outbox file lacks %q:\n%s", want, f)
		}
	}
	out := call(t, in.DataDir, "list", "export", "entraide")
	if !strings.Contains(out, "Message-ID: <e2e@example.net>") {
		t.Errorf("export:\n%s", out)
	}
}
