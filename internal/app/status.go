package app

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"codeberg.org/placette/placette/internal/app/certs"
	"codeberg.org/placette/placette/internal/store"
	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/mailinglist"
)

// statusSource reports the server's state for the administration's index
// and placette doctor.
type statusSource struct {
	db      *store.DB
	cfg     Config
	lists   *mailinglist.Service
	tls     *tlsParts // nil in local and proxy modes, and without a server
	baseURL string
}

var _ web.StatusSource = (*statusSource)(nil)

// Status implements web.StatusSource.
func (s *statusSource) Status(ctx context.Context, check bool) (*web.ServerStatus, error) {
	st := &web.ServerStatus{Version: Version, Mode: string(s.cfg.Mode()), URL: s.baseURL}
	if st.URL == "" {
		st.URL = s.lists.BaseURL()
	}
	if err := s.certificates(ctx, st); err != nil {
		return nil, err
	}
	s.dns(ctx, st, check)
	q, err := s.lists.QueueStats()
	if err != nil {
		st.Queue.Error = err.Error()
	}
	st.Queue.Waiting, st.Queue.Failing, st.Queue.Oldest = q.Waiting, q.Failing, q.Oldest
	st.Queue.Outbox = countFiles(filepath.Join(s.cfg.DataDir, "outbox"), ".eml")
	st.Storage.DataDir = s.cfg.DataDir
	if st.Storage.DatabaseBytes, err = s.db.Size(); err != nil {
		return nil, err
	}
	st.Storage.IndexBytes = dirSize(filepath.Join(s.cfg.DataDir, "index"))
	st.Storage.DiskFree, st.Storage.DiskTotal = diskSpace(s.cfg.DataDir)
	if st.Storage.DiskTotal > 0 {
		st.Storage.DiskLow = st.Storage.DiskFree < st.Storage.DiskTotal/20 || st.Storage.DiskFree < 500<<20
	}
	return st, nil
}

// certificates fills in the certificates: those the server serves, or,
// without a server, those kept in the database.
func (s *statusSource) certificates(ctx context.Context, st *web.ServerStatus) error {
	var list []certs.Status
	switch {
	case s.tls != nil && s.tls.acme != nil:
		list = s.tls.acme.Status()
	case s.tls != nil && s.tls.ca != nil:
		list = []certs.Status{s.tls.ca.Status()}
		st.LocalCA = &web.LocalCAStatus{Fingerprint: s.tls.ca.Fingerprint(), Path: "/ca.crt"}
	default:
		stor, err := certs.NewStorage(s.db)
		if err != nil {
			return err
		}
		if list, err = certs.Stored(ctx, stor); err != nil {
			return fmt.Errorf("stored certificates: %w", err)
		}
	}
	now := time.Now()
	for _, c := range list {
		st.Certificates = append(st.Certificates, web.CertStatus{
			Name: c.Name, NotAfter: c.NotAfter, Issuer: c.Issuer, Obtaining: c.Obtaining,
			Error: c.Error, ErrorAt: c.ErrorAt,
			Soon: !c.NotAfter.IsZero() && c.NotAfter.Sub(now) < 14*24*time.Hour,
		})
	}
	return nil
}

// dns fills in the records to publish: A/AAAA for the public names, then
// the lists' mail records; with check, what DNS answers for each. There is
// nothing to publish in local mode.
func (s *statusSource) dns(ctx context.Context, st *web.ServerStatus, check bool) {
	mailDomain := s.lists.MailDomain()
	var names []string
	if m := s.cfg.Mode(); m == ModePublic || m == ModeProxy {
		names = s.cfg.Domains
	}
	if len(names) == 0 && (mailDomain == "" || mailDomain == "localhost" || !strings.Contains(mailDomain, ".")) {
		return
	}
	st.DNSChecked = check
	var resolver Resolver = s.cfg.DNS
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	hosts := make([]web.DNSRecord, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		// The value is the machine's public address, which only DNS and
		// the router know: Value stays empty.
		hosts[i] = web.DNSRecord{Type: "A/AAAA", Name: n}
		if !check {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			found, err := resolver.LookupHost(ctx, n)
			if err == nil {
				slices.Sort(found)
				hosts[i].Found, hosts[i].OK = found, len(found) > 0
			}
		}()
	}
	var recs []mailinglist.Record
	if mailDomain != "" && mailDomain != "localhost" {
		recs, _ = s.lists.DNSRecords(ctx, mailDomain, check)
	}
	wg.Wait()
	st.DNS = append(st.DNS, hosts...)
	for _, r := range recs {
		st.DNS = append(st.DNS, web.DNSRecord{Type: r.Type, Name: r.Name, Value: r.Value, Found: r.Found, OK: r.OK})
	}
}

