package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// placette is one placette process serving a data folder on loopback
// ports, started and stopped by the harness.
type placette struct {
	bin        string // the binary
	data       string // the data folder
	gomaxprocs int    // GOMAXPROCS of the process; 0 leaves the Go default
	logPath    string // where its log goes
	procs      *procs

	httpAddr, smtpAddr string
	p                  *proc
}

// URL returns the address of path on the running server.
func (s *placette) URL(path string) string { return "http://" + s.httpAddr + path }

// start starts placette on new free ports and returns the time from exec
// to /healthz answering 200.
func (s *placette) start(ctx context.Context) (time.Duration, error) {
	hp, err := freePort()
	if err != nil {
		return 0, err
	}
	sp, err := freePort()
	if err != nil {
		return 0, err
	}
	s.httpAddr = "127.0.0.1:" + strconv.Itoa(hp)
	s.smtpAddr = "127.0.0.1:" + strconv.Itoa(sp)
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer logf.Close() // The child has its own copy.
	fmt.Fprintf(logf, "---- start %s (GOMAXPROCS=%s)\n", time.Now().Format(time.RFC3339), gomaxprocsName(s.gomaxprocs))
	cmd := exec.Command(s.bin, "serve", "-data", s.data, "-http", s.httpAddr, "-smtp", s.smtpAddr)
	cmd.Env = childEnv(s.gomaxprocs)
	cmd.Stdout, cmd.Stderr = logf, logf
	t0 := time.Now()
	p, err := s.procs.start("placette", cmd)
	if err != nil {
		return 0, err
	}
	s.p = p
	d, err := waitHTTP(ctx, p, s.URL("/healthz"), t0, 60*time.Second)
	if err != nil {
		p.kill()
		return 0, fmt.Errorf("%w\n%s", err, tail(s.logPath, 20))
	}
	return d, nil
}

// stop stops placette with SIGTERM.
func (s *placette) stop() error {
	if s.p == nil {
		return nil
	}
	err := s.p.stop(30 * time.Second)
	s.p = nil
	return err
}

// fileClass classes the files placette maps, for readMem.
func (s *placette) fileClass() func(string) string { return fileClass(s.data, s.bin) }

// pid returns the id of the running process.
func (s *placette) pid() int { return s.p.pid() }

// cli runs "placette -data DATA args..." with stdin, as a person would
// while the server runs: the command goes through the control socket. It
// returns the standard output and error together with how long it took.
func (s *placette) cli(ctx context.Context, stdin io.Reader, args ...string) (stdout, stderr string, d time.Duration, err error) {
	if s.p == nil || !s.p.running() {
		return "", "", 0, fmt.Errorf("placette %s: the server is not running", strings.Join(args, " "))
	}
	if _, err := os.Stat(filepath.Join(s.data, "placette.sock")); err != nil {
		return "", "", 0, fmt.Errorf("placette %s: no control socket: %w", args[0], err)
	}
	cmd := exec.CommandContext(ctx, s.bin, append([]string{"-data", s.data}, args...)...)
	cmd.Env = childEnv(0)
	cmd.Stdin = stdin
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	t0 := time.Now()
	err = cmd.Run()
	d = time.Since(t0)
	if err != nil {
		return out.String(), errOut.String(), d, fmt.Errorf("placette %s: %w\n%s", short(args), err, errOut.String())
	}
	return out.String(), errOut.String(), d, nil
}

// short returns args for a message, without a long list of addresses.
func short(args []string) string {
	if len(args) > 6 {
		return strings.Join(args[:6], " ") + fmt.Sprintf(" … (%d more)", len(args)-6)
	}
	return strings.Join(args, " ")
}

// childEnv returns the environment of a process the harness starts: its
// own, less any PLACETTE_* setting, with GOMAXPROCS set when n > 0.
func childEnv(n int) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PLACETTE_") || strings.HasPrefix(kv, "GOMAXPROCS=") {
			continue
		}
		env = append(env, kv)
	}
	if n > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(n))
	}
	return env
}

// gomaxprocsName names a GOMAXPROCS setting: 0 is the Go default.
func gomaxprocsName(n int) string {
	if n == 0 {
		return "default"
	}
	return strconv.Itoa(n)
}

// tail returns the last n lines of the file at path, for an error message.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return "log " + path + ":\n" + lastLines(string(b), n)
}
