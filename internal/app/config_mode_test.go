package app_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"codeberg.org/placette/placette/internal/app"
	"codeberg.org/placette/placette/internal/app/apptest"
	"codeberg.org/placette/placette/internal/control"
)

func TestWithModeDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		change   func(*app.Config)
		explicit []string
		mode     app.Mode
		http     string
		https    string
		smtp     string
		mail     string
	}{
		{name: "local", change: func(*app.Config) {}, mode: app.ModeLocal, http: "127.0.0.1:8080", smtp: "127.0.0.1:2525", mail: "localhost"},
		{name: "public", change: func(c *app.Config) { c.Domains = []string{"placette.example.org", "www.example.org"} },
			mode: app.ModePublic, http: ":80", https: ":443", smtp: ":25", mail: "placette.example.org"},
		{name: "public, ports given", change: func(c *app.Config) {
			c.Domains = []string{"placette.example.org"}
			c.HTTPAddr, c.HTTPSAddr, c.SMTPAddr, c.MailDomain = ":8080", ":8443", ":2525", "example.org"
		}, explicit: []string{"http", "https", "smtp", "mail-domain"},
			mode: app.ModePublic, http: ":8080", https: ":8443", smtp: ":2525", mail: "example.org"},
		{name: "public with LMTP", change: func(c *app.Config) {
			c.Domains = []string{"placette.example.org"}
			c.LMTPAddr = "unix:/run/placette/lmtp.sock"
		}, explicit: []string{"lmtp"}, mode: app.ModePublic, http: ":80", https: ":443", smtp: "127.0.0.1:2525", mail: "placette.example.org"},
		{name: "LAN", change: func(c *app.Config) { c.LocalCA = true }, mode: app.ModeLAN, http: ":80", https: ":443", smtp: "127.0.0.1:2525", mail: "localhost"},
		{name: "proxy", change: func(c *app.Config) { c.BehindProxy = true }, mode: app.ModeProxy, http: "127.0.0.1:8080", smtp: "127.0.0.1:2525", mail: "localhost"},
		{name: "proxy with a domain", change: func(c *app.Config) {
			c.BehindProxy = true
			c.Domains = []string{"liste.example.org"}
		}, mode: app.ModeProxy, http: "127.0.0.1:8080", smtp: "127.0.0.1:2525", mail: "liste.example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := app.DefaultConfig()
			tt.change(&c)
			explicit := map[string]bool{}
			for _, e := range tt.explicit {
				explicit[e] = true
			}
			c = c.WithModeDefaults(func(f string) bool { return explicit[f] })
			if c.Mode() != tt.mode || c.HTTPAddr != tt.http || c.HTTPSAddr != tt.https || c.SMTPAddr != tt.smtp || c.MailDomain != tt.mail {
				t.Errorf("mode %s, http %q, https %q, smtp %q, mail %q; want %s, %q, %q, %q, %q",
					c.Mode(), c.HTTPAddr, c.HTTPSAddr, c.SMTPAddr, c.MailDomain, tt.mode, tt.http, tt.https, tt.smtp, tt.mail)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestValidateModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*app.Config)
		want   string
	}{
		{"https without a mode", func(c *app.Config) { c.HTTPSAddr = ":443" }, "-https: only with -domain"},
		{"proxy and LAN", func(c *app.Config) { c.BehindProxy, c.LocalCA = true, true }, "choose one"},
		{"public localhost", func(c *app.Config) { c.Domains, c.HTTPSAddr = []string{"localhost"}, ":443" }, "only public names"},
		{"public address", func(c *app.Config) { c.Domains, c.HTTPSAddr = []string{"192.168.1.2"}, ":443" }, "only public names"},
		{"public .local", func(c *app.Config) { c.Domains, c.HTTPSAddr = []string{"pi.local"}, ":443" }, "only public names"},
		{"bad domain", func(c *app.Config) { c.Domains, c.HTTPSAddr = []string{"a_b.example"}, ":443" }, "not a domain name"},
		{"same ports", func(c *app.Config) { c.Domains, c.HTTPAddr, c.HTTPSAddr = []string{"a.example"}, ":80", ":80" }, "the same address as -http"},
		{"public without https", func(c *app.Config) { c.Domains = []string{"a.example"} }, "-https"},
		{"acme email outside public mode", func(c *app.Config) { c.ACMEEmail = "a@example.org" }, "-acme-email: only in public mode"},
		{"acme CA outside public mode", func(c *app.Config) { c.LocalCA, c.HTTPSAddr, c.ACMECA = true, ":443", "https://ca.example/dir" }, "-acme-ca: only in public mode"},
		{"bad acme email", func(c *app.Config) { c.Domains, c.HTTPSAddr, c.ACMEEmail = []string{"a.example"}, ":443", "nobody" }, "not a mail address"},
		{"plain http CA", func(c *app.Config) {
			c.Domains, c.HTTPSAddr, c.ACMECA = []string{"a.example"}, ":443", "http://ca.example/dir"
		}, "not an https:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := app.DefaultConfig()
			tt.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

func TestParseDomains(t *testing.T) {
	t.Parallel()
	got, err := app.ParseDomains(" Placette.Example.org., www.example.org,,placette.example.org")
	if err != nil || strings.Join(got, " ") != "placette.example.org www.example.org" {
		t.Errorf("ParseDomains = %q, %v", got, err)
	}
	for _, bad := range []string{"", ",", "exa mple.org", "a..b"} {
		if _, err := app.ParseDomains(bad); err == nil {
			t.Errorf("ParseDomains(%q) succeeded", bad)
		}
	}
}

func FuzzParseDomains(f *testing.F) {
	for _, s := range []string{"a.example,b.example", " x.org. ", "é.fr", ",,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ds, err := app.ParseDomains(s)
		if err != nil {
			return
		}
		for _, d := range ds {
			if err := app.CheckMailDomain(d); err != nil || strings.ContainsAny(d, ", ") {
				t.Fatalf("ParseDomains(%q) gave %q", s, d)
			}
		}
	})
}

// TestProxyModeURLs checks that, behind a proxy given the site's name, the
// links in mail use it, and the status page says the mode.
func TestProxyModeURLs(t *testing.T) {
	t.Parallel()
	cfg := testConfig(apptest.TempDir(t))
	cfg.BehindProxy = true
	cfg.Domains = []string{"liste.example.org"}
	cfg.MailDomain = "liste.example.org"
	cfg.DNS = fakeDNS{}
	inst := apptest.StartConfig(t, cfg)
	if got := inst.App.BaseURL(); got != "https://liste.example.org" {
		t.Errorf("BaseURL = %q", got)
	}
	if inst.App.HTTPSAddr() != "" || !strings.HasPrefix(inst.URL, "http://127.0.0.1:") {
		t.Errorf("behind a proxy: HTTPS %q, URL %q", inst.App.HTTPSAddr(), inst.URL)
	}
	var out bytes.Buffer
	if err := app.Call(context.Background(), inst.DataDir, &control.Call{Name: "doctor", Stdout: &out, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"proxy mode", "https://liste.example.org", "ok liste.example.org A/AAAA", "ok liste.example.org MX"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("doctor does not say %q:\n%s", want, out.String())
		}
	}
}