// countFiles counts the files of dir whose name ends in ext.
func countFiles(dir, ext string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ext) {
			n++
		}
	}
	return n
}

// dirSize returns the size of the files under dir; 0 when it is missing.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// writeStatus prints st for placette doctor.
func writeStatus(w io.Writer, st *web.ServerStatus) error {
	var b strings.Builder
	problems := 0
	bad := func(format string, args ...any) {
		problems++
		fmt.Fprintf(&b, "  PROBLEM "+format+"\n", args...)
	}
	fmt.Fprintf(&b, "placette %s, %s mode, %s\n", st.Version, st.Mode, st.URL)
	b.WriteString("\ncertificates:\n")
	if len(st.Certificates) == 0 {
		b.WriteString("  none\n")
	}
	for _, c := range st.Certificates {
		switch {
		case c.Error != "":
			bad("%s: last attempt failed at %s: %s", c.Name, c.ErrorAt.Format(time.RFC3339), c.Error)
		case c.NotAfter.IsZero() && c.Obtaining:
			fmt.Fprintf(&b, "  %s: being requested\n", c.Name)
		case c.NotAfter.IsZero():
			bad("%s: no certificate yet", c.Name)
		case c.Soon:
			bad("%s: expires %s (%s)", c.Name, c.NotAfter.Format(time.RFC3339), c.Issuer)
		default:
			fmt.Fprintf(&b, "  %s: expires %s (%s)\n", c.Name, c.NotAfter.Format(time.RFC3339), c.Issuer)
		}
	}
	if st.LocalCA != nil {
		fmt.Fprintf(&b, "  local authority: SHA-256 %s, root at %s%s\n", st.LocalCA.Fingerprint, st.URL, st.LocalCA.Path)
	}
	if len(st.DNS) > 0 {
		b.WriteString("\nDNS records:\n")
		for _, r := range st.DNS {
			switch {
			case !st.DNSChecked && r.Value == "":
				fmt.Fprintf(&b, "  %s %s (this machine's public address)\n", r.Name, r.Type)
			case !st.DNSChecked:
				fmt.Fprintf(&b, "  %s %s %s\n", r.Name, r.Type, r.Value)
			case r.OK:
				fmt.Fprintf(&b, "  ok %s %s\n", r.Name, r.Type)
			case r.Value == "":
				bad("%s %s: DNS has no address for it", r.Name, r.Type)
			default:
				bad("%s %s: publish %q; DNS answers %q", r.Name, r.Type, r.Value, r.Found)
			}
		}
	}
	q := st.Queue
	b.WriteString("\nmail queue:\n")
	if q.Error != "" {
		bad("cannot read the queue: %s", q.Error)
	}
	fmt.Fprintf(&b, "  %d waiting, %d failing", q.Waiting, q.Failing)
	if !q.Oldest.IsZero() {
		fmt.Fprintf(&b, ", oldest from %s", q.Oldest.Format(time.RFC3339))
	}
	b.WriteString("\n")
	if q.Outbox > 0 {
		fmt.Fprintf(&b, "  %d messages in the local outbox (no relay configured: Administration → Mail)\n", q.Outbox)
	}
	if q.Failing > 0 {
		bad("%d messages fail to go out: see Administration → Mail", q.Failing)
	}
	s := st.Storage
	b.WriteString("\nstorage:\n")
	fmt.Fprintf(&b, "  data folder %s\n  database %d bytes, search index %d bytes\n", s.DataDir, s.DatabaseBytes, s.IndexBytes)
	if s.DiskTotal > 0 {
		if s.DiskLow {
			bad("disk: %d MB free of %d MB", s.DiskFree>>20, s.DiskTotal>>20)
		} else {
			fmt.Fprintf(&b, "  disk: %d MB free of %d MB\n", s.DiskFree>>20, s.DiskTotal>>20)
		}
	}
	if problems == 0 {
		b.WriteString("\nno problem found\n")
	} else {
		fmt.Fprintf(&b, "\n%d problem(s) found\n", problems)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
