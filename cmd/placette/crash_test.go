package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

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

var searchTotal = regexp.MustCompile(`id="results"[^>]*>([^<]*)`)

// TestKillDuringImport kills the server (SIGKILL) in the middle of a list
// import: after a restart, the search index catches up by itself with
// every message the archive holds.
func TestKillDuringImport(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	dir := apptest.TempDir(t)
	data := filepath.Join(dir, "data")
	runCLI(t, bin, data, password+"\n", "user", "add", "sam", "-admin")
	runCLI(t, bin, data, "", "list", "create", "archives")
	var mbox strings.Builder
	for i := range 8000 {
		fmt.Fprintf(&mbox, "From m%d@example.org Mon Nov 23 10:00:00 2026\nFrom: Membre %d <m%d@example.org>\nSubject: Message %d\nMessage-ID: <crash-%d@example.org>\nDate: Mon, 23 Nov 2026 10:%02d:00 +0000\n\nBonjour, voici le message %d sur la tablette.\n\n", i%50, i%50, i%50, i, i, i%60, i)
	}
	file := filepath.Join(dir, "archive.mbox")
	if err := os.WriteFile(file, []byte(mbox.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	p := startProc(t, bin, data)
	// Kill the server once the import has committed a first batch.
	killDuringCLI(t, p, bin, data, "imported", 1, "list", "import", "archives", file)

	p = startProc(t, bin, data)
	stored := strings.Count(runCLI(t, bin, data, "", "list", "export", "archives"), "\nMessage-ID: <crash-")
	if stored == 0 || stored == 8000 {
		t.Logf("the kill came at %d of 8000 messages", stored)
	}
	if stored == 0 {
		t.Fatal("nothing was imported before the kill")
	}
	inst := p.instance()
	admin := inst.Login(t, "sam", password)
	found := -1
	waitFor(t, 2*time.Minute, func() bool {
		found = searchCount(t, inst, admin, "tablette", "")
		return found == stored
	}, func() string {
		return fmt.Sprintf("after the restart the index finds %d of the %d stored messages", found, stored)
	})
}
