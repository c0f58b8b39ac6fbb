package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/app/certs/pebbletest"
)

// logBuffer collects log output; it is safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex // guards b
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// acmeSite is an HTTP and an HTTPS listener served by an ACME manager, as
// package app runs them.
type acmeSite struct {
	m          *ACME
	https      string // the HTTPS listener's address
	challenges atomic.Int32
	log        *logBuffer
}

// startSite runs a manager for domains against directory, with its
// listeners, and points pebble's validations at them.
func startSite(t *testing.T, p *pebbletest.Server, directory string, cfg ACMEConfig) *acmeSite {
	t.Helper()
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	site := &acmeSite{https: httpsLn.Addr().String(), log: &logBuffer{}}
	cfg.Storage = newStorage(t)
	cfg.CA = directory
	cfg.HTTPAddr = httpLn.Addr().String()
	cfg.HTTPSAddr = httpsLn.Addr().String()
	cfg.Logger = slog.New(slog.NewTextHandler(site.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if p != nil {
		cfg.TrustedRoots = p.Client
		p.HTTP.SetTarget(httpLn.Addr().String())
		p.TLS.SetTarget(httpsLn.Addr().String())
	}
	site.m, err = NewACME(cfg)
	if err != nil {
		t.Fatal(err)
	}
	redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusMovedPermanently)
	})
	counted := site.m.HTTPHandler(redirect)
	httpSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") {
			site.challenges.Add(1)
		}
		counted.ServeHTTP(w, r)
	})}
	httpsSrv := &http.Server{
		Handler:  http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello")) }),
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	httpsSrv.TLSConfig = site.m.TLSConfig()
	go httpSrv.Serve(httpLn)
	go httpsSrv.ServeTLS(httpsLn, "", "")
	ctx, cancel := context.WithCancel(context.Background())
	if err := site.m.Manage(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		site.m.Stop()
		httpSrv.Close()
		httpsSrv.Close()
	})
	return site
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// served returns the certificate the site serves for name, verified
// against roots.
func served(t *testing.T, addr, name string, roots *x509.CertPool) *x509.Certificate {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: name})
	if err != nil {
		t.Fatalf("handshake for %q: %v", name, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

func TestACMEHTTP01(t *testing.T) {
	p := pebbletest.Start(t, pebbletest.Options{})
	site := startSite(t, p, p.Directory, ACMEConfig{Domains: []string{"placette.test", "www.placette.test"}, DisableTLSALPNChallenge: true})
	waitFor(t, "the certificates", func() bool {
		for _, st := range site.m.Status() {
			if st.NotAfter.IsZero() {
				return false
			}
		}
		return true
	})
	for _, name := range []string{"placette.test", "www.placette.test"} {
		c := served(t, site.https, name, p.Roots)
		if c.VerifyHostname(name) != nil {
			t.Errorf("certificate for %s names %q", name, c.DNSNames)
		}
	}
	// A client that sends no name gets the first domain's.
	conn, err := tls.Dial("tcp", site.https, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	chain := conn.ConnectionState().PeerCertificates
	conn.Close()
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{DNSName: "placette.test", Roots: p.Roots, Intermediates: inter}); err != nil {
		t.Errorf("certificate without SNI: %v", err)
	}
	if site.challenges.Load() == 0 {
		t.Error("no HTTP-01 challenge reached the HTTP listener")
	}
	if !strings.Contains(site.log.String(), "certificate obtained") {
		t.Errorf("nothing logged of the new certificate:\n%s", site.log)
	}
	for _, st := range site.m.Status() {
		if st.Error != "" || st.Issuer == "" || st.Obtaining {
			t.Errorf("status %+v", st)
		}
	}
	stored, err := Stored(context.Background(), site.m.cfg.Storage)
	if err != nil || len(stored) != 2 {
		t.Errorf("Stored = %+v, %v", stored, err)
	}
}

func TestACMETLSALPN01(t *testing.T) {
	p := pebbletest.Start(t, pebbletest.Options{})
	site := startSite(t, p, p.Directory, ACMEConfig{Domains: []string{"alpn.placette.test"}, DisableHTTPChallenge: true})
	waitFor(t, "the certificate", func() bool { return !site.m.Status()[0].NotAfter.IsZero() })
	served(t, site.https, "alpn.placette.test", p.Roots)
	if site.challenges.Load() != 0 {
		t.Error("an HTTP-01 challenge was used")
	}
}

func TestACMERenewsShortCertificates(t *testing.T) {
	p := pebbletest.Start(t, pebbletest.Options{Validity: 6})
	site := startSite(t, p, p.Directory, ACMEConfig{
		Domains:            []string{"short.placette.test"},
		RenewCheckInterval: 300 * time.Millisecond,
		RenewalWindowRatio: 0.5,
	})
	waitFor(t, "the certificate", func() bool { return !site.m.Status()[0].NotAfter.IsZero() })
	first := served(t, site.https, "short.placette.test", p.Roots)
	waitFor(t, "a renewed certificate", func() bool {
		c := served(t, site.https, "short.placette.test", p.Roots)
		return c.SerialNumber.Cmp(first.SerialNumber) != 0
	})
	if !strings.Contains(site.log.String(), "renewal=true") {
		t.Errorf("the renewal was not logged:\n%s", site.log)
	}
}

func TestACMERefused(t *testing.T) {
	p := pebbletest.Start(t, pebbletest.Options{Blocked: []string{"refused.test"}})
	site := startSite(t, p, p.Directory, ACMEConfig{Domains: []string{"refused.test"}})
	waitFor(t, "the failure", func() bool { return site.m.Status()[0].Error != "" })
	st := site.m.Status()[0]
	if !st.NotAfter.IsZero() || st.ErrorAt.IsZero() {
		t.Errorf("status %+v", st)
	}
	if !strings.Contains(site.log.String(), "certificate not obtained") {
		t.Errorf("the failure was not logged:\n%s", site.log)
	}
}

func TestACMEServerDown(t *testing.T) {
	var requests atomic.Int32
	down := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	roots := x509.NewCertPool()
	roots.AddCert(down.Certificate())
	site := startSite(t, nil, down.URL+"/dir", ACMEConfig{Domains: []string{"down.placette.test"}, TrustedRoots: roots})
	waitFor(t, "the failure", func() bool { return site.m.Status()[0].Error != "" })
	n := requests.Load()
	// certmagic waits a minute before trying again: the server is not
	// hammered meanwhile.
	time.Sleep(300 * time.Millisecond)
	if got := requests.Load(); got != n {
		t.Errorf("%d more requests right after a failure", got-n)
	}
	// The HTTP listener still answers, with a redirect.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get("http://" + site.m.cfg.HTTPAddr + "/wiki/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently {
		t.Errorf("HTTP status %d, want 301", resp.StatusCode)
	}
}
