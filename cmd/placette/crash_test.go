package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/app"
	"codeberg.org/placette/placette/internal/app/apptest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds placette once for the tests that kill it.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "placette-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "placette")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// serveBinary starts the server on data and waits for its web listener
// and its control socket.
func serveBinary(t *testing.T, bin, data, httpAddr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "serve", "-data", data, "-http", httpAddr, "-smtp", freeAddr(t))
	cmd.Env = []string{"HOME=" + data}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for range 1000 {
		if c, err := net.Dial("tcp", httpAddr); err == nil {
			c.Close()
			// A socket file may be left by a killed server: dial it.
			if s, err := net.Dial("unix", app.SocketPath(data)); err == nil {
				s.Close()
				return cmd
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the server never listened")
	return nil
}

var searchTotal = regexp.MustCompile(`id="results"[^>]*>([^<]*)`)

// TestKillDuringImport kills the server (SIGKILL) in the middle of a list
// import: after a restart, the search index catches up by itself with
// every message the archive holds.
func TestKillDuringImport(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	dir := apptest.TempDir(t)
	data := filepath.Join(dir, "data")
	run := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args, "-data", data)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run(password+"\n", "user", "add", "sam", "-admin")
	run("", "list", "create", "archives")
	var mbox strings.Builder
	for i := range 8000 {
		fmt.Fprintf(&mbox, "From m%d@example.org Mon Nov 23 10:00:00 2026\nFrom: Membre %d <m%d@example.org>\nSubject: Message %d\nMessage-ID: <crash-%d@example.org>\nDate: Mon, 23 Nov 2026 10:%02d:00 +0000\n\nBonjour, voici le message %d sur la tablette.\n\n", i%50, i%50, i%50, i, i, i%60, i)
	}
	file := filepath.Join(dir, "archive.mbox")
	if err := os.WriteFile(file, []byte(mbox.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	httpAddr := freeAddr(t)
	server := serveBinary(t, bin, data, httpAddr)
	imp := exec.Command(bin, "list", "import", "archives", file, "-data", data)
	stderr, err := imp.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := imp.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill the server once the import has committed a first batch.
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "imported") {
			break
		}
	}
	server.Process.Signal(syscall.SIGKILL)
	server.Wait()
	go func() {
		for sc.Scan() {
		}
	}()
	imp.Wait() // fails: the server is gone

	serveBinary(t, bin, data, httpAddr)
	stored := strings.Count(run("", "list", "export", "archives"), "\nMessage-ID: <crash-")
	if stored == 0 || stored == 8000 {
		t.Logf("the kill came at %d of 8000 messages", stored)
	}
	if stored == 0 {
		t.Fatal("nothing was imported before the kill")
	}
	inst := &apptest.Instance{URL: "http://" + httpAddr}
	admin := inst.Login(t, "sam", password)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, body := inst.Get(t, admin, "/search?q=tablette")
		total := -1
		if m := searchTotal.FindStringSubmatch(body); m != nil {
			digits := strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, m[1])
			total, _ = strconv.Atoi(digits)
		}
		if total == stored {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart the index finds %d of the %d stored messages", total, stored)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
