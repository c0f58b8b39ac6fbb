package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
)

// LetsEncrypt is the directory of Let's Encrypt's production service, the
// default ACME certificate authority.
const LetsEncrypt = certmagic.LetsEncryptProductionCA

// ACMEConfig is what an ACME manager is built from.
type ACMEConfig struct {
	// Storage keeps certificates, keys and the ACME account.
	Storage *Storage
	// Domains are the names to get certificates for; the first is served
	// to TLS clients that send no name (mail servers often do not).
	Domains []string
	// Email is the ACME account's contact; can be empty.
	Email string
	// CA is the ACME directory URL; "" for Let's Encrypt.
	CA string
	// TrustedRoots verify the ACME server's own certificate; can be nil
	// (the system's roots). Tests trust their Pebble server with it.
	TrustedRoots *x509.CertPool
	// HTTPAddr and HTTPSAddr are the addresses placette listens on for
	// HTTP and HTTPS: the HTTP-01 and TLS-ALPN-01 challenges are answered
	// there, by the handler and TLS configuration of the manager.
	HTTPAddr, HTTPSAddr string
	// DisableHTTPChallenge and DisableTLSALPNChallenge turn a challenge
	// off: tests use them to check each; both on leaves certmagic to
	// choose.
	DisableHTTPChallenge, DisableTLSALPNChallenge bool
	// RenewCheckInterval is how often certificates are checked for
	// renewal; 0 for certmagic's default (10 minutes).
	RenewCheckInterval time.Duration
	// RenewalWindowRatio is the part of a certificate's life, at its end,
	// in which it is renewed; 0 for certmagic's default (a third).
	RenewalWindowRatio float64
	// Logger receives certificate events and certmagic's own logs.
	Logger *slog.Logger
}

// ACME gets and renews certificates from an ACME certificate authority,
// with certmagic, and serves them to TLS handshakes: HTTPS and STARTTLS.
// It retries failures with certmagic's exponential backoff (from one
// minute up to a day), so a refusing or absent authority is never
// hammered. It is safe for concurrent use.
type ACME struct {
	cfg    ACMEConfig
	logger *slog.Logger
	magic  *certmagic.Config
	cache  *certmagic.Cache
	issuer *certmagic.ACMEIssuer

	mu    sync.Mutex        // guards state
	state map[string]*event // by domain: what happened last
}

// event is what last happened to a domain's certificate.
type event struct {
	obtaining bool
	err       string
	errAt     time.Time
}

// NewACME returns a manager for cfg. Call Manage to start getting
// certificates, and Stop when done.
func NewACME(cfg ACMEConfig) (*ACME, error) {
	if len(cfg.Domains) == 0 {
		return nil, errors.New("ACME: no domain")
	}
	if cfg.Storage == nil {
		return nil, errors.New("ACME: no storage")
	}
	if cfg.CA == "" {
		cfg.CA = LetsEncrypt
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &ACME{cfg: cfg, logger: cfg.Logger, state: map[string]*event{}}
	zl := newZap(cfg.Logger.With("component", "certmagic"))
	m.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert:   func(certmagic.Certificate) (*certmagic.Config, error) { return m.magic, nil },
		RenewCheckInterval: cfg.RenewCheckInterval,
		Logger:             zl,
	})
	m.magic = certmagic.New(m.cache, certmagic.Config{
		RenewalWindowRatio: cfg.RenewalWindowRatio,
		OnEvent:            m.onEvent,
		DefaultServerName:  cfg.Domains[0],
		FallbackServerName: cfg.Domains[0],
		Storage:            cfg.Storage,
		Logger:             zl,
	})
	httpHost, httpPort, err := hostPort(cfg.HTTPAddr, 80)
	if err != nil {
		return nil, fmt.Errorf("ACME: HTTP address: %w", err)
	}
	_, tlsPort, err := hostPort(cfg.HTTPSAddr, 443)
	if err != nil {
		return nil, fmt.Errorf("ACME: HTTPS address: %w", err)
	}
	m.issuer = certmagic.NewACMEIssuer(m.magic, certmagic.ACMEIssuer{
		CA:                      cfg.CA,
		Email:                   cfg.Email,
		Agreed:                  true,
		DisableHTTPChallenge:    cfg.DisableHTTPChallenge,
		DisableTLSALPNChallenge: cfg.DisableTLSALPNChallenge,
		// The challenges are answered by placette's own listeners: the
		// solvers find the ports taken and rely on HTTPHandler and
		// TLSConfig.
		ListenHost:     httpHost,
		AltHTTPPort:    httpPort,
		AltTLSALPNPort: tlsPort,
		TrustedRoots:   cfg.TrustedRoots,
		Logger:         zl,
	})
	m.magic.Issuers = []certmagic.Issuer{m.issuer}
	return m, nil
}

