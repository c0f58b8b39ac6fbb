package mailinglist

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"codeberg.org/placette/placette/mailinglist/delivery"
)

// isNotFound reports whether err says the name has no such record.
func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// mailHost returns the host that receives the lists' mail: the host of
// the base URL when it is a name, else domain itself.
func (s *Service) mailHost(domain string) string {
	u, err := url.Parse(s.baseURL)
	if err == nil {
		h := u.Hostname()
		if _, ipErr := netip.ParseAddr(h); ipErr != nil && h != "" && h != "localhost" && strings.Contains(h, ".") {
			return h
		}
	}
	return domain
}

// DNSRecords returns the records to publish for domain, each with what DNS
// answers now when check is true.
func (s *Service) DNSRecords(ctx context.Context, domain string, check bool) ([]Record, error) {
	domain = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(domain), "."))
	if domain == "" {
		domain = s.mailDomain
	}
	signer, err := s.keys.Signer(domain)
	if err != nil {
		return nil, fmt.Errorf("DKIM key of %s: %w", domain, err)
	}
	host := s.mailHost(domain)
	spf := "v=spf1 mx"
	if r := s.Relay(); r.Way == delivery.Smarthost && r.Host != "" {
		spf += " a:" + r.Host
	}
	spf += " ~all"
	recs := []Record{
		{Type: "MX", Name: domain, Value: "10 " + host + "."},
		{Type: "TXT", Name: domain, Value: spf},
		{Type: "TXT", Name: signer.Selector() + "._domainkey." + domain, Value: signer.DNSRecord()},
		{Type: "TXT", Name: "_dmarc." + domain, Value: "v=DMARC1; p=none; adkim=r; aspf=r"},
	}
	if !check {
		return recs, nil
	}
	for i := range recs {
		s.checkRecord(ctx, &recs[i])
	}
	return recs, nil
}

// compact removes the spaces of a TXT value and lower-cases it, for
// comparing.
func compact(v string) string {
	return strings.ToLower(strings.Join(strings.Fields(strings.ReplaceAll(v, `"`, "")), ""))
}

// checkRecord fills r.Found and r.OK from DNS.
func (s *Service) checkRecord(ctx context.Context, r *Record) {
	switch r.Type {
	case "MX":
		mxs, err := s.cfg.DNS.LookupMX(ctx, r.Name)
		if err != nil {
			return
		}
		_, want, _ := strings.Cut(r.Value, " ")
		for _, mx := range mxs {
			r.Found = append(r.Found, fmt.Sprintf("%d %s", mx.Pref, mx.Host))
			r.OK = r.OK || strings.EqualFold(strings.TrimSuffix(mx.Host, "."), strings.TrimSuffix(want, "."))
		}
	case "TXT":
		txts, err := s.cfg.DNS.LookupTXT(ctx, r.Name)
		if err != nil {
			return
		}
		prefix, _, _ := strings.Cut(r.Value, ";")
		prefix, _, _ = strings.Cut(prefix, " ")
		for _, t := range txts {
			if !strings.HasPrefix(strings.ToLower(t), strings.ToLower(prefix)) {
				continue // another kind of TXT record at the same name
			}
			r.Found = append(r.Found, t)
			switch {
			case strings.HasPrefix(prefix, "v=spf1"), strings.HasPrefix(prefix, "v=DMARC1"):
				r.OK = true // the domain has one; its content is the owner's choice
			default:
				r.OK = r.OK || compact(t) == compact(r.Value)
			}
		}
	}
}

// writeZone writes recs zone-file style, one record per line, TXT values
// in quoted strings of at most 255 bytes.
func writeZone(w io.Writer, recs []Record) error {
	for _, r := range recs {
		v := r.Value
		if r.Type == "TXT" {
			var parts []string
			for len(v) > 255 {
				parts = append(parts, `"`+v[:255]+`"`)
				v = v[255:]
			}
			parts = append(parts, `"`+v+`"`)
			v = strings.Join(parts, " ")
		}
		line := fmt.Sprintf("%s.\t3600\tIN\t%s\t%s", r.Name, r.Type, v)
		if r.Found != nil || r.OK {
			state := "; missing"
			if r.OK {
				state = "; ok"
			}
			if len(r.Found) > 0 {
				state += ", DNS says: " + strings.Join(r.Found, " | ")
			}
			line += "\t" + state
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}

// domains returns the mail domains of the lists and the default one.
func (s *Service) domains() ([]string, error) {
	lists, err := s.Lists()
	if err != nil {
		return nil, err
	}
	ds := []string{s.mailDomain}
	for _, l := range lists {
		if !slices.Contains(ds, l.Domain) {
			ds = append(ds, l.Domain)
		}
	}
	return ds, nil
}
