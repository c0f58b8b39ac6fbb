package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/app"
	"codeberg.org/placette/placette/internal/app/apptest"
	"codeberg.org/placette/placette/internal/app/certs/pebbletest"
	"codeberg.org/placette/placette/internal/control"
	"github.com/emersion/go-smtp"
)

// fakeDNS answers the status page's lookups without a network: the site's
// names are at 127.0.0.1, the mail domain has its MX and nothing else.
type fakeDNS struct{}

func (fakeDNS) LookupTXT(ctx context.Context, name string) ([]string, error) {
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (fakeDNS) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	return []*net.MX{{Host: name + ".", Pref: 10}}, nil
}

func (fakeDNS) LookupHost(ctx context.Context, host string) ([]string, error) {
	return []string{"127.0.0.1"}, nil
}

// publicConfig is a public-mode configuration for the domains, with
// certificates from p, every listener on loopback.
func publicConfig(dir string, p *pebbletest.Server, domains ...string) app.Config {
	cfg := testConfig(dir)
	cfg.Domains = domains
	cfg.HTTPSAddr = "127.0.0.1:0"
	cfg.MailDomain = domains[0]
	cfg.ACMECA = p.Directory
	cfg.ACMERoots = p.Client
	cfg.DNS = fakeDNS{}
	cfg.LogLevel = "debug"
	return cfg
}

// startPublic starts a public-mode instance and waits for its
// certificate.
func startPublic(t *testing.T, p *pebbletest.Server, cfg app.Config) *apptest.Instance {
	t.Helper()
	inst := apptest.StartConfig(t, cfg)
	p.HTTP.SetTarget(inst.App.HTTPAddr())
	p.TLS.SetTarget(inst.App.HTTPSAddr())
	inst.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.Roots, ServerName: cfg.Domains[0]}}
	for _, name := range cfg.Domains {
		for deadline := time.Now().Add(2 * time.Minute); ; {
			conn, err := tls.Dial("tcp", inst.App.HTTPSAddr(), &tls.Config{RootCAs: p.Roots, ServerName: name})
			if err == nil {
				conn.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no certificate for %s after two minutes: %v\nlog:\n%s", name, err, inst.Log)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return inst
}

// noFollow is a client that shows redirects.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestPublicMode(t *testing.T) {
	p := pebbletest.Start(t, pebbletest.Options{})
	cfg := publicConfig(apptest.TempDir(t), p, "placette.test", "www.placette.test")
	inst := startPublic(t, p, cfg)

	t.Run("HTTPS", func(t *testing.T) {
		for _, name := range cfg.Domains {
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.Roots, ServerName: name}, ForceAttemptHTTP2: true}
			resp, err := (&http.Client{Transport: tr}).Get(inst.URL + "/healthz")
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") == "" {
				t.Errorf("%s: status %d, HSTS %q", name, resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
			}
			if resp.ProtoMajor != 2 {
				t.Errorf("%s: %s, want HTTP/2", name, resp.Proto)
			}
		}
	})
	t.Run("HTTP redirects", func(t *testing.T) {
		for _, tc := range []struct{ host, want string }{
			{"www.placette.test", "https://www.placette.test/wiki/x?y=1"},
			{"placette.test:80", "https://placette.test/wiki/x?y=1"},
			{"stranger.example", "https://placette.test/wiki/x?y=1"},
		} {
			req, _ := http.NewRequest("GET", "http://"+inst.App.HTTPAddr()+"/wiki/x?y=1", nil)
			req.Host = tc.host
			resp, err := noFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != tc.want {
				t.Errorf("Host %s: %d to %q, want 301 to %q", tc.host, resp.StatusCode, resp.Header.Get("Location"), tc.want)
			}
		}
	})
	t.Run("STARTTLS", func(t *testing.T) {
		for _, sni := range []string{"placette.test", ""} {
			conf := &tls.Config{RootCAs: p.Roots, ServerName: sni}
			if sni == "" {
				// No name sent (go-smtp names the server 127.0.0.1, an
				// address, which TLS never sends), as many mail servers do:
				// the first domain's certificate is served; check it by hand.
				conf = &tls.Config{InsecureSkipVerify: true, VerifyConnection: verifyAs("placette.test", p.Roots)}
			}
			c, err := smtp.DialStartTLS(inst.Mail, conf)
			if err != nil {
				t.Fatalf("STARTTLS with SNI %q: %v", sni, err)
			}
			if _, ok := c.TLSConnectionState(); !ok {
				t.Error("no TLS after STARTTLS")
			}
			c.Quit()
		}
	})
	t.Run("status page", func(t *testing.T) {
		admin := inst.CreateAdmin(t, "sam", adminPassword)
		status, body := inst.Get(t, admin, "/admin/")
		if status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
		for _, want := range []string{"État du serveur", "www.placette.test", "Pebble", "_dmarc.placette.test", "En attente d’envoi", "Base de données"} {
			if !strings.Contains(body, want) {
				t.Errorf("the status page does not say %q:\n%s", want, body)
			}
		}
	})
	t.Run("doctor", func(t *testing.T) {
		var out bytes.Buffer
		if err := app.Call(context.Background(), inst.DataDir, &control.Call{Name: "doctor", Stdout: &out, Stderr: io.Discard}); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"public mode", "https://placette.test", "placette.test: expires", "ok placette.test A/AAAA", "PROBLEM _dmarc.placette.test"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("doctor does not say %q:\n%s", want, out.String())
			}
		}
	})
}

