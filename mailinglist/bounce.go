package mailinglist

import (
	"strings"
	"time"

	"codeberg.org/placette/placette/mailinglist/delivery"
	"codeberg.org/placette/placette/mailinglist/mailmsg"
	bolt "go.etcd.io/bbolt"
)

// Bounce scoring; see doc.go.
const (
	bounceThreshold = 3.0
	bounceHard      = 1.0
	bounceSoft      = 0.5
	bounceForget    = 30 * 24 * time.Hour // a score left this long starts again
	softEvery       = 24 * time.Hour      // at most one soft bounce counted per member in this time
)

// bounceTx reads a message to NAME-bounces[+token] and counts it, in tx.
func (s *Service) bounceTx(tx *bolt.Tx, in *inbound, l *List, token string) error {
	b, ok := mailmsg.ParseBounce(in.raw)
	var m *Member
	if token != "" {
		var err error
		if m, err = s.findVERP(tx, l.Name, token); err != nil {
			return err
		}
	}
	switch {
	case !ok && m == nil:
		s.logger.Info("message dropped", "list", l.Name, "reason", "not_a_bounce", "from", in.from)
		return nil
	case m != nil && (!ok || !b.Complaint && len(b.Statuses) == 0):
		// A message to a member's VERP address that says nothing more:
		// count it as a soft bounce.
		b = &mailmsg.Bounce{Statuses: []mailmsg.Status{{Addr: m.Addr}}}
	}
	return s.applyBounceTx(tx, in, l, m, b)
}

// applyBounceTx counts bounce b against the members it names (m, when the
// VERP address named one), or unsubscribes the complainer.
func (s *Service) applyBounceTx(tx *bolt.Tx, in *inbound, l *List, m *Member, b *mailmsg.Bounce) error {
	if b.Complaint {
		addr := b.Complainer
		if m != nil {
			addr = m.Addr
		}
		if addr == "" {
			return nil
		}
		cm, err := getMember(tx, l.Name, addr)
		if err != nil || cm == nil {
			return err
		}
		s.logger.Info("member unsubscribed", "list", l.Name, "addr", cm.Addr, "reason", "complaint")
		return removeMemberTx(tx, l.Name, cm.Addr)
	}
	for _, st := range b.Statuses {
		target := m
		if target == nil {
			var err error
			if target, err = getMember(tx, l.Name, st.Addr); err != nil {
				return err
			}
		}
		if target == nil {
			continue
		}
		hard := st.Hard || strings.HasPrefix(st.Code, "5.")
		policy := st.Policy || strings.HasPrefix(st.Code, "5.7.") || strings.HasPrefix(st.Code, "4.7.")
		if err := s.scoreTx(tx, l, target, st.Action, hard, policy); err != nil {
			return err
		}
		if m != nil {
			break // a VERP address names one member: count one bounce
		}
	}
	return nil
}

// scoreTx adds a bounce to m's score and stops its delivery past the
// threshold, telling it and the moderators.
func (s *Service) scoreTx(tx *bolt.Tx, l *List, m *Member, action string, hard, policy bool) error {
	switch strings.ToLower(action) {
	case "", "failed":
	default:
		return nil // delayed, relayed, delivered, expanded: not a failure
	}
	if policy {
		s.logger.Info("bounce not counted", "list", l.Name, "addr", m.Addr, "reason", "policy")
		return nil
	}
	now := s.cfg.Now().UTC()
	if !m.LastBounce.IsZero() && now.Sub(m.LastBounce) > bounceForget {
		m.BounceScore = 0
	}
	add := bounceSoft
	if hard {
		add = bounceHard
	} else if m.BounceScore > 0 && now.Sub(m.LastBounce) < softEvery {
		return nil
	}
	m.BounceScore += add
	m.LastBounce = now
	stop := m.BounceScore >= bounceThreshold && (m.Mode == ModeEach || m.Mode == ModeDigest)
	if stop {
		m.Mode = ModeBouncing
	}
	if err := putMember(tx, l.Name, m); err != nil {
		return err
	}
	s.logger.Info("bounce counted", "list", l.Name, "addr", m.Addr, "hard", hard, "score", m.BounceScore)
	if !stop {
		return nil
	}
	s.logger.Warn("member delivery stopped", "list", l.Name, "addr", m.Addr, "reason", "bounces")
	p := s.printer(memberLang(l, m))
	if err := s.sendNotice(tx, l, m.Addr, p.T("list.mail.bouncing.subject", l.title()),
		p.T("list.mail.bouncing.body", m.Addr, l.title(), s.link(listPath(l.Name, "member", s.MemberToken(l.Name, m.Addr))))); err != nil {
		return err
	}
	return s.toModerators(tx, l, "list.mail.bouncing.owner.subject", "list.mail.bouncing.owner.body", m.Addr, l.title())
}

// report is told by the queue how each job ended: a copy to a member that
// failed for good with a 5xx counts as a bounce. The queue calls it from
// one goroutine, outside its transactions.
func (s *Service) report(r delivery.Result) {
	if r.Delivered || r.Code < 500 || r.Job.From == "" || r.Job.Tag == "" {
		return
	}
	s.reportBounce(r)
}

// reportBounce counts a relay's 5xx against the member it was for.
func (s *Service) reportBounce(r delivery.Result) {
	err := s.cfg.DB.Update(func(tx *bolt.Tx) error {
		l, err := getList(tx, r.Job.Tag)
		if err != nil {
			return nil
		}
		m, err := getMember(tx, l.Name, r.Job.To)
		if err != nil || m == nil {
			return err
		}
		return s.scoreTx(tx, l, m, "failed", true, strings.HasPrefix(r.Enhanced, "5.7."))
	})
	if err != nil {
		s.logger.Error("count bounce", "error", err, "list", r.Job.Tag)
	}
}
