// Package app wires placette together: it opens the data folder, builds the
// packages' handlers over one database, and runs the listeners and the
// control socket until it is told to stop. cmd/placette turns flags and the
// environment into a Config and calls it; end-to-end tests start it on
// 127.0.0.1:0 through package apptest.
package app

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Config holds placette's start-up settings. Everything else (lists,
// accounts, pages, relay) lives in the database.
type Config struct {
	// DataDir is the data folder: placette.db, the control socket, later
	// the search index and certificates.
	DataDir string
	// HTTPAddr is the address of the web listener.
	HTTPAddr string
	// BehindProxy serves plain HTTP for a reverse proxy on this machine,
	// trusting its X-Forwarded-For, and marks cookies Secure.
	BehindProxy bool
	// SMTPAddr is the address of the SMTP listener that receives the
	// lists' mail; "" for none.
	SMTPAddr string
	// SMTPSAddr is the address of an SMTP listener with implicit TLS
	// (submission style, usually :465), on the certificates of the public
	// or LAN mode; "" for none.
	SMTPSAddr string
	// LMTPAddr is the address of an LMTP listener, "unix:/path" or
	// host:port, for mail from a local MTA; when set, SMTPAddr is not
	// used.
	LMTPAddr string
	// MailDomain is the lists' mail domain; "" for the one placette last
	// ran with (a command run without the server).
	MailDomain string
	// LogFormat is "text" or "json".
	LogFormat string
	// LogLevel is "debug", "info", "warn" or "error".
	LogLevel string

	// Domains are the site's names. Alone, they turn on the public mode:
	// HTTPS on HTTPSAddr with certificates from an ACME authority, HTTP on
	// HTTPAddr for its challenges and redirects. With BehindProxy they
	// only name the site (the proxy does TLS); with LocalCA they are added
	// to the host's names in the local certificate.
	Domains []string
	// HTTPSAddr is the address of the HTTPS listener, in public and LAN
	// modes.
	HTTPSAddr string
	// ACMEEmail is the contact of the ACME account (public mode); can be
	// empty.
	ACMEEmail string
	// ACMECA is the ACME directory URL (public mode); "" for Let's
	// Encrypt.
	ACMECA string
	// LocalCA turns on the LAN mode: HTTPS with certificates from a
	// certificate authority that placette creates in the database, for a
	// network without a public name.
	LocalCA bool

	// ACMERoots are the authorities that the ACME server's own certificate
	// must chain to; nil for the system's. Tests trust Pebble with it.
	ACMERoots *x509.CertPool
	// CertCheckInterval is how often certificates are checked for
	// renewal; 0 for certmagic's default (10 minutes). Tests shorten it.
	CertCheckInterval time.Duration
	// DNS answers the status page's lookups; nil for the system's
	// resolver. Tests give a fake one.
	DNS Resolver
}

// Resolver is the part of net.Resolver the status checks use.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
}

var _ Resolver = (*net.Resolver)(nil)

// Mode is how placette is reached (DESIGN.md, "Modes").
type Mode string

// The modes.
const (
	ModeLocal  Mode = "local"  // no flags: HTTP and SMTP on loopback
	ModePublic Mode = "public" // -domain: HTTPS with ACME certificates
	ModeProxy  Mode = "proxy"  // -behind-proxy: plain HTTP behind a reverse proxy
	ModeLAN    Mode = "lan"    // -local-ca: HTTPS from a local authority
)

// Mode returns the mode c asks for.
func (c *Config) Mode() Mode {
	switch {
	case c.BehindProxy:
		return ModeProxy
	case c.LocalCA:
		return ModeLAN
	case len(c.Domains) > 0:
		return ModePublic
	}
	return ModeLocal
}

// Listeners and names of the public and LAN modes, for the settings the
// command line leaves unset.
const (
	PublicHTTPAddr  = ":80"
	PublicHTTPSAddr = ":443"
	PublicSMTPAddr  = ":25"
)