// verifyAs checks a connection's certificate for name against roots.
func verifyAs(name string, roots *x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter})
		return err
	}
}

func TestPublicModeACMEDown(t *testing.T) {
	t.Parallel()
	cfg := testConfig(apptest.TempDir(t))
	cfg.Domains = []string{"placette.test"}
	cfg.HTTPSAddr = "127.0.0.1:0"
	cfg.ACMECA = "https://127.0.0.1:1/directory" // nothing listens there
	cfg.DNS = fakeDNS{}
	inst := apptest.StartConfig(t, cfg)
	// The HTTP listener redirects, the status page and the log say what
	// is wrong, the control socket answers.
	resp, err := noFollow.Get("http://" + inst.App.HTTPAddr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently {
		t.Errorf("HTTP status %d, want 301", resp.StatusCode)
	}
	var out bytes.Buffer
	for deadline := time.Now().Add(time.Minute); !strings.Contains(out.String(), "PROBLEM placette.test: last attempt failed"); {
		if time.Now().After(deadline) {
			t.Fatalf("doctor never reported the failure:\n%s\nlog:\n%s", out.String(), inst.Log)
		}
		time.Sleep(50 * time.Millisecond)
		out.Reset()
		if err := app.Call(context.Background(), inst.DataDir, &control.Call{Name: "doctor", Args: []string{"-no-dns"}, Stdout: &out, Stderr: io.Discard}); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(inst.Log.String(), "certificate not obtained") {
		t.Errorf("the log does not say the certificate failed:\n%s", inst.Log)
	}
}

func TestLANMode(t *testing.T) {
	t.Parallel()
	cfg := testConfig(apptest.TempDir(t))
	cfg.LocalCA = true
	cfg.HTTPSAddr = "127.0.0.1:0"
	inst := apptest.StartConfig(t, cfg)

	// The root certificate, over plain HTTP, before anything is trusted.
	resp, err := http.Get("http://" + inst.App.HTTPAddr() + "/ca.crt")
	if err != nil {
		t.Fatal(err)
	}
	der, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-x509-ca-cert" {
		t.Fatalf("GET /ca.crt: %d %q %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	root, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(root)

	for _, name := range []string{"localhost", "127.0.0.1"} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: name}}
		resp, err := (&http.Client{Transport: tr}).Get(inst.URL + "/healthz")
		if err != nil {
			t.Fatalf("HTTPS as %s: %v", name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("HTTPS as %s: status %d", name, resp.StatusCode)
		}
	}
	// The HTTP listener redirects to the HTTPS port.
	req, _ := http.NewRequest("GET", "http://"+inst.App.HTTPAddr()+"/lists/", nil)
	req.Host = "localhost"
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, port, _ := net.SplitHostPort(inst.App.HTTPSAddr())
	if want := "https://localhost:" + port + "/lists/"; resp.Header.Get("Location") != want {
		t.Errorf("redirect to %q, want %q", resp.Header.Get("Location"), want)
	}
	// The administration shows the fingerprint of that root.
	inst.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}}
	admin := inst.CreateAdmin(t, "sam", adminPassword)
	_, body := inst.Get(t, admin, "/admin/")
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	if !strings.Contains(body, h[:2]+":"+h[2:4]+":"+h[4:6]) || !strings.Contains(body, `href="/ca.crt"`) || !strings.Contains(body, "Android") {
		t.Errorf("the status page does not show the root's fingerprint %s:\n%s", h, body)
	}
}

