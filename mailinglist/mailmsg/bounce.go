package mailmsg

import (
	"io"
	"regexp"
	"strings"

	mtextproto "github.com/emersion/go-message/textproto"
)

// Status is the outcome a bounce reports for one recipient.
type Status struct {
	Addr     string // the recipient that failed
	Code     string // enhanced status code, "5.1.1"; "" when none given
	Action   string // "failed", "delayed"… ("" when unknown)
	Hard     bool   // permanent: the address does not work
	Policy   bool   // 5.7.x: refused by policy (spam filter), not a dead address
	Diagnose string // the remote server's words, one line
}

// Bounce is what a delivery report or a spam complaint says.
type Bounce struct {
	Statuses   []Status
	Complaint  bool   // an RFC 5965 abuse report (a member marked the list's mail as spam)
	Complainer string // the address the complaint is about, when it says
	OriginalID string // Message-ID of the message that bounced, when it says
	ListID     string // List-Id of that message, when it says
}

// ParseBounce reads raw as a bounce or a complaint. ok is false when raw is
// neither.
//
// An RFC 3464 report (a message/delivery-status part) gives one Status per
// recipient whose Action is failed or delayed (or, without an Action, whose
// status is 4.x.x or 5.x.x). Without one, the text of the notice is read
// the way the usual mail servers write it (qmail, Exim, Postfix, Sendmail,
// Exchange, Yahoo, GroupWise…) up to the copy of the original message: an
// address alone on its line or at the start of one ("<a@b>:"), else the
// addresses on lines that speak of a failure. Such a notice is hard unless
// it says it will try again (a warning). Hard is true for a 5.x.x status or
// a failed action; Policy for 5.7.x and for texts that speak of spam,
// block lists or policy. An RFC 5965 report (message/feedback-report) of
// type abuse sets Complaint, with Complainer from Original-Rcpt-To or the
// To of the reported message. OriginalID and ListID come from the original
// message when the notice includes it (message/rfc822, text/rfc822-headers,
// or its header quoted in the text).
//
// A message is taken for a bounce when it is a multipart/report, comes from
// MAILER-DAEMON or postmaster, has a subject such as "Undelivered Mail" or
// "failure notice", or holds a known notice text; ok can then be true with
// no Status when no address could be found.
func ParseBounce(raw []byte) (b *Bounce, ok bool) {
	h, body, _, err := readHeader(raw)
	if err != nil {
		return nil, false
	}
	b = &Bounce{}
	var texts []string
	textLen := 0
	dsn, report := false, false
	origHeaders := []string{}
	complaintType := ""
	var feedback mtextproto.Header
	w := &walker{}
	w.visit = func(p *part) error {
		switch p.mediaType {
		case "message/delivery-status", "message/global-delivery-status", "text/delivery-status":
			dsn = true
			s, _ := readBody(p, 256<<10)
			b.Statuses = append(b.Statuses, parseDSN(s)...)
		case "message/feedback-report":
			report = true
			s, _ := readBody(p, 64<<10)
			fh, _, _, err := readHeader([]byte(strings.TrimLeft(s, "\r\n")))
			if err == nil {
				feedback = fh
				complaintType = strings.ToLower(strings.TrimSpace(fh.Get("Feedback-Type")))
			}
		case "message/rfc822", "text/rfc822-headers", "message/rfc822-headers", "message/global", "message/global-headers":
			b2, _ := io.ReadAll(io.LimitReader(p.body, maxHeaderBytes))
			origHeaders = append(origHeaders, string(b2))
		case "text/plain", "text/html":
			if textLen > 512<<10 || p.disp == "attachment" {
				return nil
			}
			s, _ := readBody(p, 256<<10)
			if p.mediaType == "text/html" {
				s = HTMLText(s)
			}
			textLen += len(s)
			texts = append(texts, s)
		}
		return nil
	}
	_ = w.entity(h, byteReader(body), nil, 0, "text/plain")

	// The original message: its header, from a part or from the text.
	for _, oh := range origHeaders {
		if ohh, _, _, err := readHeader([]byte(strings.TrimLeft(oh, "\r\n"))); err == nil {
			b.setOriginal(ohh)
			if b.Complainer == "" && report {
				if to, _ := parseAddressList(ohh.Get("To")); len(to) > 0 {
					b.Complainer = to[0].Addr
				}
			}
		}
	}
	all := strings.Join(texts, "\n\n")
	if b.OriginalID == "" {
		if m := quotedMsgID.FindStringSubmatch(all); m != nil {
			b.OriginalID = parseMsgID(m[1])
		}
	}
	if b.ListID == "" {
		if m := quotedListID.FindStringSubmatch(all); m != nil {
			b.ListID = listID(m[1])
		}
	}

	if report {
		switch complaintType {
		case "abuse", "fraud", "virus", "other", "":
			b.Complaint = complaintType != "other" && complaintType != ""
		}
		if rcpt := feedback.Get("Original-Rcpt-To"); rcpt != "" {
			if a, ok := AddrSpec(rcpt); ok {
				b.Complainer = a
			}
		}
		if b.Complaint || complaintType != "" {
			return b, true
		}
	}
	if dsn && len(b.Statuses) > 0 {
		return b, true
	}

	subject := DecodeHeader(h.Get("Subject"))
	from, _ := parseAddressList(h.Get("From"))
	ct, _, _ := contentType(h.Get("Content-Type"), "text/plain")
	looks := ct == "multipart/report" || dsn || bounceSubject.MatchString(subject) || bounceText.MatchString(all)
	if len(from) > 0 && (isDaemon(from[0].Addr) || strings.Contains(strings.ToLower(from[0].Name), "mail delivery") || strings.Contains(strings.ToLower(from[0].Name), "mailer-daemon")) {
		looks = true
	}
	if !looks {
		return nil, false
	}
	exclude := map[string]bool{}
	for _, k := range []string{"From", "To", "Cc", "Reply-To", "Sender"} {
		l, _ := parseAddressList(h.Get(k))
		for _, a := range l {
			exclude[strings.ToLower(a.Addr)] = true
		}
	}
	warning := warningSubject.MatchString(subject) && !hardWords.MatchString(subject)
	b.Statuses = append(b.Statuses, scanText(cutOriginal(all), exclude, warning)...)
	return b, true
}

