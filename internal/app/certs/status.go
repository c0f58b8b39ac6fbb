package certs

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// Status is the state of one name's certificate, for the status page and
// placette doctor.
type Status struct {
	// Name is the domain name, or "LAN" for the local authority's leaf.
	Name string
	// NotAfter is the served certificate's expiry; zero when there is none
	// yet.
	NotAfter time.Time
	// Issuer is the common name of the certificate's issuer.
	Issuer string
	// Obtaining is true while a first certificate is being requested.
	Obtaining bool
	// Error is the last failure to get or renew the certificate, "" when
	// the last attempt succeeded; ErrorAt is when it happened.
	Error   string
	ErrorAt time.Time
}

// Stored returns the certificates kept in s, by name, the newest of each:
// what a server would serve, for a command that runs without it.
func Stored(ctx context.Context, s *Storage) ([]Status, error) {
	keys, err := s.List(ctx, "certificates", true)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	best := map[string]Status{}
	for _, k := range keys {
		if !strings.HasSuffix(k, ".crt") {
			continue
		}
		data, err := s.Load(ctx, k)
		if err != nil {
			return nil, err
		}
		block, _ := pem.Decode(data)
		if block == nil {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			continue
		}
		name := strings.TrimSuffix(path.Base(k), ".crt")
		if cur, ok := best[name]; !ok || c.NotAfter.After(cur.NotAfter) {
			best[name] = Status{Name: name, NotAfter: c.NotAfter, Issuer: c.Issuer.CommonName}
		}
	}
	out := make([]Status, 0, len(best))
	for _, st := range best {
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
