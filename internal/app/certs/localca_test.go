package certs

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLocalCAServesVerifiableHTTPS(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ca, err := OpenLocalCA(db, "placette-pi", nil)
	if err != nil {
		t.Fatal(err)
	}
	names := HostNames("placette-pi", []net.Addr{
		&net.IPNet{IP: net.IPv4(127, 0, 0, 1)},
		&net.IPNet{IP: net.IPv4(192, 168, 1, 20)},
		&net.IPNet{IP: net.ParseIP("fe80::1")},
		&net.IPNet{IP: net.IPv4(203, 0, 113, 9)}, // public: left out
	})
	want := []string{"placette-pi", "placette-pi.local", "localhost", "127.0.0.1", "192.168.1.20", "203.0.113.9"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("HostNames = %q, want %q", names, want)
	}
	if err := ca.SetNames(names); err != nil {
		t.Fatal(err)
	}
	// Not httptest's StartTLS: its own certificate would answer the
	// handshakes that name no server.
	ln, err := tls.Listen("tcp", "127.0.0.1:0", ca.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ErrorLog: log.New(io.Discard, "", 0), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })}
	go srv.Serve(ln)
	defer srv.Close()
	addr := ln.Addr().String()

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca.RootPEM()) {
		t.Fatal("the offered root is not PEM")
	}
	for _, name := range []string{"placette-pi", "placette-pi.local", "localhost", "127.0.0.1", "192.168.1.20"} {
		t.Run(name, func(t *testing.T) {
			// For an address, the client sends no name (SNI).
			conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: name})
			if err != nil {
				t.Fatalf("handshake for %s: %v", name, err)
			}
			conn.Close()
		})
	}
	t.Run("public address refused", func(t *testing.T) {
		_, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "203.0.113.9"})
		if err == nil {
			t.Fatal("the certificate covers a public address")
		}
	})
	t.Run("other name refused", func(t *testing.T) {
		_, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "example.org"})
		if err == nil {
			t.Fatal("the certificate verifies for example.org")
		}
	})
	t.Run("fingerprint", func(t *testing.T) {
		fp := ca.Fingerprint()
		if len(fp) != 32*3-1 || strings.Count(fp, ":") != 31 || fp != strings.ToUpper(fp) {
			t.Errorf("fingerprint %q", fp)
		}
	})

	// Reopened, the authority and its certificate are the same.
	ca2, err := OpenLocalCA(db, "another-name", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ca2.Fingerprint() != ca.Fingerprint() {
		t.Error("the root changed when reopened")
	}
	if err := ca2.SetNames(names[:3]); err != nil {
		t.Fatal(err)
	}
	c1, _ := ca.GetCertificate(nil)
	c2, _ := ca2.GetCertificate(nil)
	if c1.Leaf.SerialNumber.Cmp(c2.Leaf.SerialNumber) != 0 {
		t.Error("a stored certificate that covers the names was issued again")
	}
	// A new address makes a new certificate.
	if err := ca2.SetNames(append(names[:3:3], "10.0.0.7")); err != nil {
		t.Fatal(err)
	}
	c3, _ := ca2.GetCertificate(nil)
	if c3.Leaf.SerialNumber.Cmp(c1.Leaf.SerialNumber) == 0 || c3.Leaf.VerifyHostname("10.0.0.7") != nil {
		t.Error("a new address did not give a new certificate")
	}
	// Late in its life, it is renewed.
	ca2.now = func() time.Time { return time.Now().Add(300 * 24 * time.Hour) }
	if err := ca2.refresh(); err != nil {
		t.Fatal(err)
	}
	c4, _ := ca2.GetCertificate(nil)
	if c4.Leaf.SerialNumber.Cmp(c3.Leaf.SerialNumber) == 0 {
		t.Error("a certificate in its last third was not renewed")
	}
	if st := ca2.Status(); st.NotAfter.IsZero() || st.Issuer == "" {
		t.Errorf("Status = %+v", st)
	}
}

func TestLocalCANoName(t *testing.T) {
	t.Parallel()
	ca, err := OpenLocalCA(openDB(t), "pi", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.SetNames([]string{"example.org", "8.8.8.8"}); err == nil {
		t.Error("SetNames with only public names succeeded")
	}
}