var (
	quotedMsgID    = regexp.MustCompile(`(?im)^\s*message-id:\s*(<[^>\s]+>)`)
	quotedListID   = regexp.MustCompile(`(?im)^\s*list-id:\s*(.+)$`)
	bounceSubject  = regexp.MustCompile(`(?i)undeliver|returned mail|delivery (status|failure|failed|notification|problem|report)|failure notice|mail delivery failed|non.?deliver|could not be delivered|delivery has failed|returned to sender|mail system error|could not send|not delivered|delivery failure|mail failure|delivery error|delivery warning|user unknown|bounce|nicht zustellbar|non remis|non distribuable`)
	warningSubject = regexp.MustCompile(`(?i)warning|delayed|delay|still being retried|will retry|not yet delivered`)
	bounceText     = regexp.MustCompile(`(?i)qmail-send program|mail delivery software|this is the mail system at|this is the postfix program|unable to deliver|did not reach the following recipient|could not be delivered|delivery to the following recipient|undeliverable|permanent fatal errors|following address(es)? failed|following recipients? (did not|could not)|delivery has failed|user unknown|no such user|message was undeliverable`)
	cutMarker      = regexp.MustCompile(`(?im)^[ \t>]*(-{2,}.*(original message|copy of the message|below this line|returned message|message follows|undelivered message|message headers follow)|original message follows|-+ ?original message ?-+|the headers of the original|unsent message below|your message reads)`)
	failureWords   = regexp.MustCompile(`(?i)fail|unknown|not found|undeliver|does not exist|doesn't exist|no such|invalid|not deliver|reject|recipient|mailbox|quota|full|not recogni|unavailable|disabled|no longer|refused|error|bad address|not listed|did not reach|problem|user`)
	finalWords     = regexp.MustCompile(`(?i)not going to try again|giving up|permanent`)
	hardWords      = regexp.MustCompile(`(?i)user unknown|unknown user|no such user|does not exist|permanent`)
	quotedField    = regexp.MustCompile(`(?i)^[ \t>]*(to|from|cc|sent|subject|reply-to|sender|list-[a-z]+|x-[a-z-]+|received|return-path|message-id|delivered-to|for)\s*:`)
	statusCode     = regexp.MustCompile(`\b([245])\.(\d{1,3})\.(\d{1,3})\b`)
	policyWords    = regexp.MustCompile(`(?i)spam|blocked|black ?list|block ?list|blacklisted|dnsbl|\brbl\b|spamhaus|reputation|policy|content rejected|junk mail|abuse`)
	retryWords     = regexp.MustCompile(`(?i)will (continue|keep|be) (trying|retried|to try)|will retry|still trying|delayed|has not yet been delivered|will continue|not yet been delivered|temporar|try again later|will try again|warning`)
	loneAddr       = regexp.MustCompile(`(?m)^[ \t]*["<]?([A-Za-z0-9!#$%&'*+/?^_{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)[">]?:?[ \t]*$`)
	leadingAddr    = regexp.MustCompile(`(?m)^[ \t]*<([A-Za-z0-9!#$%&'*+/?^_{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)>:?`)
	textAddr       = regexp.MustCompile(`[A-Za-z0-9!#$%&'*+/?^_{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+`)
)