// WithModeDefaults returns c with its mode's defaults for every setting
// the person did not give: explicit reports whether a flag ("http",
// "https", "smtp", "mail-domain") was given, on the command line or in
// the environment. Public mode listens on :80, :443 and :25 and takes the
// first domain as the mail domain; LAN mode on :80 and :443; behind a
// proxy, the first domain, if any, is the mail domain.
func (c Config) WithModeDefaults(explicit func(flag string) bool) Config {
	set := func(flag string, p *string, v string) {
		if !explicit(flag) {
			*p = v
		}
	}
	switch c.Mode() {
	case ModePublic:
		set("http", &c.HTTPAddr, PublicHTTPAddr)
		set("https", &c.HTTPSAddr, PublicHTTPSAddr)
		if c.LMTPAddr == "" {
			set("smtp", &c.SMTPAddr, PublicSMTPAddr)
		}
		set("mail-domain", &c.MailDomain, c.Domains[0])
	case ModeLAN:
		set("http", &c.HTTPAddr, PublicHTTPAddr)
		set("https", &c.HTTPSAddr, PublicHTTPSAddr)
	case ModeProxy:
		if len(c.Domains) > 0 {
			set("mail-domain", &c.MailDomain, c.Domains[0])
		}
	}
	return c
}

// ParseDomains splits a comma-separated list of names, checking each: for
// the command line's -domain.
func ParseDomains(s string) ([]string, error) {
	var out []string
	for _, d := range strings.Split(s, ",") {
		d = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
		if d == "" {
			continue
		}
		if err := CheckMailDomain(d); err != nil {
			return nil, fmt.Errorf("%q: %w", d, err)
		}
		if !containsString(out, d) {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no domain name")
	}
	return out, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Defaults of the local mode: nothing to set to try placette.
const (
	DefaultDataDir    = "./placette-data"
	DefaultHTTPAddr   = "127.0.0.1:8080"
	DefaultSMTPAddr   = "127.0.0.1:2525"
	DefaultMailDomain = "localhost"
)

// DefaultConfig returns the configuration of the local mode.
func DefaultConfig() Config {
	return Config{
		DataDir:    DefaultDataDir,
		HTTPAddr:   DefaultHTTPAddr,
		SMTPAddr:   DefaultSMTPAddr,
		MailDomain: DefaultMailDomain,
		LogFormat:  "text",
		LogLevel:   "info",
	}
}

// Validate checks c and returns every problem in one error, each on its own
// line.
func (c *Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, errors.New("-data: the data folder must be named"))
	}
	if err := CheckHTTPAddr(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("-http %q: %w", c.HTTPAddr, err))
	}
	if c.SMTPAddr != "" && c.LMTPAddr == "" {
		if err := CheckHTTPAddr(c.SMTPAddr); err != nil {
			errs = append(errs, fmt.Errorf("-smtp %q: %w", c.SMTPAddr, err))
		}
	}
	if c.SMTPSAddr != "" {
		if err := CheckHTTPAddr(c.SMTPSAddr); err != nil {
			errs = append(errs, fmt.Errorf("-smtps %q: %w", c.SMTPSAddr, err))
		} else if len(c.Domains) == 0 && !c.LocalCA || c.BehindProxy {
			errs = append(errs, errors.New("-smtps: only in public mode (-domain) or LAN mode (-local-ca), where placette has certificates"))
		}
	}
	if err := CheckLMTPAddr(c.LMTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("-lmtp %q: %w", c.LMTPAddr, err))
	}
	if err := CheckMailDomain(c.MailDomain); c.MailDomain != "" && err != nil {
		errs = append(errs, fmt.Errorf("-mail-domain %q: %w", c.MailDomain, err))
	}
	if err := CheckLogFormat(c.LogFormat); err != nil {
		errs = append(errs, fmt.Errorf("-log-format %q: %w", c.LogFormat, err))
	}
	if err := CheckLogLevel(c.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("-log-level %q: %w", c.LogLevel, err))
	}
	errs = append(errs, c.validateMode()...)
	return errors.Join(errs...)
}

