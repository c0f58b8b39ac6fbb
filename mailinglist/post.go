package mailinglist

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"codeberg.org/placette/placette/mailinglist/delivery"
	"codeberg.org/placette/placette/mailinglist/mailmsg"
	"github.com/emersion/go-smtp"
	bolt "go.etcd.io/bbolt"
)

// inbound is a received message, read once for all its recipients.
type inbound struct {
	raw      []byte // line endings CRLF
	msg      *mailmsg.Message
	fields   []field
	sender   string // envelope sender; "" for the null sender
	remote   string
	received time.Time
	auto     bool   // sent by a machine (RFC 3834, bounces, daemons)
	from     string // the author's address, lower-cased; "" when unknown
	fromName string
	strict   bool // the author's domain has a strict DMARC policy
}

// newInbound normalises and reads raw.
func (s *Service) newInbound(raw []byte, sender, remote string) (*inbound, error) {
	raw = mailmsg.Normalize(raw)
	msg, err := mailmsg.Parse(raw)
	if err != nil {
		if errors.Is(err, mailmsg.ErrNotMail) {
			return nil, errNotMail
		}
		return nil, fmt.Errorf("parse message: %w", err)
	}
	in := &inbound{raw: raw, msg: msg, sender: sender, remote: remote, received: s.cfg.Now().UTC()}
	in.fields, _ = splitMessage(raw)
	in.fromName, in.from = author(msg, raw)
	in.from = strings.ToLower(in.from)
	local, _, _ := strings.Cut(strings.ToLower(sender), "@")
	in.auto = msg.AutoSubmitted() || sender == "" || local == "mailer-daemon" || local == "postmaster" ||
		autoSubmittedFields(in.fields)
	return in, nil
}

// autoSubmittedFields is a fallback of mailmsg's AutoSubmitted on the raw
// fields: RFC 3834 Auto-Submitted and Precedence bulk/junk/list.
func autoSubmittedFields(fields []field) bool {
	if v := strings.ToLower(fieldValue(fields, "Auto-Submitted")); v != "" && !strings.HasPrefix(v, "no") {
		return true
	}
	switch strings.ToLower(fieldValue(fields, "Precedence")) {
	case "bulk", "junk", "list":
		return true
	}
	return false
}

// ingest stores in for rcpts in one transaction and returns nil once it is
// committed, or the SMTP error that refuses it.
func (s *Service) ingest(in *inbound, rcpts []rcpt) error {
	for _, rc := range rcpts {
		if rc.t.Kind == kindPost && in.from != "" {
			_, domain, _ := strings.Cut(in.from, "@")
			in.strict = s.strictDMARC(context.Background(), domain)
		}
	}
	err := s.cfg.DB.Batch(func(tx *bolt.Tx) error {
		for _, rc := range rcpts {
			if err := s.receiveTx(tx, in, rc.t); err != nil {
				return err
			}
		}
		return nil
	})
	s.queue.Kick()
	var se *smtp.SMTPError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return se
	default:
		s.logger.Error("store message", "error", err, "client", in.remote)
		return errTemporary
	}
}

// receiveTx does what a message to t asks, in tx.
func (s *Service) receiveTx(tx *bolt.Tx, in *inbound, t target) error {
	l, err := getList(tx, t.List)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return errNoSuchList
		}
		return err
	}
	if isLoop(l, in.fields) {
		s.logger.Info("message dropped", "list", l.Name, "reason", "loop", "from", in.from)
		return nil
	}
	switch t.Kind {
	case kindPost:
		return s.postTx(tx, in, l)
	case kindBounces:
		return s.bounceTx(tx, in, l, t.Token)
	case kindOwner:
		return s.ownerTx(tx, in, l)
	default:
		return s.commandTx(tx, in, l, t.Kind)
	}
}

// held reasons: catalog keys.
const (
	reasonNonMember = "list.held.nonmember"
	reasonModerated = "list.held.moderated"
)

// postTx applies l's posting rules to a post, in tx.
func (s *Service) postTx(tx *bolt.Tx, in *inbound, l *List) error {
	if in.auto {
		if b, ok := mailmsg.ParseBounce(in.raw); ok {
			return s.applyBounceTx(tx, in, l, nil, b)
		}
		s.logger.Info("message dropped", "list", l.Name, "reason", "auto_submitted", "from", in.from, "sender", in.sender)
		return nil
	}
	if int64(len(in.raw)) > l.maxBytes() {
		return errTooBig
	}
	if in.from == "" {
		in.from = strings.ToLower(in.sender)
	}
	mod := l.isModerator(in.from) || l.isModerator(in.sender)
	m, err := getMember(tx, l.Name, in.from)
	if err != nil {
		return err
	}
	if m == nil && in.sender != "" {
		if m, err = getMember(tx, l.Name, in.sender); err != nil {
			return err
		}
	}
	accepted := false
	if b := sub(tx, bucketAccept, l.Name); b != nil {
		accepted = b.Get([]byte(in.from)) != nil
	}
	always := mod || accepted || m != nil && m.AlwaysAccept
	reason := ""
	switch l.Policy {
	case PolicyAnyone:
	case PolicyAnnounce:
		if !mod {
			return errAnnounceOnly
		}
	case PolicyModerated:
		if !always {
			reason = reasonModerated
		}
	default:
		if !always && m == nil {
			reason = reasonNonMember
		}
	}
	if reason != "" {
		return s.holdTx(tx, in, l, reason)
	}
	_, err = s.distributeTx(tx, l, in.raw, in.msg, in.received, in.strict)
	return err
}