// setOriginal takes the Message-ID and List-Id of the original message.
func (b *Bounce) setOriginal(h mtextproto.Header) {
	if b.OriginalID == "" {
		b.OriginalID = parseMsgID(h.Get("Message-Id"))
	}
	if b.ListID == "" {
		b.ListID = listID(h.Get("List-Id"))
	}
}

// listID returns the identifier in a List-Id value: what is between angle
// brackets, else the whole value, in lower case.
func listID(v string) string {
	v = cleanText(utf8OrCP1252([]byte(v)))
	if i, j := strings.LastIndexByte(v, '<'), strings.LastIndexByte(v, '>'); i >= 0 && j > i {
		v = v[i+1 : j]
	}
	v = strings.ToLower(strings.TrimSpace(v))
	if strings.ContainsAny(v, " \t") {
		return ""
	}
	return v
}

// parseDSN reads the per-recipient fields of a message/delivery-status
// body.
func parseDSN(s string) []Status {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var out []Status
	seen := map[string]bool{}
	for _, block := range strings.Split(s, "\n\n") {
		block = strings.Trim(block, "\n")
		if block == "" {
			continue
		}
		h, _, _, err := readHeader([]byte(block + "\n\n"))
		if err != nil {
			continue
		}
		rcpt := fieldValue(h.Get("Final-Recipient"))
		if rcpt == "" {
			rcpt = fieldValue(h.Get("Original-Recipient"))
		}
		if rcpt == "" {
			continue // the per-message block, or a recipient block without a recipient
		}
		addr, ok := AddrSpec(rcpt)
		if !ok {
			if m := textAddr.FindString(rcpt); m != "" {
				addr = m
			} else {
				continue
			}
		}
		st := Status{
			Addr:     addr,
			Action:   strings.ToLower(strings.TrimSpace(strings.SplitN(h.Get("Action"), " ", 2)[0])),
			Diagnose: clip(cleanText(fieldValue(h.Get("Diagnostic-Code"))), 300),
		}
		if m := statusCode.FindString(h.Get("Status")); m != "" {
			st.Code = m
		} else if m := statusCode.FindString(st.Diagnose); m != "" {
			st.Code = m
		}
		switch st.Action {
		case "delivered", "relayed", "expanded":
			continue
		case "failed":
			st.Hard = true
		case "delayed":
			st.Hard = false
		default:
			if !strings.HasPrefix(st.Code, "5") && !strings.HasPrefix(st.Code, "4") {
				continue
			}
			st.Hard = strings.HasPrefix(st.Code, "5")
		}
		if strings.HasPrefix(st.Code, "4") && st.Action != "failed" {
			st.Hard = false
		}
		st.Policy = strings.HasPrefix(st.Code, "5.7.") || st.Hard && policyWords.MatchString(st.Diagnose)
		if key := strings.ToLower(st.Addr); !seen[key] {
			seen[key] = true
			out = append(out, st)
		}
	}
	return out
}