// validateMode checks the settings of the public, LAN and proxy modes.
func (c *Config) validateMode() []error {
	var errs []error
	mode := c.Mode()
	for _, d := range c.Domains {
		if err := CheckMailDomain(d); err != nil {
			errs = append(errs, fmt.Errorf("-domain %q: %w", d, err))
			continue
		}
		if mode == ModePublic {
			if _, err := netip.ParseAddr(d); err == nil || !strings.Contains(d, ".") || d == "localhost" || strings.HasSuffix(d, ".local") {
				errs = append(errs, fmt.Errorf("-domain %q: a certificate authority signs only public names like example.org (for a local network, use -local-ca)", d))
			}
		}
	}
	if c.BehindProxy && c.LocalCA {
		errs = append(errs, errors.New("-behind-proxy and -local-ca: choose one (behind a proxy, the proxy does TLS)"))
	}
	switch mode {
	case ModePublic, ModeLAN:
		if err := CheckHTTPAddr(c.HTTPSAddr); err != nil {
			errs = append(errs, fmt.Errorf("-https %q: %w", c.HTTPSAddr, err))
		} else if _, port, _ := net.SplitHostPort(c.HTTPSAddr); c.HTTPSAddr == c.HTTPAddr && port != "0" {
			errs = append(errs, fmt.Errorf("-https %q: the same address as -http", c.HTTPSAddr))
		}
	default:
		if c.HTTPSAddr != "" {
			errs = append(errs, errors.New("-https: only with -domain (public mode) or -local-ca (LAN mode)"))
		}
	}
	if mode != ModePublic {
		if c.ACMEEmail != "" {
			errs = append(errs, errors.New("-acme-email: only in public mode (-domain without -behind-proxy or -local-ca)"))
		}
		if c.ACMECA != "" {
			errs = append(errs, errors.New("-acme-ca: only in public mode (-domain without -behind-proxy or -local-ca)"))
		}
	}
	if c.ACMEEmail != "" {
		if err := CheckEmail(c.ACMEEmail); err != nil {
			errs = append(errs, fmt.Errorf("-acme-email %q: %w", c.ACMEEmail, err))
		}
	}
	if c.ACMECA != "" {
		if err := CheckACMECA(c.ACMECA); err != nil {
			errs = append(errs, fmt.Errorf("-acme-ca %q: %w", c.ACMECA, err))
		}
	}
	return errs
}

// CheckEmail tells whether addr can be a Config's ACMEEmail.
func CheckEmail(addr string) error {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" || strings.ContainsAny(addr, " <>\t\r\n") || CheckMailDomain(domain) != nil {
		return errors.New("not a mail address")
	}
	return nil
}

// CheckACMECA tells whether u can be a Config's ACMECA: an https URL.
func CheckACMECA(u string) error {
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "https" || p.Host == "" {
		return errors.New("not an https:// URL of an ACME directory")
	}
	return nil
}

// CheckHTTPAddr tells whether addr can be a Config's HTTPAddr, for a
// command line that checks each setting as it reads it.
func CheckHTTPAddr(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return errors.New("not a host:port address")
	}
	return nil
}

// CheckLMTPAddr tells whether addr can be a Config's LMTPAddr: "" (none),
// "unix:/absolute/path" or host:port.
func CheckLMTPAddr(addr string) error {
	if addr == "" {
		return nil
	}
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		if !strings.HasPrefix(path, "/") {
			return errors.New("a unix socket needs an absolute path (unix:/run/placette/lmtp.sock)")
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return errors.New("not unix:/path nor a host:port address")
	}
	return nil
}

// CheckMailDomain tells whether name can be a Config's MailDomain.
func CheckMailDomain(name string) error {
	if name == "" || len(name) > 253 || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") {
		return errors.New("not a domain name")
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("not a domain name")
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return errors.New("not a domain name (letters, digits, - and . only)")
			}
		}
	}
	return nil
}

// CheckLogFormat tells whether format can be a Config's LogFormat.
func CheckLogFormat(format string) error {
	switch format {
	case "text", "json":
		return nil
	}
	return errors.New("must be text or json")
}

// CheckLogLevel tells whether level can be a Config's LogLevel.
func CheckLogLevel(level string) error {
	switch level {
	case "debug", "info", "warn", "error":
		return nil
	}
	return errors.New("must be debug, info, warn or error")
}
