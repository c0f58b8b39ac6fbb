package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// memStatus is the memory of a process as /proc/PID/status tells it, in
// bytes.
type memStatus struct {
	VmRSS    int64 `json:"vm_rss"`    // resident: RssAnon + RssFile + RssShmem
	VmHWM    int64 `json:"vm_hwm"`    // the highest VmRSS since start (or the last reset)
	RssAnon  int64 `json:"rss_anon"`  // the program's own memory: Go heap, stacks, runtime
	RssFile  int64 `json:"rss_file"`  // pages of mapped files: the binary's text, the database
	RssShmem int64 `json:"rss_shmem"` // shared memory
	// Files is RssFile by what is mapped ("placette.db", "index", "binary",
	// "other"), from /proc/PID/smaps; nil when it could not be read.
	Files map[string]int64 `json:"rss_file_by_mapping,omitempty"`
}

// parseStatus reads the memory lines of a /proc/PID/status file ("VmRSS:
// 1234 kB"). It fails when VmRSS is missing.
func parseStatus(r io.Reader) (memStatus, error) {
	var m memStatus
	fields := map[string]*int64{"VmRSS": &m.VmRSS, "VmHWM": &m.VmHWM, "RssAnon": &m.RssAnon, "RssFile": &m.RssFile, "RssShmem": &m.RssShmem}
	seen := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		p := fields[name]
		if !ok || p == nil {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("status: %s: unexpected %q", name, strings.TrimSpace(rest))
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("status: %s: %w", name, err)
		}
		*p = n * 1024
		seen = seen || name == "VmRSS"
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if !seen {
		return m, errors.New("status: no VmRSS line")
	}
	return m, nil
}

// readStatus returns the memory of the process pid.
func readStatus(pid int) (memStatus, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memStatus{}, err
	}
	return parseStatus(bytes.NewReader(b))
}

// parseSmaps adds up the file-backed resident memory of the mappings of
// a /proc/PID/smaps file (each mapping's Rss less its Anonymous pages, the
// file's pages copied on write), by the class that class gives their
// file's path. Mappings without a file ([heap], [stack], anonymous ones)
// are left out.
func parseSmaps(r io.Reader, class func(path string) string) (map[string]int64, error) {
	out := map[string]int64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	key := "" // the class of the current mapping; "" for none
	var rss int64
	flush := func() {
		if key != "" && rss > 0 {
			out[key] += rss
		}
		key, rss = "", 0
	}
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if !strings.HasSuffix(f[0], ":") { // a mapping: address perms offset dev inode [path]
			flush()
			if len(f) >= 6 && strings.HasPrefix(f[5], "/") {
				key = class(strings.Join(f[5:], " "))
			}
			continue
		}
		if key == "" || len(f) != 3 || f[2] != "kB" {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("smaps: %s: %w", f[0], err)
		}
		switch f[0] {
		case "Rss:":
			rss += n * 1024
		case "Anonymous:":
			rss -= n * 1024
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	flush()
	return out, nil
}

// fileClass returns the class of a mapped file of placette: its
// database, its search index, its binary, or other.
func fileClass(data, bin string) func(string) string {
	index := filepath.Join(data, "index") + string(filepath.Separator)
	return func(path string) string {
		path = strings.TrimSuffix(path, " (deleted)")
		switch {
		case path == filepath.Join(data, "placette.db"):
			return "placette.db"
		case strings.HasPrefix(path, index):
			return "index"
		case path == bin:
			return "binary"
		}
		return "other"
	}
}

// readMem returns the memory of the process pid, its file-backed part by
// mapping classed by class.
func readMem(pid int, class func(string) string) (memStatus, error) {
	m, err := readStatus(pid)
	if err != nil {
		return m, err
	}
	m.Files = readSmaps(pid, class)
	return m, nil
}

// readSmaps returns the file-backed resident memory of the process pid by
// the class that class gives each mapped file, or nil if its smaps cannot
// be read: the breakdown is a bonus.
func readSmaps(pid int, class func(string) string) map[string]int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return nil
	}
	defer f.Close()
	files, err := parseSmaps(f, class)
	if err != nil {
		return nil
	}
	return files
}

// resetPeak resets the VmHWM of the process pid to its current VmRSS
// (Linux 4.0 and later).
func resetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// rssSampler reads the VmRSS of a process every interval and keeps the
// highest value seen.
type rssSampler struct {
	stop chan struct{}
	done chan struct{}
	max  memStatus // written by the sampling goroutine, read after done
}

func sampleRSS(pid int, every time.Duration, class func(string) string) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if m, err := readStatus(pid); err == nil && m.VmRSS > s.max.VmRSS {
				m.Files = readSmaps(pid, class)
				s.max = m
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop stops the sampling and returns the status with the highest VmRSS.
func (s *rssSampler) Stop() memStatus {
	close(s.stop)
	<-s.done
	return s.max
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	return port, ln.Close()
}

// procs are the processes the harness started, to be killed whatever
// happens to the harness.
type procs struct {
	mu   sync.Mutex // guards list
	list []*proc
}

// proc is a process the harness started.
type proc struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{} // closed when it has exited
	err    error         // its Wait's error, once exited
}

// start starts cmd as a process that dies with the harness.
func (ps *procs) start(name string, cmd *exec.Cmd) (*proc, error) {
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
	return p, nil
}

// killAll kills every process still running.
func (ps *procs) killAll() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, p := range ps.list {
		p.kill()
	}
	ps.list = nil
}

// pid returns the process's id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// running reports whether the process has not exited.
func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// kill kills the process and waits for it.
func (p *proc) kill() {
	if p.running() {
		_ = p.cmd.Process.Kill() // It may have exited meanwhile.
	}
	<-p.exited
}

// stop asks the process to stop with SIGTERM, and kills it if it has not
// after wait.
func (p *proc) stop(wait time.Duration) error {
	if !p.running() {
		return fmt.Errorf("%s had exited already: %v", p.name, p.err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop %s: %w", p.name, err)
	}
	select {
	case <-p.exited:
		var ee *exec.ExitError
		if p.err != nil && !errors.As(p.err, &ee) {
			return fmt.Errorf("%s: %w", p.name, p.err)
		}
		if p.err != nil {
			return fmt.Errorf("%s stopped with %v", p.name, p.err)
		}
		return nil
	case <-time.After(wait):
		p.kill()
		return fmt.Errorf("%s did not stop within %s of SIGTERM: killed", p.name, wait)
	}
}

// waitHTTP polls url until it answers 200 and returns how long that took
// from since; it fails if p exits or after timeout.
func waitHTTP(ctx context.Context, p *proc, url string, since time.Time, timeout time.Duration) (time.Duration, error) {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	deadline := time.Now().Add(timeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body) // Only the status matters.
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(since), nil
			}
		}
		if !p.running() {
			return 0, fmt.Errorf("%s exited before answering: %v", p.name, p.err)
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s did not answer 200 on %s within %s (last: %v)", p.name, url, timeout, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
