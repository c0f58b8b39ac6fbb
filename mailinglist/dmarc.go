package mailinglist

import (
	"context"
	"strings"
	"sync"
	"time"
)

// DMARC lookups: how long answers are kept, and how long one may take.
const (
	dmarcTTL        = time.Hour
	dmarcFailTTL    = 5 * time.Minute
	dmarcTimeout    = 3 * time.Second
	dmarcCacheLimit = 10000
)

// dmarcCache remembers which author domains publish a strict DMARC policy.
type dmarcCache struct {
	mu      sync.Mutex // guards entries
	entries map[string]dmarcEntry
}

// dmarcEntry is a remembered answer.
type dmarcEntry struct {
	strict  bool
	expires time.Time
}

func newDMARCCache() *dmarcCache { return &dmarcCache{entries: map[string]dmarcEntry{}} }

// dmarcPolicy returns the policy of a DMARC record ("none", "quarantine",
// "reject"), the subdomain policy (sp=, "" when absent), and whether txt
// is a DMARC record at all.
func dmarcPolicy(txt string) (p, sp string, ok bool) {
	tags := strings.Split(txt, ";")
	if len(tags) == 0 || !strings.EqualFold(strings.ReplaceAll(strings.TrimSpace(tags[0]), " ", ""), "v=DMARC1") {
		return "", "", false
	}
	for _, t := range tags[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(t), "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "p":
			p = strings.ToLower(strings.TrimSpace(v))
		case "sp":
			sp = strings.ToLower(strings.TrimSpace(v))
		}
	}
	return p, sp, true
}

// strictDMARC reports whether the author domain asks receivers to
// quarantine or reject mail that fails DMARC: its own record, else its
// organisational domain's (approximated by its last two labels).
func (s *Service) strictDMARC(ctx context.Context, domain string) bool {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if domain == "" {
		return false
	}
	c := s.dmarc
	now := s.cfg.Now()
	c.mu.Lock()
	e, ok := c.entries[domain]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.strict
	}
	ctx, cancel := context.WithTimeout(ctx, dmarcTimeout)
	defer cancel()
	strict, failed := false, false
	lookup := func(name string, sub bool) (found bool) {
		txts, err := s.cfg.DNS.LookupTXT(ctx, "_dmarc."+name)
		if err != nil {
			failed = failed || !isNotFound(err)
			return false
		}
		for _, t := range txts {
			p, sp, ok := dmarcPolicy(t)
			if !ok {
				continue
			}
			if sub && sp != "" {
				p = sp
			}
			strict = p == "quarantine" || p == "reject"
			return true
		}
		return false
	}
	if !lookup(domain, false) {
		labels := strings.Split(domain, ".")
		if len(labels) > 2 {
			lookup(strings.Join(labels[len(labels)-2:], "."), true)
		}
	}
	ttl := dmarcTTL
	if failed {
		ttl = dmarcFailTTL
	}
	c.mu.Lock()
	if len(c.entries) >= dmarcCacheLimit {
		clear(c.entries)
	}
	c.entries[domain] = dmarcEntry{strict: strict, expires: now.Add(ttl)}
	c.mu.Unlock()
	return strict
}
