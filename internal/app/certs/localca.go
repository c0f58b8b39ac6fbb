package certs

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"codeberg.org/placette/placette/internal/store"
	bolt "go.etcd.io/bbolt"
)

// Lifetimes of the local authority's certificates. Phones refuse server
// certificates valid for more than 825 days, even from an authority their
// owner installed; a year is renewed after two thirds.
const (
	rootLifetime = 10 * 365 * 24 * time.Hour
	leafLifetime = 365 * 24 * time.Hour
)

// lanDomains are the DNS names the local authority may sign for, besides
// the host's own names: its name constraints (RFC 5280, 4.2.1.10) keep a
// stolen key from impersonating any public site to the phones that trust
// the root.
var lanDomains = []string{"localhost", "local", "lan", "home.arpa", "internal", "home", "localdomain"}

// lanNetworks are the addresses it may sign for: loopback, private and
// link-local ranges.
var lanNetworks = []string{"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "::1/128", "fc00::/7", "fe80::/10"}

// LocalCA is the small certificate authority of LAN mode: a root placette
// creates once and keeps in the database, and one server certificate for
// the host's names and addresses, renewed before it expires. People make
// their devices trust the root (downloaded from the administration, its
// fingerprint checked). It is safe for concurrent use.
type LocalCA struct {
	db     *store.DB
	logger *slog.Logger
	now    func() time.Time
	root   *x509.Certificate
	key    crypto.Signer

	mu    sync.Mutex       // guards leaf and names
	leaf  *tls.Certificate // the served certificate; its Leaf is set
	names []string         // DNS names and addresses the leaf must cover
}

// OpenLocalCA loads the local authority of db, creating it the first time
// with a root named after host (the machine's name, shown on phones).
func OpenLocalCA(db *store.DB, host string, logger *slog.Logger) (*LocalCA, error) {
	if err := Migrate(db); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ca := &LocalCA{db: db, logger: logger, now: time.Now}
	err := db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCA)
		if certPEM, keyDER := b.Get([]byte("root.crt")), b.Get([]byte("root.key")); certPEM != nil && keyDER != nil {
			return ca.loadRoot(certPEM, keyDER)
		}
		certPEM, keyDER, err := newRoot(host, ca.now())
		if err != nil {
			return err
		}
		if err := b.Put([]byte("root.crt"), certPEM); err != nil {
			return err
		}
		if err := b.Put([]byte("root.key"), keyDER); err != nil {
			return err
		}
		logger.Info("local certificate authority created", "fingerprint", "SHA-256 "+Fingerprint(certPEM))
		return ca.loadRoot(certPEM, keyDER)
	})
	if err != nil {
		return nil, fmt.Errorf("local certificate authority: %w", err)
	}
	return ca, nil
}

func (ca *LocalCA) loadRoot(certPEM, keyDER []byte) error {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return errors.New("root certificate: not PEM")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Errorf("root certificate: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		return fmt.Errorf("root key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return errors.New("root key: not a signing key")
	}
	ca.root, ca.key = c, signer
	return nil
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

// newRoot makes a root certificate and its key.
func newRoot(host string, now time.Time) (certPEM, keyDER []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, err
	}
	permitted := slices.Clone(lanDomains)
	if h := strings.ToLower(strings.TrimSuffix(host, ".")); h != "" && !slices.Contains(permitted, h) {
		permitted = append(permitted, h)
	}
	var ranges []*net.IPNet
	for _, n := range lanNetworks {
		_, ipn, _ := net.ParseCIDR(n)
		ranges = append(ranges, ipn)
	}
	tmpl := &x509.Certificate{
		SerialNumber:                sn,
		Subject:                     pkix.Name{CommonName: "placette " + host + " " + now.UTC().Format("2006-01-02"), Organization: []string{"placette (local)"}},
		NotBefore:                   now.Add(-time.Hour),
		NotAfter:                    now.Add(rootLifetime),
		KeyUsage:                    x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid:       true,
		IsCA:                        true,
		MaxPathLenZero:              true,
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         permitted,
		PermittedIPRanges:           ranges,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err = x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyDER, nil
}

// RootPEM returns the root certificate, PEM-encoded, to install on the
// devices that will visit placette.
func (ca *LocalCA) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.root.Raw})
}

// RootDER returns the root certificate in DER, the form phones install
// from a download (application/x-x509-ca-cert).
func (ca *LocalCA) RootDER() []byte { return slices.Clone(ca.root.Raw) }

// Root returns the root certificate.
func (ca *LocalCA) Root() *x509.Certificate { return ca.root }

// Fingerprint returns the SHA-256 fingerprint of a PEM certificate, as
// phones show it: upper-case hexadecimal pairs separated by colons; "" if
// certPEM holds no certificate.
func Fingerprint(certPEM []byte) string {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return ""
	}
	sum := sha256.Sum256(block.Bytes)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// Fingerprint returns the root certificate's SHA-256 fingerprint.
func (ca *LocalCA) Fingerprint() string { return Fingerprint(ca.RootPEM()) }

