package mailmsg

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// bounceTests says, for each notice of the shared bounces folder, whether
// it is read as a bounce and which recipients it names, each with h (hard),
// s (soft, a delay) or p (hard, refused by policy). Compared with the
// addresses flufl.bounce finds in the same files, the differences are
// commented.
var bounceTests = []struct {
	file   string
	want   []string
	bounce bool
}{
	{"aol_01.txt", nil, true}, // the notice names only a screen name, no address
	{"bounce_01.txt", nil, false},
	{"bounce_02.txt", []string{"userx@example.com:h"}, true},
	{"bounce_03.txt", []string{"'userx@example.uk:h"}, true},
	{"dsn_01.txt", []string{"userx@example.com:h"}, true},
	{"dsn_02.txt", []string{"zzzzz@example.uk:h"}, true},
	{"dsn_03.txt", []string{"userx@example.be:h"}, true},
	{"dsn_04.txt", []string{"HAASM@yogi.urz.example.ch:h"}, true},
	{"dsn_05.txt", []string{"userx@example.cz:s"}, true},
	{"dsn_06.txt", []string{"userx@example.com:s"}, true},
	{"dsn_07.txt", []string{"userx@example.nz:s"}, true},
	{"dsn_08.txt", []string{"userx@example.de:s"}, true},
	{"dsn_09.txt", []string{"userx@example.com:p"}, true},
	{"dsn_10.txt", []string{"anne.person@dom.ain:h"}, true},
	{"dsn_11.txt", []string{"joem@example.com:h"}, true},
	{"dsn_12.txt", []string{"userx@example.jp:h"}, true},
	{"dsn_13.txt", []string{"userx@example.com:h"}, true},
	{"dsn_14.txt", []string{"userx@example.com.dk:h"}, true},
	{"dsn_15.txt", nil, true}, // the report is inside the attached message
	{"dsn_16.txt", []string{"userx@example.com:h"}, true},
	{"dsn_17.txt", []string{"xxx@example.fi:s"}, true},
	{"dsn_18.txt", []string{"email@replaced.net:h"}, true},
	{"dumbass_01.txt", nil, true},
	{"exim_01.txt", []string{"userx@its.example.nl:h"}, true},
	{"groupwise_01.txt", []string{"userx@example.EDU:h"}, true},
	{"groupwise_02.txt", []string{"userx@example.com:h"}, true},
	{"groupwise_03.txt", nil, false},
	{"hotpop_01.txt", []string{"userx@example.com:h"}, true},
	{"llnl_01.txt", []string{"user1@example.gov:h", "user4@example.gov:h"}, true}, // user4 is a false positive: a directory entry in the notice
	{"microsoft_01.txt", []string{"userx@example.COM:h"}, true},
	{"microsoft_02.txt", []string{"userx@example.COM:h"}, true},
	{"microsoft_03.txt", []string{"userx@example.com:h"}, true},
	{"microsoft_04.txt", []string{"userx@example.COM:h"}, true},
	{"netscape_01.txt", []string{"aaaaa@corel.com:h", "bbbbb@corel.com:h"}, true},
	{"newmailru_01.txt", []string{"zzzzz@newmail.ru:h"}, true},
	{"postfix_01.txt", []string{"xxxxx@local.ie:h"}, true},
	{"postfix_02.txt", []string{"yyyyy@digicool.com:h"}, true},
	{"postfix_03.txt", []string{"ttttt@ggggg.com:h"}, true},
	{"postfix_04.txt", []string{"userx@mail1.example.com:h"}, true},
	{"postfix_05.txt", []string{"userx@example.net:h"}, true},
	{"qmail_01.txt", []string{"userx@example.de:h"}, true},
	{"qmail_02.txt", []string{"userx@example.com:h"}, true},
	{"qmail_03.txt", []string{"userx@example.jp:h"}, true},
	{"qmail_04.txt", []string{"userx@example.au:h"}, true},
	{"qmail_05.txt", []string{"userx@example.com:h"}, true},
	{"qmail_06.txt", []string{"ntl@xxx.com:h"}, true},
	{"qmail_07.txt", []string{"user@example.net:h"}, true},
	{"qmail_08.txt", nil, false},
	{"sendmail_01.txt", []string{"zzzzz@shaft.coal.nl:h"}, true},
	{"simple_01.txt", []string{"bbbsss@example.com:h"}, true},
	{"simple_02.txt", []string{"userx@example.net:h"}, true},
	{"simple_03.txt", []string{"userx@example.za:s"}, true},
	{"simple_04.txt", []string{"userx@example.com:h"}, true},
	{"simple_05.txt", []string{"userx@example.net:h"}, true},
	{"simple_06.txt", []string{"userx@example.com:h"}, true},
	{"simple_07.txt", []string{"userx@example.net:h"}, true},
	{"simple_08.txt", []string{"userx@example.de:h"}, true},
	{"simple_09.txt", []string{"userx@example.de:h"}, true},
	{"simple_10.txt", []string{"userx@example.com:h"}, true},
	{"simple_11.txt", []string{"userx@example.com:h"}, true},
	{"simple_12.txt", []string{"userx@example.ac.jp:h"}, true},
	{"simple_13.txt", []string{"userx@example.fr:h"}, true},
	{"simple_14.txt", []string{"usery@example.com:h", "userx@example.com:h"}, true},
	{"simple_15.txt", []string{"userx@example.be:h"}, true},
	{"simple_16.txt", []string{"userx@example.com:h"}, true},
	{"simple_17.txt", []string{"userx@example.com:h"}, true},
	{"simple_18.txt", []string{"userx@example.com:h"}, true},
	{"simple_19.txt", []string{"userx@example.com.ar:h"}, true},
	{"simple_20.txt", []string{"userx@example.com:h"}, true},
	{"simple_21.txt", []string{"userx@example.com:s"}, true},
	{"simple_22.txt", []string{"User@example.org:s"}, true},
	{"simple_23.txt", []string{"userx@example.it:h"}, true},
	{"simple_24.txt", []string{"userx@example.com:h"}, true},
	{"simple_25.txt", []string{"userx@example.com:h"}, true},
	{"simple_26.txt", []string{"userx@example.it:h"}, true},
	{"simple_27.txt", []string{"userx@example.net.py:h"}, true},
	{"simple_28.txt", []string{"userx@example.com:s"}, true},
	{"simple_29.txt", []string{"userx@example.com:h"}, true},
	{"simple_30.txt", []string{"userx@example.com:h"}, true},
	{"simple_31.txt", []string{"userx@example.fr:h"}, true},
	{"simple_32.txt", []string{"userx@example.com:h"}, true},
	{"simple_33.txt", []string{"userx@example.com:h"}, true},
	{"simple_34.txt", []string{"roland@example.com:h"}, true},
	{"simple_35.txt", []string{"calvin@example.com:s"}, true},
	{"simple_36.txt", []string{"userx@example.com:h"}, true},
	{"simple_37.txt", []string{"user@example.edu:h"}, true},
	{"simple_38.txt", []string{"userx@example.com:h"}, true},
	{"simple_39.txt", []string{"userx@example.ru:h"}, true},
	{"simple_40.txt", []string{"user@example.com:s"}, true},
	{"simple_41.txt", []string{"userx@example.com:h"}, true},
	{"simple_42.txt", []string{"david...@gmail.com:p"}, true},
	{"simple_43.txt", nil, true},
	{"simple_44.txt", []string{"user@example.com:s"}, true},
	{"sina_01.txt", []string{"userx@sina.com:h", "usery@sina.com:h"}, true},
	{"smtp32_01.txt", []string{"userx@example.ph:h"}, true},
	{"smtp32_02.txt", []string{"userx@example.com:h"}, true},
	{"smtp32_03.txt", []string{"userx@example.com:h"}, true},
	{"smtp32_04.txt", []string{"after_another@example.net:h", "one_bad_address@example.net:h"}, true},
	{"smtp32_05.txt", []string{"userx@example.com:h"}, true},
	{"smtp32_06.txt", []string{"Absolute_garbage_addr@example.net:h"}, true},
	{"smtp32_07.txt", []string{"userx@example.com:h"}, true},
	{"yahoo_01.txt", []string{"userx@example.com:h"}, true},
	{"yahoo_02.txt", []string{"userx@example.es:h"}, true},
	{"yahoo_03.txt", []string{"userx@example.com:h"}, true},
	{"yahoo_04.txt", []string{"userx@example.es:h", "usery@example.uk:h"}, true},
	{"yahoo_05.txt", []string{"userx@example.com:h", "usery@example.com:h"}, true},
	{"yahoo_06.txt", []string{"userx@example.com:h", "usery@example.com:h", "userz@example.com:h", "usera@example.com:h"}, true},
	{"yahoo_07.txt", []string{"userw@example.com:h", "userx@example.com:h", "usery@example.com:h", "userz@example.com:h"}, true},
	{"yahoo_08.txt", []string{"usera@example.com:h", "userb@example.com:h", "userc@example.com:h", "userd@example.com:h", "usere@example.com:h", "userf@example.com:h"}, true},
	{"yahoo_09.txt", []string{"userx@example.com:h", "usery@example.com:h"}, true},
	{"yahoo_10.txt", []string{"userx@example.com:h", "usery@example.com:h", "userz@example.com:h"}, true},
	{"yahoo_11.txt", []string{"bad_user@aol.com:h"}, true},
	{"yahoo_12.txt", []string{"user@yahoo.com:h"}, true},
	{"yahoo_13.txt", []string{"bogus-address@example.net:h"}, true},
	{"yale_01.txt", []string{"mike.fox@yale.edu:h", "michael.j.fox@yale.edu:h"}, true}, // false positives: example addresses in the notice; the real one was removed from the sample
}