// zipOf returns a zip archive of files.
func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestBackupRestore restores a backup in a fresh data folder: pages,
// lists, accounts and certificates are all there, and the certificate is
// served again without asking the authority.
func TestBackupRestore(t *testing.T) {
	p := pebbletest.Start(t, pebbletest.Options{})
	cfg := publicConfig(apptest.TempDir(t), p, "backup.placette.test")
	inst := startPublic(t, p, cfg)
	inst.CreateAdmin(t, "sam", adminPassword)
	ctx := context.Background()
	call := func(dir, name string, stdin io.Reader, args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if stdin == nil {
			stdin = strings.NewReader("")
		}
		if err := app.Call(ctx, dir, &control.Call{Name: name, Args: args, Stdin: stdin, Stdout: &out, Stderr: io.Discard}); err != nil {
			t.Fatalf("%s %q: %v", name, args, err)
		}
		return out.String()
	}
	call(inst.DataDir, "wiki", bytes.NewReader(zipOf(t, map[string]string{"atelier-smartphone.md": "# Atelier smartphone\n\nPrendre en main son téléphone.\n"})), "import")
	call(inst.DataDir, "list", nil, "create", "entraide")
	conn, err := tls.Dial("tcp", inst.App.HTTPSAddr(), &tls.Config{RootCAs: p.Roots, ServerName: "backup.placette.test"})
	if err != nil {
		t.Fatal(err)
	}
	serial := conn.ConnectionState().PeerCertificates[0].SerialNumber
	conn.Close()

	backup := filepath.Join(apptest.TempDir(t), "backup.db")
	f, err := os.Create(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Call(ctx, inst.DataDir, &control.Call{Name: "backup", Stdout: f, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := inst.App.Close(); err != nil {
		t.Fatal(err)
	}

	// The restore procedure of the documentation: a fresh data folder,
	// the backup copied to DATA/placette.db, placette started with the
	// same settings. The certificate served must be the one backed up,
	// not a new one.
	fresh := filepath.Join(apptest.TempDir(t), "data")
	if err := os.MkdirAll(fresh, 0o700); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(app.DBPath(fresh), data, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg2 := cfg
	cfg2.DataDir = fresh
	restored := apptest.StartConfig(t, cfg2)
	restored.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.Roots, ServerName: "backup.placette.test"}}
	// certmagic loads the stored certificate in the background, just
	// after the start.
	for deadline := time.Now().Add(time.Minute); ; {
		conn, err = tls.Dial("tcp", restored.App.HTTPSAddr(), &tls.Config{RootCAs: p.Roots, ServerName: "backup.placette.test"})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restored certificate is not served: %v\nlog:\n%s", err, restored.Log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := conn.ConnectionState().PeerCertificates[0].SerialNumber; got.Cmp(serial) != 0 {
		t.Errorf("served certificate %v, want the backed up %v", got, serial)
	}
	conn.Close()
	c := restored.Login(t, "sam", adminPassword)
	if status, body := restored.Get(t, c, "/wiki/atelier-smartphone"); status != http.StatusOK || !strings.Contains(body, "Prendre en main") {
		t.Errorf("restored page: %d\n%s", status, body)
	}
	if status, _ := restored.Get(t, c, "/lists/entraide/"); status != http.StatusOK {
		t.Errorf("restored list: status %d", status)
	}
}