// hostPort splits addr ("host:port", ":port"); an empty addr gives the
// default port.
func hostPort(addr string, def int) (string, int, error) {
	if addr == "" {
		return "", def, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	p, err := net.LookupPort("tcp", port)
	if err != nil {
		return "", 0, err
	}
	return host, p, nil
}

// Manage loads the domains' certificates from storage and gets or renews
// them in the background until ctx is done. It returns at once.
func (m *ACME) Manage(ctx context.Context) error {
	if err := m.magic.ManageAsync(ctx, m.cfg.Domains); err != nil {
		return fmt.Errorf("manage certificates of %s: %w", strings.Join(m.cfg.Domains, ", "), err)
	}
	return nil
}

// Stop stops the renewals. Cancel Manage's context first.
func (m *ACME) Stop() { m.cache.Stop() }

// HTTPHandler answers the ACME HTTP-01 challenges on the HTTP listener and
// passes every other request to next.
func (m *ACME) HTTPHandler(next http.Handler) http.Handler {
	return m.issuer.HTTPChallengeHandler(next)
}

// TLSConfig returns the configuration of the HTTPS listener: the managed
// certificates, HTTP/2, and the TLS-ALPN-01 challenge.
func (m *ACME) TLSConfig() *tls.Config {
	c := m.magic.TLSConfig()
	c.NextProtos = append([]string{"h2", "http/1.1"}, c.NextProtos...)
	c.MinVersion = tls.VersionTLS12
	return c
}

// MailTLSConfig returns the configuration of STARTTLS on the SMTP
// listener: the same certificates, the first domain's for a client that
// sends no name.
func (m *ACME) MailTLSConfig() *tls.Config {
	return &tls.Config{GetCertificate: m.magic.GetCertificate, MinVersion: tls.VersionTLS12}
}

// onEvent logs what happens to certificates and keeps the last failure of
// each domain for the status page.
func (m *ACME) onEvent(_ context.Context, name string, data map[string]any) error {
	id, _ := data["identifier"].(string)
	switch name {
	case "cert_obtaining":
		m.update(id, func(e *event) { e.obtaining = true })
	case "cert_obtained":
		renewal, _ := data["renewal"].(bool)
		issuer, _ := data["issuer"].(string)
		m.update(id, func(e *event) { *e = event{} })
		m.logger.Info("certificate obtained", "domain", id, "renewal", renewal, "issuer", issuer)
	case "cert_failed":
		renewal, _ := data["renewal"].(bool)
		msg := fmt.Sprint(data["error"])
		m.update(id, func(e *event) { *e = event{err: msg, errAt: time.Now()} })
		m.logger.Error("certificate not obtained; certmagic retries with backoff", "domain", id, "renewal", renewal, "error", msg)
	}
	return nil
}

func (m *ACME) update(domain string, f func(*event)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.state[domain]
	if e == nil {
		e = &event{}
		m.state[domain] = e
	}
	f(e)
}

// Status returns the state of each domain's certificate: the one served
// (its expiry and issuer), and the last failure to get a new one.
func (m *ACME) Status() []Status {
	out := make([]Status, 0, len(m.cfg.Domains))
	for _, d := range m.cfg.Domains {
		st := Status{Name: d}
		for _, c := range m.cache.AllMatchingCertificates(d) {
			if c.Leaf != nil && c.Leaf.NotAfter.After(st.NotAfter) {
				st.NotAfter = c.Leaf.NotAfter
				st.Issuer = c.Leaf.Issuer.CommonName
			}
		}
		m.mu.Lock()
		if e := m.state[d]; e != nil {
			st.Error, st.ErrorAt, st.Obtaining = e.err, e.errAt, e.obtaining && e.err == ""
		}
		m.mu.Unlock()
		out = append(out, st)
	}
	return out
}
