package app_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"testing"

	"codeberg.org/placette/placette/internal/app/apptest"
	"github.com/emersion/go-smtp"
)

// TestSMTPS: in LAN mode, -smtps serves SMTP with implicit TLS on the
// local certificate, with and without SNI, and takes the lists' mail.
func TestSMTPS(t *testing.T) {
	t.Parallel()
	cfg := testConfig(apptest.TempDir(t))
	cfg.LocalCA = true
	cfg.HTTPSAddr = "127.0.0.1:0"
	cfg.SMTPSAddr = "127.0.0.1:0"
	inst := apptest.StartConfig(t, cfg)
	resp, err := http.Get("http://" + inst.App.HTTPAddr() + "/ca.crt")
	if err != nil {
		t.Fatal(err)
	}
	der, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	root, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(root)
	inst.Call(t, nil, "list", "create", "entraide")
	inst.Call(t, nil, "list", "members", "entraide", "add", "alice@example.net")

	for _, sni := range []string{"localhost", ""} {
		conf := &tls.Config{RootCAs: roots, ServerName: sni}
		if sni == "" {
			conf = &tls.Config{InsecureSkipVerify: true, VerifyConnection: verifyAs("localhost", roots)}
		}
		c, err := smtp.DialTLS(inst.App.SMTPSAddr(), conf)
		if err != nil {
			t.Fatalf("implicit TLS with SNI %q: %v", sni, err)
		}
		if err := c.Hello("client.example"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := c.Extension("STARTTLS"); ok {
			t.Error("STARTTLS offered on a connection that is already TLS")
		}
		msg := "From: alice@example.net\r\nSubject: Par TLS\r\nMessage-ID: <smtps-" + sni + "@example.net>\r\n\r\nBonjour.\r\n"
		if err := c.SendMail("alice@example.net", []string{"entraide@localhost"}, strings.NewReader(msg)); err != nil {
			t.Errorf("post over implicit TLS: %v", err)
		}
		c.Quit()
	}
	if out := inst.Call(t, nil, "list", "export", "entraide"); strings.Count(out, "Subject: Par TLS") != 2 {
		t.Errorf("the two posts are not in the archive:\n%s", out)
	}
}

func TestSMTPSNeedsCertificates(t *testing.T) {
	cfg := testConfig(apptest.TempDir(t))
	cfg.SMTPSAddr = "127.0.0.1:0"
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "-smtps") {
		t.Errorf("-smtps in local mode: %v", err)
	}
}
