package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// goBuild builds ./cmd/placette of src into out, with env added to the
// harness's environment.
func goBuild(ctx context.Context, src, out string, env []string, flags ...string) error {
	args := append(append([]string{"build"}, flags...), "-o", out, "./cmd/placette")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s go %s: %w\n%s", strings.Join(env, " "), strings.Join(args, " "), err, b)
	}
	return nil
}

// binarySize is the size of a stripped build.
type binarySize struct {
	Target string `json:"target"` // linux/arm64, linux/arm GOARM=6…
	Bytes  int64  `json:"bytes"`
}

// binaries builds placette stripped for the targets of a Raspberry Pi
// and a server, and returns their sizes; -quick builds linux/arm64 only,
// the one with a budget.
func (h *harness) binaries(ctx context.Context) ([]binarySize, error) {
	targets := []struct {
		name string
		env  []string
	}{
		{"linux/arm64", []string{"GOOS=linux", "GOARCH=arm64"}},
		{"linux/amd64", []string{"GOOS=linux", "GOARCH=amd64"}},
		{"linux/arm GOARM=6", []string{"GOOS=linux", "GOARCH=arm", "GOARM=6"}},
	}
	if h.o.Quick {
		targets = targets[:1]
	}
	var out []binarySize
	for _, t := range targets {
		h.logf("building a stripped binary for %s", t.name)
		file := filepath.Join(h.tmp, "placette-"+strings.NewReplacer("/", "-", " ", "-", "=", "").Replace(t.name))
		env := append([]string{"CGO_ENABLED=0"}, t.env...)
		if err := goBuild(ctx, h.o.Src, file, env, "-trimpath", "-ldflags=-s -w"); err != nil {
			return out, err
		}
		fi, err := os.Stat(file)
		if err != nil {
			return out, err
		}
		out = append(out, binarySize{Target: t.name, Bytes: fi.Size()})
	}
	return out, nil
}
