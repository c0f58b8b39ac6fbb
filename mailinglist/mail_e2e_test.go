package mailinglist_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
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

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// placetteBinary builds cmd/placette once for the tests.
func placetteBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "placette-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "placette")
		out, err := exec.Command("go", "build", "-o", binPath, "codeberg.org/placette/placette/cmd/placette").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// freePort returns a loopback address free a moment ago.
func freePort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startBinary runs the placette server on data and waits for its SMTP
// listener.
func startBinary(t testing.TB, bin, data, smtpAddr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "-data", data, "-http", freePort(t), "-smtp", smtpAddr)
	cmd.Env = []string{"HOME=" + data}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for range 500 {
		if c, err := net.Dial("tcp", smtpAddr); err == nil {
			c.Close()
			return cmd
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the server never listened")
	return nil
}

// TestKillDuringBurst kills the server (SIGKILL) during a burst of posts:
// after a restart every post that got 250 is in the archive and its copies
// reach the outbox.
func TestKillDuringBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := placetteBinary(t)
	data := filepath.Join(apptest.TempDir(t), "data")
	run := func(args ...string) string {
		out, err := exec.Command(bin, append(args, "-data", data)...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("list", "create", "crash")
	run("list", "members", "crash", "add", "alice@example.net", "bob@example.org", "carol@example.com")
	smtpAddr := freePort(t)
	cmd := startBinary(t, bin, data, smtpAddr)

	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("burst-%d-%d@example.net", w, i)
				msg := "From: alice@example.net\r\nSubject: burst\r\nMessage-ID: <" + id + ">\r\n\r\nx\r\n"
				if err := send(smtpAddr, "alice@example.net", "crash@localhost", msg); err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		}()
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 40 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	close(stop)
	wg.Wait()
	t.Logf("%d posts acknowledged before the kill", len(acked))

	startBinary(t, bin, data, smtpAddr)
	export := run("list", "export", "crash")
	for _, id := range acked {
		if !strings.Contains(export, "<"+id+">") {
			t.Errorf("acknowledged post %s lost", id)
		}
	}
	files := waitOutbox(t, data, 2*len(acked))
	all := strings.Join(files, "\n")
	for _, id := range acked {
		if n := strings.Count(all, "<"+id+">"); n < 2 {
			t.Errorf("post %s: %d copies in the outbox, want 2", id, n)
		}
	}
}
