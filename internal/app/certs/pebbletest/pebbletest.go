// Package pebbletest runs a real ACME server, Pebble (the Let's Encrypt
// test server, github.com/letsencrypt/pebble/v2), inside a test, on
// loopback only: with a DNS server that answers 127.0.0.1 for every name,
// and forwarders that take its HTTP-01 and TLS-ALPN-01 validations to the
// listeners under test, whose ports are known only once they start.
//
// Only tests import this package: placette's binary never contains
// Pebble.
package pebbletest

import (
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"
)

// Options change the server a test starts.
type Options struct {
	// Validity is the lifetime of the certificates, in seconds; 0 for
	// Pebble's default (90 days).
	Validity uint64
	// Blocked are names the server refuses to issue for.
	Blocked []string
}

// Server is a running Pebble.
type Server struct {
	// Directory is the ACME directory URL.
	Directory string
	// Client trusts the ACME server's own HTTPS certificate.
	Client *x509.CertPool
	// Roots trusts the certificates the server issues.
	Roots *x509.CertPool

	// HTTP and TLS forward the validations of the HTTP-01 and TLS-ALPN-01
	// challenges: point them at the listeners under test.
	HTTP, TLS *Forwarder

	ca *ca.CAImpl
}

// Start runs Pebble for the test t, stopped at its end. It sets Pebble's
// environment variables (no random sleeps, no refused nonces, no reused
// authorizations) with t.Setenv, so t must not be parallel.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	t.Setenv("PEBBLE_AUTHZREUSE", "0")

	dnsAddr := startDNS(t)
	s := &Server{HTTP: newForwarder(t), TLS: newForwarder(t)}
	logger := log.New(io.Discard, "", 0)
	store := db.NewMemoryStore()
	for _, b := range opts.Blocked {
		if err := store.AddBlockedDomain(b); err != nil {
			t.Fatal(err)
		}
	}
	profiles := map[string]ca.Profile{"default": {Description: "test", ValidityPeriod: opts.Validity}}
	s.ca = ca.New(logger, store, "", "ecdsa", 0, 1, profiles)
	v := va.New(logger, s.HTTP.Port(), s.TLS.Port(), false, dnsAddr, store)
	w := wfe.New(logger, store, v, s.ca, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)
	srv := httptest.NewUnstartedServer(w.Handler())
	srv.StartTLS()
	t.Cleanup(srv.Close)
	s.Directory = srv.URL + wfe.DirectoryPath
	s.Client = x509.NewCertPool()
	s.Client.AddCert(srv.Certificate())
	s.Roots = x509.NewCertPool()
	s.Roots.AddCert(s.ca.GetRootCert(0).Cert)
	return s
}

// startDNS answers A 127.0.0.1 for every name over TCP (Pebble's
// resolver uses TCP), nothing for other types.
func startDNS(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		for _, q := range r.Question {
			if q.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
					A:   net.IPv4(127, 0, 0, 1),
				})
			}
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().String()
}

// Forwarder takes the connections of Pebble's validation to a target set
// once the listener under test runs.
type Forwarder struct {
	ln     net.Listener
	target atomic.Pointer[string]
	ready  chan struct{} // closed when the first target is set
	once   sync.Once
	wg     sync.WaitGroup // the connections being forwarded
}

func newForwarder(t testing.TB) *Forwarder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &Forwarder{ln: ln, ready: make(chan struct{})}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				f.forward(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		f.wg.Wait()
	})
	return f
}

// Port returns the port Pebble validates on.
func (f *Forwarder) Port() int { return f.ln.Addr().(*net.TCPAddr).Port }

// SetTarget sends the next validations to addr. Validations that come
// before the first target wait for it (a few seconds at most).
func (f *Forwarder) SetTarget(addr string) {
	f.target.Store(&addr)
	f.once.Do(func() { close(f.ready) })
}

func (f *Forwarder) forward(c net.Conn) {
	defer c.Close()
	select {
	case <-f.ready:
	case <-time.After(10 * time.Second):
		return
	}
	target := f.target.Load()
	u, err := net.Dial("tcp", *target)
	if err != nil {
		return
	}
	defer u.Close()
	done := make(chan struct{})
	go func() {
		io.Copy(u, c)
		if tc, ok := u.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		close(done)
	}()
	io.Copy(c, u)
	c.Close()
	<-done
}

// PortOf returns the port of a listener's address "host:port".
func PortOf(addr string) (int, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return 0, errors.New("not a numeric port")
	}
	return n, nil
}