// distributeTx archives raw in l and queues a copy for each member, in tx;
// a message the archive has already is neither stored nor sent again.
func (s *Service) distributeTx(tx *bolt.Tx, l *List, raw []byte, msg *mailmsg.Message, received time.Time, strict bool) (*Archived, error) {
	a, dup, err := s.archiveTx(tx, l, raw, msg, received)
	if err != nil || dup {
		return a, err
	}
	if err := digestAddTx(tx, l.Name, a.Seq); err != nil {
		return nil, err
	}
	var members []Member
	if b := sub(tx, bucketMembers, l.Name); b != nil {
		if err := b.ForEach(func(k, v []byte) error {
			var m Member
			ok, err := getJSON(b, k, &m)
			if ok {
				members = append(members, m)
			}
			return err
		}); err != nil {
			return nil, err
		}
	}
	jobs := s.memberJobs(members, l, a.FromAddr)
	if len(jobs) == 0 {
		return a, nil
	}
	shared := s.composeCopy(l, raw, msg, copyOptions{MessageID: a.MessageID, RewriteFrom: strict || l.DMARCAlways})
	return a, s.queue.Enqueue(tx, shared, jobs)
}

// holdTx keeps a post for the moderators and tells them, at most once per
// list every heldNoticeEvery.
func (s *Service) holdTx(tx *bolt.Tx, in *inbound, l *List, reason string) error {
	held, err := mustSub(tx, bucketHeld, l.Name)
	if err != nil {
		return err
	}
	heldRaw, err := mustSub(tx, bucketHeldRaw, l.Name)
	if err != nil {
		return err
	}
	id, err := held.NextSequence()
	if err != nil {
		return err
	}
	subject := subjectOf(in.msg, in.raw)
	h := heldRecord{
		Held:   Held{ID: id, List: l.Name, From: in.from, Subject: subject, Reason: reason, Size: len(in.raw), Received: in.received},
		Sender: in.sender,
		Auto:   in.auto,
	}
	if err := putJSON(held, u64(id), &h); err != nil {
		return err
	}
	if err := heldRaw.Put(u64(id), in.raw); err != nil {
		return err
	}
	s.logger.Info("message held", "list", l.Name, "id", id, "reason", reason, "from", in.from)
	if len(l.moderators()) == 0 || !s.heldNoticeDue(l.Name) {
		return nil
	}
	p := s.printer(l.lang())
	return s.toModerators(tx, l, "list.mail.held.subject", "list.mail.held.body",
		l.title(), in.from, subject, p.T(reason), s.moderationURL(l.Name))
}

// ownerTx forwards a message to NAME-owner to the moderators.
func (s *Service) ownerTx(tx *bolt.Tx, in *inbound, l *List) error {
	if in.auto {
		s.logger.Info("message dropped", "list", l.Name, "reason", "auto_submitted", "to", "owner")
		return nil
	}
	if int64(len(in.raw)) > l.maxBytes() {
		return errTooBig
	}
	if len(l.moderators()) == 0 {
		s.logger.Warn("message to owner dropped", "list", l.Name, "reason", "no_moderator", "from", in.from)
		return nil
	}
	var jobs []delivery.Job
	for _, mod := range l.moderators() {
		jobs = append(jobs, delivery.Job{
			From:    l.addr("-bounces"),
			To:      mod,
			Headers: []string{"X-Loop: " + loopValue(l)},
			Domain:  l.Domain,
			Tag:     l.Name,
		})
	}
	return s.queue.Enqueue(tx, in.raw, jobs)
}

