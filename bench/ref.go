package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// The physical reference: Go's net/http writing the bytes of a placette
// page from memory, with nothing else to do. It runs as its own process
// (the harness's own binary, with -reference-server), with the same
// GOMAXPROCS as placette, so that both share the cores with the load
// generator in the same way.

// refPage is one body the reference serves.
type refPage struct {
	Path        string `json:"path"`
	File        string `json:"file"`
	ContentType string `json:"content_type"`
}

// serveReference serves the pages listed in the manifest file on addr
// until the process is stopped.
func serveReference(manifest, addr string) error {
	b, err := os.ReadFile(manifest)
	if err != nil {
		return err
	}
	var pages []refPage
	if err := json.Unmarshal(b, &pages); err != nil {
		return fmt.Errorf("%s: %w", manifest, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	for _, p := range pages {
		body, err := os.ReadFile(p.File)
		if err != nil {
			return err
		}
		length := strconv.Itoa(len(body))
		mux.HandleFunc("GET "+p.Path, func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", p.ContentType)
			h.Set("Content-Length", length)
			_, _ = w.Write(body) // A client gone is no concern here.
		})
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

// reference is a running reference server.
type reference struct {
	addr string
	p    *proc
}

// URL returns the address of path on the reference server.
func (r *reference) URL(path string) string { return "http://" + r.addr + path }

// startReference writes the pages to dir and starts a reference server
// serving them, with GOMAXPROCS n (0 for the Go default).
func startReference(ctx context.Context, ps *procs, dir string, pages map[string][]byte, n int) (*reference, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var list []refPage
	i := 0
	for path, body := range pages {
		i++
		f := filepath.Join(dir, fmt.Sprintf("page%d.html", i))
		if err := os.WriteFile(f, body, 0o644); err != nil {
			return nil, err
		}
		list = append(list, refPage{Path: path, File: f, ContentType: "text/html; charset=utf-8"})
	}
	b, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	manifest := filepath.Join(dir, "manifest.json")
	if err := os.WriteFile(manifest, b, 0o644); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(self, "-reference-server", manifest, "-reference-addr", addr)
	cmd.Env = childEnv(n)
	cmd.Stderr = os.Stderr
	p, err := ps.start("net/http reference", cmd)
	if err != nil {
		return nil, err
	}
	r := &reference{addr: addr, p: p}
	if _, err := waitHTTP(ctx, p, r.URL("/healthz"), time.Now(), 30*time.Second); err != nil {
		p.kill()
		return nil, err
	}
	return r, nil
}

// stop stops the reference server: it keeps nothing, so it is killed.
func (r *reference) stop() { r.p.kill() }
