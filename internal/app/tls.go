package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"

	"codeberg.org/placette/placette/internal/app/certs"
	"codeberg.org/placette/placette/internal/store"
)

// tlsParts are the certificates of the public mode (ACME) or of the LAN
// mode (the local authority), and what serves them.
type tlsParts struct {
	mode  Mode
	web   *tls.Config // the HTTPS listener's
	mail  *tls.Config // STARTTLS on the SMTP listener
	acme  *certs.ACME // public mode; else nil
	ca    *certs.LocalCA
	names []string // the names served: the domains, or the LAN names
}

// newTLS prepares the certificates of cfg's mode; httpAddr and httpsAddr
// are the listeners' addresses.
func newTLS(db *store.DB, cfg Config, httpAddr, httpsAddr string, logger *slog.Logger) (*tlsParts, error) {
	logger = logger.With("component", "tls")
	t := &tlsParts{mode: cfg.Mode()}
	switch t.mode {
	case ModePublic:
		st, err := certs.NewStorage(db)
		if err != nil {
			return nil, err
		}
		t.acme, err = certs.NewACME(certs.ACMEConfig{
			Storage:            st,
			Domains:            cfg.Domains,
			Email:              cfg.ACMEEmail,
			CA:                 cfg.ACMECA,
			TrustedRoots:       cfg.ACMERoots,
			HTTPAddr:           httpAddr,
			HTTPSAddr:          httpsAddr,
			RenewCheckInterval: cfg.CertCheckInterval,
			Logger:             logger,
		})
		if err != nil {
			return nil, err
		}
		t.names = cfg.Domains
		t.web = t.acme.TLSConfig()
		t.mail = t.acme.MailTLSConfig()
	case ModeLAN:
		host, _ := os.Hostname()
		var err error
		if t.ca, err = certs.OpenLocalCA(db, host, logger); err != nil {
			return nil, err
		}
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			logger.Warn("cannot list the network addresses for the local certificate", "error", err)
		}
		names := append(append([]string{}, cfg.Domains...), certs.HostNames(host, addrs)...)
		if err := t.ca.SetNames(names); err != nil {
			return nil, err
		}
		t.names = t.ca.Names()
		t.web = t.ca.TLSConfig()
		t.mail = t.ca.TLSConfig()
		t.mail.NextProtos = nil
	default:
		return nil, fmt.Errorf("no certificates in %s mode", t.mode)
	}
	return t, nil
}

// start gets the certificates (public mode) or renews the local one (LAN
// mode) in the background until ctx is done.
func (t *tlsParts) start(ctx context.Context, a *App) error {
	if t.acme != nil {
		return t.acme.Manage(ctx)
	}
	a.goRun(func() { t.ca.Run(ctx) })
	return nil
}

// stop stops the renewals; the context given to start must be done.
func (t *tlsParts) stop() {
	if t.acme != nil {
		t.acme.Stop()
	}
}

// plainHandler serves the HTTP listener of the public and LAN modes: the
// ACME challenges, the local authority's root certificate, and a
// redirection to HTTPS for everything else.
func (t *tlsParts) plainHandler(cfg Config, httpsAddr string) http.Handler {
	_, port, _ := net.SplitHostPort(httpsAddr)
	redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := strings.ToLower(r.Host)
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
		if !containsString(t.names, host) {
			host = t.names[0]
		}
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		// In public mode the router may forward 443 to another port:
		// people always use 443.
		if t.mode == ModeLAN && port != "443" {
			host += ":" + port
		}
		code := http.StatusMovedPermanently
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			code = http.StatusPermanentRedirect
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), code)
	})
	if t.acme != nil {
		return t.acme.HTTPHandler(redirect)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ca.crt", t.serveRoot)
	mux.Handle("/", redirect)
	return mux
}

// serveRoot serves the local authority's root certificate, in the DER
// form phones install.
func (t *tlsParts) serveRoot(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-x509-ca-cert")
	w.Header().Set("Content-Disposition", `attachment; filename="placette-ca.crt"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(t.ca.RootDER())
}