func TestParseBounceTestdata(t *testing.T) {
	for _, tt := range bounceTests {
		t.Run(tt.file, func(t *testing.T) {
			b, ok := ParseBounce(readTestdata(t, filepath.Join("bounces", tt.file)))
			if ok != tt.bounce {
				t.Fatalf("ParseBounce ok = %v, want %v", ok, tt.bounce)
			}
			if !ok {
				return
			}
			var got []string
			for _, st := range b.Statuses {
				f := "s"
				if st.Policy {
					f = "p"
				} else if st.Hard {
					f = "h"
				}
				got = append(got, st.Addr+":"+f)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("statuses = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseBounceDetails(t *testing.T) {
	b, ok := ParseBounce(readTestdata(t, "bounces/dsn_13.txt"))
	if !ok || len(b.Statuses) != 1 {
		t.Fatalf("dsn_13: %+v, %v", b, ok)
	}
	st := b.Statuses[0]
	if st.Code != "5.1.1" || st.Action != "failed" || !st.Hard || st.Policy {
		t.Errorf("dsn_13 status = %+v", st)
	}
	if b.ListID != "wed_ride.grizz.org" || !strings.HasPrefix(b.OriginalID, "mailman.8262.1143060203.1568.wed_ride@") {
		t.Errorf("dsn_13 original = %q, %q", b.OriginalID, b.ListID)
	}
	b, _ = ParseBounce(readTestdata(t, "bounces/dsn_09.txt"))
	if st := b.Statuses[0]; st.Code != "5.7.1" || !st.Policy {
		t.Errorf("dsn_09 status = %+v, want a 5.7.1 policy refusal", st)
	}
	b, _ = ParseBounce(readTestdata(t, "bounces/dsn_05.txt"))
	if st := b.Statuses[0]; st.Action != "delayed" || st.Hard {
		t.Errorf("dsn_05 status = %+v, want a delay", st)
	}
	if _, ok := ParseBounce(frenchMessage()); ok {
		t.Error("a list post read as a bounce")
	}
	if _, ok := ParseBounce([]byte("not mail")); ok {
		t.Error("garbage read as a bounce")
	}
}

// arf is an RFC 5965 abuse report, as the example of its appendix B.
const arf = "From: <abusedesk@example.com>\r\n" +
	"Date: Thu, 8 Mar 2005 17:40:36 EDT\r\n" +
	"Subject: FW: Fiche atelier\r\n" +
	"To: <liste-bounces@listes.example.org>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/report; report-type=feedback-report; boundary=\"part1\"\r\n\r\n" +
	"--part1\r\nContent-Type: text/plain; charset=\"US-ASCII\"\r\n\r\nThis is an email abuse report.\r\n\r\n" +
	"--part1\r\nContent-Type: message/feedback-report\r\n\r\n" +
	"Feedback-Type: abuse\r\nUser-Agent: SomeGenerator/1.0\r\nVersion: 1\r\n%s\r\n" +
	"--part1\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n" +
	"From: <karim@example.net>\r\nTo: <Clemence@Example.COM>\r\nSubject: Fiche atelier\r\n" +
	"Message-ID: <8787KJKJ3K4J3K4J3K4J3.mail@listes.example.org>\r\n" +
	"List-Id: Mediation <mediation.listes.example.org>\r\n\r\nBonjour\r\n" +
	"--part1--\r\n"

func TestParseBounceComplaint(t *testing.T) {
	for _, tt := range []struct{ name, extra, want string }{
		{"embedded To", "", "Clemence@Example.COM"},
		{"Original-Rcpt-To", "Original-Rcpt-To: <membre@example.com>\r\n", "membre@example.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw := strings.Replace(arf, "%s", tt.extra, 1)
			b, ok := ParseBounce([]byte(raw))
			if !ok || !b.Complaint {
				t.Fatalf("ParseBounce = %+v, %v; want a complaint", b, ok)
			}
			if b.Complainer != tt.want || b.ListID != "mediation.listes.example.org" || b.OriginalID != "8787KJKJ3K4J3K4J3K4J3.mail@listes.example.org" {
				t.Errorf("complaint = %+v", b)
			}
			if len(b.Statuses) != 0 {
				t.Errorf("a complaint with statuses: %+v", b.Statuses)
			}
		})
	}
}