// commandTx runs the commands of a message to NAME-subscribe,
// NAME-unsubscribe or NAME-request, answering its sender.
func (s *Service) commandTx(tx *bolt.Tx, in *inbound, l *List, k kind) error {
	if in.auto {
		s.logger.Info("message dropped", "list", l.Name, "reason", "auto_submitted", "to", "commands")
		return nil
	}
	who := in.from
	if who == "" {
		who = strings.ToLower(in.sender)
	}
	addr, err := cleanAddr(who)
	if err != nil {
		return nil // nobody to answer
	}
	subject := subjectOf(in.msg, in.raw)
	switch k {
	case kindSubscribe:
		return s.rateRequestTx(tx, "subscribe", l, addr, in.fromName)
	case kindUnsubscribe:
		// The mailto of List-Unsubscribe: the member token in the subject
		// unsubscribes at once (RFC 8058 asks for no confirmation).
		for _, word := range strings.Fields(subject) {
			if list, maddr, err := s.parseMemberToken(word); err == nil && list == l.Name {
				_, _, err := s.applyConfirmation(tx, &confirmation{Kind: "unsubscribe", List: list, Addr: maddr})
				return err
			}
		}
		return s.rateRequestTx(tx, "unsubscribe", l, addr, "")
	}
	text := ""
	if in.msg != nil {
		text = in.msg.Text
	}
	if text == "" {
		_, body := splitMessage(in.raw)
		text = string(body)
	}
	cmds := parseCommands(subject, text)
	if len(cmds) == 0 {
		cmds = []command{{Verb: "help"}}
	}
	for _, c := range cmds {
		var err error
		switch c.Verb {
		case "help":
			p := s.printer(l.lang())
			err = s.sendNotice(tx, l, addr, p.T("list.mail.help.subject", l.title()),
				p.T("list.mail.help.body", l.title(), l.Address(), l.addr("-request"), l.addr("-subscribe"), l.addr("-unsubscribe"), s.link(listPath(l.Name))))
		case "subscribe":
			err = s.rateRequestTx(tx, "subscribe", l, addr, in.fromName)
		case "unsubscribe":
			err = s.rateRequestTx(tx, "unsubscribe", l, addr, "")
		case "confirm":
			err = s.confirmByMailTx(tx, l, addr, c.Arg)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// rateRequestTx is requestTx within the confirmation mail rate of addr.
func (s *Service) rateRequestTx(tx *bolt.Tx, kind string, l *List, addr, name string) error {
	if !s.confirmRate.Allow(l.Name + " " + addr) {
		s.logger.Warn("confirmation not sent", "list", l.Name, "reason", "rate", "addr", addr)
		return nil
	}
	return s.requestTx(tx, kind, l.Name, addr, name, "")
}

// confirmByMailTx applies the confirmation token of a "confirm" command;
// a bad token is answered with a notice.
func (s *Service) confirmByMailTx(tx *bolt.Tx, l *List, addr, token string) error {
	c, err := s.takeConfirmation(tx, token)
	if err == nil && c.List != l.Name {
		err = ErrBadToken
	}
	if err == nil {
		_, _, err = s.applyConfirmation(tx, c)
	}
	if errors.Is(err, ErrBadToken) {
		p := s.printer(l.lang())
		return s.sendNotice(tx, l, addr, p.T("list.mail.badtoken.subject", l.title()),
			p.T("list.mail.badtoken.body", l.title(), s.link(listPath(l.Name, "subscribe"))))
	}
	return err
}

// Moderate applies a moderator's decision to a held message; reason is
// told to the sender on Reject.
func (s *Service) Moderate(ctx context.Context, list string, id uint64, a Action, reason string) error {
	switch a {
	case Approve, ApproveAlways, Reject, Discard:
	default:
		return fmt.Errorf("unknown moderation action %q", a)
	}
	var h heldRecord
	var raw []byte
	var l *List
	err := s.cfg.DB.View(func(tx *bolt.Tx) (err error) {
		if l, err = getList(tx, list); err != nil {
			return err
		}
		ok, err := getJSON(sub(tx, bucketHeld, list), u64(id), &h)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("held message %d of %q: %w", id, list, ErrNotFound)
		}
		raw = append([]byte(nil), sub(tx, bucketHeldRaw, list).Get(u64(id))...)
		return nil
	})
	if err != nil {
		return err
	}
	var msg *mailmsg.Message
	strict := false
	if a == Approve || a == ApproveAlways {
		if msg, err = mailmsg.Parse(raw); err != nil {
			return fmt.Errorf("held message %d of %q: %w", id, list, err)
		}
		if _, domain, ok := strings.Cut(h.From, "@"); ok {
			strict = s.strictDMARC(ctx, domain)
		}
	}
	err = s.cfg.DB.Update(func(tx *bolt.Tx) error {
		held := sub(tx, bucketHeld, list)
		if held == nil || held.Get(u64(id)) == nil {
			return fmt.Errorf("held message %d of %q: %w", id, list, ErrNotFound)
		}
		if err := held.Delete(u64(id)); err != nil {
			return err
		}
		if err := sub(tx, bucketHeldRaw, list).Delete(u64(id)); err != nil {
			return err
		}
		switch a {
		case ApproveAlways:
			if h.From != "" {
				if err := s.setAlwaysAcceptTx(tx, list, h.From, true); err != nil && !errors.Is(err, ErrBadAddress) {
					return err
				}
			}
			fallthrough
		case Approve:
			_, err := s.distributeTx(tx, l, raw, msg, h.Received, strict)
			return err
		case Reject:
			if h.Auto || h.From == "" {
				return nil
			}
			p := s.printer(l.lang())
			return s.sendNotice(tx, l, h.From, p.T("list.mail.rejected.subject", l.title()),
				p.T("list.mail.rejected.body", l.title(), h.Subject, strings.Map(noControlKeepNL, reason)))
		}
		return nil
	})
	s.queue.Kick()
	if err == nil {
		s.logger.Info("message moderated", "list", list, "id", id, "action", string(a))
	}
	return err
}

// noControlKeepNL drops control characters but line breaks.
func noControlKeepNL(r rune) rune {
	if r == '\n' {
		return r
	}
	return noControl(r)
}