// HostNames returns the names and addresses a machine called host is
// reached by on a LAN: host, host.local, localhost, and the addresses of
// its interfaces (loopback included).
func HostNames(host string, addrs []net.Addr) []string {
	var names []string
	add := func(n string) {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if host != "" {
		add(host)
		if !strings.Contains(host, ".") {
			add(host + ".local")
		}
	}
	add("localhost")
	for _, a := range addrs {
		var ip net.IP
		switch v := a.(type) {
		case *net.IPNet:
			ip = v.IP
		case *net.IPAddr:
			ip = v.IP
		}
		if ip == nil || ip.IsMulticast() || ip.IsUnspecified() {
			continue
		}
		if ip.IsLinkLocalUnicast() && ip.To4() == nil {
			continue // fe80:: needs a zone no browser takes in a URL
		}
		add(ip.String())
	}
	return names
}

// SetNames chooses the names and addresses the served certificate covers,
// and issues a new certificate if the stored one does not cover them all,
// or is in the last third of its life. Names outside the root's
// constraints are left out, with a warning.
func (ca *LocalCA) SetNames(names []string) error {
	var ok []string
	for _, n := range names {
		if err := ca.allowed(n); err != nil {
			ca.logger.Warn("name left out of the local certificate", "name", n, "error", err)
			continue
		}
		ok = append(ok, n)
	}
	if len(ok) == 0 {
		return errors.New("local certificate: no name the local authority may sign for")
	}
	ca.mu.Lock()
	ca.names = ok
	ca.mu.Unlock()
	return ca.refresh()
}

// allowed checks name against the root's constraints.
func (ca *LocalCA) allowed(name string) error {
	if a, err := netip.ParseAddr(name); err == nil {
		for _, r := range ca.root.PermittedIPRanges {
			if r.Contains(a.AsSlice()) {
				return nil
			}
		}
		return errors.New("not a private address")
	}
	for _, d := range ca.root.PermittedDNSDomains {
		if name == d || strings.HasSuffix(name, "."+d) {
			return nil
		}
	}
	return fmt.Errorf("not under %s", strings.Join(ca.root.PermittedDNSDomains, ", "))
}

// refresh loads the stored leaf, or issues a new one when it must.
func (ca *LocalCA) refresh() error {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	now := ca.now()
	if ca.leaf == nil {
		var certPEM, keyDER []byte
		if err := ca.db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketCA)
			certPEM = slices.Clone(b.Get([]byte("leaf.crt")))
			keyDER = slices.Clone(b.Get([]byte("leaf.key")))
			return nil
		}); err != nil {
			return err
		}
		if certPEM != nil {
			if c, err := leafFrom(certPEM, keyDER); err == nil {
				ca.leaf = c
			}
		}
	}
	if ca.leaf != nil && covers(ca.leaf.Leaf, ca.names) && ca.leaf.Leaf.CheckSignatureFrom(ca.root) == nil {
		life := ca.leaf.Leaf.NotAfter.Sub(ca.leaf.Leaf.NotBefore)
		if now.Before(ca.leaf.Leaf.NotAfter.Add(-life / 3)) {
			return nil
		}
	}
	certPEM, keyDER, err := ca.issue(ca.names, now)
	if err != nil {
		return fmt.Errorf("local certificate: %w", err)
	}
	c, err := leafFrom(certPEM, keyDER)
	if err != nil {
		return fmt.Errorf("local certificate: %w", err)
	}
	if err := ca.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCA)
		if err := b.Put([]byte("leaf.crt"), certPEM); err != nil {
			return err
		}
		return b.Put([]byte("leaf.key"), keyDER)
	}); err != nil {
		return fmt.Errorf("store the local certificate: %w", err)
	}
	ca.leaf = c
	ca.logger.Info("local certificate issued", "names", strings.Join(ca.names, " "), "not_after", c.Leaf.NotAfter)
	return nil
}

func leafFrom(certPEM, keyDER []byte) (*tls.Certificate, error) {
	var c tls.Certificate
	for rest := certPEM; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		c.Certificate = append(c.Certificate, block.Bytes)
	}
	if len(c.Certificate) == 0 {
		return nil, errors.New("no certificate")
	}
	k, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		return nil, err
	}
	c.PrivateKey = k
	if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
		return nil, err
	}
	return &c, nil
}

// covers reports whether c names every one of names.
func covers(c *x509.Certificate, names []string) bool {
	for _, n := range names {
		if c.VerifyHostname(n) != nil {
			return false
		}
	}
	return true
}

// issue makes a server certificate for names, signed by the root.
func (ca *LocalCA) issue(names []string, now time.Time) (certPEM, keyDER []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(leafLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.root, key.Public(), ca.key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err = x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	certPEM = append(certPEM, ca.RootPEM()...)
	return certPEM, keyDER, nil
}

// GetCertificate serves the leaf to every TLS handshake, whatever name it
// asks for (an address has none).
func (ca *LocalCA) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if ca.leaf == nil {
		return nil, errors.New("no local certificate yet")
	}
	return ca.leaf, nil
}

// TLSConfig returns a TLS configuration serving the leaf, with HTTP/2.
func (ca *LocalCA) TLSConfig() *tls.Config {
	return &tls.Config{GetCertificate: ca.GetCertificate, NextProtos: []string{"h2", "http/1.1"}, MinVersion: tls.VersionTLS12}
}

// Status returns the served certificate's state.
func (ca *LocalCA) Status() Status {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	st := Status{Name: strings.Join(ca.names, " "), Issuer: ca.root.Subject.CommonName}
	if ca.leaf != nil {
		st.NotAfter = ca.leaf.Leaf.NotAfter
	}
	return st
}

// Run renews the leaf when it enters the last third of its life, checking
// twice a day, until ctx is done.
func (ca *LocalCA) Run(ctx context.Context) {
	t := time.NewTicker(12 * time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := ca.refresh(); err != nil {
				ca.logger.Error("renew the local certificate", "error", err)
			}
		}
	}
}

// Names returns the names and addresses the served certificate covers.
func (ca *LocalCA) Names() []string {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	return slices.Clone(ca.names)
}