// fieldValue returns what follows the type in a "type; value" field
// ("rfc822; a@b" gives "a@b").
func fieldValue(v string) string {
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[i+1:]
	}
	return strings.Trim(strings.TrimSpace(v), "<>")
}

// cutOriginal returns the text of a notice before the copy of the original
// message.
func cutOriginal(s string) string {
	if loc := cutMarker.FindStringIndex(s); loc != nil {
		return s[:loc[0]]
	}
	return s
}

// scanText finds the failed recipients in the text of a non-standard
// notice.
func scanText(s string, exclude map[string]bool, warning bool) []Status {
	type found struct {
		addr string
		at   int
	}
	var addrs []found
	seen := map[string]bool{}
	add := func(a string, at int) {
		a = strings.Trim(a, ".")
		key := strings.ToLower(a)
		if seen[key] || exclude[key] || isDaemon(a) || len(addrs) >= 100 {
			return
		}
		if _, ok := AddrSpec(a); !ok {
			return
		}
		seen[key] = true
		addrs = append(addrs, found{a, at})
	}
	for _, m := range loneAddr.FindAllStringSubmatchIndex(s, -1) {
		add(s[m[2]:m[3]], m[0])
	}
	for _, m := range leadingAddr.FindAllStringSubmatchIndex(s, -1) {
		add(s[m[2]:m[3]], m[0])
	}
	if len(addrs) == 0 {
		at := 0
		for _, line := range strings.SplitAfter(s, "\n") {
			if failureWords.MatchString(line) && !strings.Contains(strings.ToLower(line), "reply to") && !quotedField.MatchString(line) {
				for _, m := range textAddr.FindAllStringIndex(line, -1) {
					if before := strings.ToLower(strings.TrimRight(line[:m[0]], " <\"'(")); strings.HasSuffix(before, "from") && !strings.HasSuffix(before, "generated from") && !strings.HasSuffix(before, "expanded from") {
						continue // the sender, not the recipient
					}
					add(line[m[0]:m[1]], at+m[0])
				}
			}
			at += len(line)
		}
	}
	var out []Status
	for i, f := range addrs {
		// The words about this address: up to the next one, at most 1 KiB.
		end := len(s)
		if i+1 < len(addrs) && addrs[i+1].at > f.at {
			end = addrs[i+1].at
		}
		end = min(end, f.at+1024)
		ctx := s[f.at:end]
		st := Status{Addr: f.addr, Action: "failed", Hard: true}
		if m := statusCode.FindString(ctx); m != "" {
			st.Code = m
		}
		st.Diagnose = clip(cleanText(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(ctx), "<"+f.addr+">"))), 300)
		if warning || strings.HasPrefix(st.Code, "4") && retryWords.MatchString(s) || st.Code == "" && retryWords.MatchString(s) && !finalWords.MatchString(s) {
			st.Hard, st.Action = false, "delayed"
		}
		st.Policy = strings.HasPrefix(st.Code, "5.7.") || st.Hard && policyWords.MatchString(ctx)
		out = append(out, st)
	}
	return out
}
