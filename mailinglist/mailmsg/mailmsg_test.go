package mailmsg

import (
	"bytes"
	"io/fs"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// testdata is the shared real-world mail, relative to this package.
const testdata = "../../../shared/testdata/mail"

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatalf("read test message: %v", err)
	}
	return raw
}

// notMail are the files of the shared folder that are not messages.
var notMail = map[string]bool{"README.md": true, "COPYRIGHT": true, "LICENSE": true, "__init__.py": true}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "\r\n"},
		{"a", "a\r\n"},
		{"a\n", "a\r\n"},
		{"a\r\n", "a\r\n"},
		{"a\r", "a\r\n"},
		{"a\nb\rc\r\nd", "a\r\nb\r\nc\r\nd\r\n"},
		{"\n\n", "\r\n\r\n"},
		{"\r\r\n\n", "\r\n\r\n\r\n"},
		{"\n.\n", "\r\n.\r\n"},
	}
	for _, tt := range tests {
		t.Run(strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(tt.in), func(t *testing.T) {
			got := Normalize([]byte(tt.in))
			if string(got) != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := Normalize(got); !bytes.Equal(again, got) {
				t.Errorf("Normalize is not idempotent: %q then %q", got, again)
			}
			if BareLF(got) {
				t.Errorf("BareLF(%q) = true after Normalize", got)
			}
		})
	}
	if !BareLF([]byte("a\r\n.\n")) || !BareLF([]byte("a\r.\r\n")) || BareLF([]byte("a\r\n.\r\n")) {
		t.Error("BareLF misreads line endings")
	}
}

// TestParseEveryTestMessage parses every message of the shared folder: no
// panic, valid UTF-8 everywhere, and a message that is stored as such.
func TestParseEveryTestMessage(t *testing.T) {
	n := 0
	err := filepath.WalkDir(testdata, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || notMail[d.Name()] {
			return err
		}
		n++
		rel, _ := filepath.Rel(testdata, path)
		t.Run(rel, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(raw)
			if err != nil {
				if err == ErrNotMail {
					return // reported by the caller as not mail
				}
				t.Fatalf("Parse: %v", err)
			}
			checkUTF8(t, m)
			if _, err := Parse(Normalize(raw)); err != nil {
				t.Errorf("Parse(Normalize(raw)): %v", err)
			}
			for _, a := range m.Attachments {
				ct, _, body, err := Part(raw, a.Part)
				if err != nil || ct != a.ContentType || len(body) != a.Size {
					t.Errorf("Part(%v) = %q, %d bytes, %v; want %q, %d bytes", a.Part, ct, len(body), err, a.ContentType, a.Size)
				}
			}
			_, _ = ParseBounce(raw)
			_ = m.AutoSubmitted()
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 200 {
		t.Errorf("only %d test messages found under %s", n, testdata)
	}
}

func checkUTF8(t *testing.T, m *Message) {
	t.Helper()
	strs := []string{m.MessageID, m.From.Name, m.From.Addr, m.Subject, m.InReplyTo, m.Text, m.HTML}
	strs = append(strs, m.References...)
	strs = append(strs, m.Problems...)
	for _, l := range [][]Address{m.To, m.Cc, m.ReplyTo} {
		for _, a := range l {
			strs = append(strs, a.Name, a.Addr)
		}
	}
	for _, a := range m.Attachments {
		strs = append(strs, a.Filename, a.ContentType)
	}
	for k, vs := range m.Header {
		strs = append(strs, k)
		strs = append(strs, vs...)
	}
	for _, s := range strs {
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8: %q", s)
		}
	}
}

func TestParseTestMessages(t *testing.T) {
	date := func(s string) time.Time {
		d, err := time.Parse(time.RFC1123Z, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		file  string
		check func(t *testing.T, m *Message)
	}{
		{"hyperkitty/bad-subject-header.txt", func(t *testing.T, m *Message) {
			// An iso-8859-1 encoded word holding 0x85: windows-1252's ellipsis.
			eq(t, "Subject", m.Subject, "(et en plus, en local…)")
		}},
		{"hyperkitty/bad_folding.txt", func(t *testing.T, m *Message) {
			eq(t, "Subject", m.Subject, "[<redacted>] Sicherheit 2005: Stichworte und Vorschlag PC-Mitglieder; Ergänzung!")
		}},
		{"hyperkitty/non-ascii-headers.txt", func(t *testing.T, m *Message) {
			eq(t, "From.Name", m.From.Name, "Vít Ondruch")
			eq(t, "From.Addr", m.From.Addr, "vondruch@redhat.com")
		}},
		{"hyperkitty/strange-in-reply-to-header.txt", func(t *testing.T, m *Message) {
			eq(t, "InReplyTo", m.InReplyTo, "200704070053.46646.other.person@example.com")
			eq(t, "From.Addr", m.From.Addr, "test@example.com") // "test at example.com (Dummy Person)"
			eq(t, "From.Name", m.From.Name, "Dummy Person")
			eq(t, "Date", m.Date.UTC().Format(time.RFC3339), "2007-04-06T22:43:55Z")
		}},
		{"hyperkitty/unixfrom-date.txt", func(t *testing.T, m *Message) {
			eq(t, "Date", m.Date.Format(time.RFC3339), "1999-11-09T21:54:11Z")
		}},
		{"hyperkitty/resent-date.txt", func(t *testing.T, m *Message) {
			eq(t, "Date", m.Date.Format(time.RFC3339), "1999-11-08T20:53:05-06:00")
		}},
		{"hyperkitty/non-ascii-date-header.txt", func(t *testing.T, m *Message) {
			eq(t, "Date", m.Date.Format(time.RFC3339), "2001-06-27T15:23:36Z")
		}},
		{"hyperkitty/bad_date_tz.txt", func(t *testing.T, m *Message) {
			// An offset of -3000 cannot be: the time is kept, in UTC.
			eq(t, "Date", m.Date.Format(time.RFC3339), "1999-11-30T23:56:33Z")
		}},
		{"hyperkitty/unknown-charset.txt", func(t *testing.T, m *Message) {
			if !strings.HasPrefix(m.Text, "Hi Mailman-cabal,") {
				t.Errorf("Text = %q", clip(m.Text, 60))
			}
		}},
		{"enmime/mail/qp-utf8-header.raw", func(t *testing.T, m *Message) {
			eq(t, "To.Name", m.To[0].Name, "Mirosław Marczak")
			eq(t, "Subject", m.Subject, "MIME UTF8 Test ¢ More Text")
		}},
		{"enmime/mail/html-only-inline.raw", func(t *testing.T, m *Message) {
			eq(t, "Text", m.Text, "Test of HTML section")
			if !strings.Contains(m.HTML, "<html") && !strings.Contains(m.HTML, "<HTML") {
				t.Errorf("HTML = %q", clip(m.HTML, 80))
			}
		}},
		{"enmime/mail/attachment-octet.raw", func(t *testing.T, m *Message) {
			eq(t, "MessageID", m.MessageID, "")
			if !slices.Contains(m.Problems, "no Message-ID") {
				t.Errorf("Problems = %q", m.Problems)
			}
		}},
		{"enmime/mail/mime-bad-8bit-filename.raw", func(t *testing.T, m *Message) {
			eq(t, "Filename", m.Attachments[0].Filename, "管理.doc")
		}},
		{"enmime/mail/malformed-multiple-address-header-values.raw", func(t *testing.T, m *Message) {
			eq(t, "From.Addr", m.From.Addr, "bob@extern")
		}},
		{"enmime/mail/mime-bad-content-transfer-encoding.raw", func(t *testing.T, m *Message) {
			// Plain text that claims to be base64 is kept as written.
			if !strings.HasPrefix(m.Text, "ploozdect") {
				t.Errorf("Text = %q", clip(m.Text, 60))
			}
		}},
		{"enmime/low-quality/bad-header-start.raw", func(t *testing.T, m *Message) {
			eq(t, "From.Addr", m.From.Addr, "james@makita.skynet")
		}},
		{"enmime/low-quality/unk-encoding-part.raw", func(t *testing.T, m *Message) {
			eq(t, "Text", m.Text, "A text section")
			if len(m.Problems) == 0 {
				t.Error("no problem noted for an unknown transfer encoding")
			}
		}},
		{"cpython/msg_07.txt", func(t *testing.T, m *Message) {
			eq(t, "To.Name", m.To[0].Name, "Dingus Lovers")
			if len(m.Attachments) != 1 || m.Attachments[0].Filename != "dingusfish.gif" || m.Attachments[0].Size != 3512 || m.Attachments[0].ContentType != "image/gif" {
				t.Errorf("Attachments = %+v", m.Attachments)
			}
			if !m.Date.Equal(date("Fri, 20 Apr 2001 19:35:02 -0400")) {
				t.Errorf("Date = %v", m.Date)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := Parse(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, m)
		})
	}
}

func eq(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

// frenchMessage is a typical list post: quoted-printable windows-1252 text
// labelled iso-8859-1 and a small PDF.
func frenchMessage() []byte {
	var b strings.Builder
	b.WriteString("From: =?iso-8859-1?q?Cl=E9mence_Duval?= <clemence@example.org>\r\n" +
		"To: mediation@listes.example.org\r\n" +
		"Subject: =?iso-8859-1?q?Fiche_atelier_=AB_d=E9couvrir_la_tablette_=BB?=\r\n" +
		"Date: Tue, 3 Mar 2026 10:15:00 +0100\r\n" +
		"Message-ID: <fiche-42@example.org>\r\n" +
		"In-Reply-To: <fiche-41@example.org>\r\n" +
		"References: <fiche-40@example.org> <fiche-41@example.org>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	for i := 0; i < 25; i++ {
		b.WriteString("Bonjour =E0 toutes et =E0 tous, voici la fiche de l'atelier =AB d=E9couvrir la t=\r\nablette =BB : 2 =80 la s=E9ance, =9Cuvre collective.\r\n")
	}
	b.WriteString("--b1\r\nContent-Type: application/pdf; name=\"fiche.pdf\"\r\nContent-Disposition: attachment; filename=\"../../fiche.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	b.WriteString("JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K\r\nZW5kc3RyZWFtCmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK\r\n--b1--\r\n")
	return []byte(b.String())
}

func TestParseFrench(t *testing.T) {
	raw := frenchMessage()
	m, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "From.Name", m.From.Name, "Clémence Duval")
	eq(t, "Subject", m.Subject, "Fiche atelier « découvrir la tablette »")
	eq(t, "MessageID", m.MessageID, "fiche-42@example.org")
	eq(t, "InReplyTo", m.InReplyTo, "fiche-41@example.org")
	if !slices.Equal(m.References, []string{"fiche-40@example.org", "fiche-41@example.org"}) {
		t.Errorf("References = %q", m.References)
	}
	// iso-8859-1 is read as windows-1252: 0x80 is the euro sign, 0x9C "œ".
	if want := "Bonjour à toutes et à tous, voici la fiche de l'atelier « découvrir la tablette » : 2 € la séance, œuvre collective.\n"; !strings.HasPrefix(m.Text, want) {
		t.Errorf("Text = %q, want it to start with %q", clip(m.Text, 200), want)
	}
	if len(m.Attachments) != 1 {
		t.Fatalf("Attachments = %+v", m.Attachments)
	}
	a := m.Attachments[0]
	eq(t, "Filename", a.Filename, "fiche.pdf")
	ct, name, body, err := Part(raw, a.Part)
	if err != nil || ct != "application/pdf" || name != "fiche.pdf" || !bytes.HasPrefix(body, []byte("%PDF-1.4")) || len(body) != a.Size {
		t.Errorf("Part = %q %q %q %v", ct, name, clip(string(body), 20), err)
	}
	if _, _, _, err := Part(raw, []int{7}); err == nil {
		t.Error("Part of a missing path: no error")
	}
	if len(m.Problems) != 0 {
		t.Errorf("Problems = %q", m.Problems)
	}
}

func TestParseBadInput(t *testing.T) {
	tests := []struct {
		name, raw string
		notMail   bool
	}{
		{"empty", "", true},
		{"no header", "hello\r\nworld\r\n", true},
		{"only blank line", "\r\n\r\nbody", true},
		{"header only", "Subject: x", false},
		{"nul bytes", "Subject: a\x00b\r\n\r\nc\x00d", false},
		{"deep nesting", strings.Repeat("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n", 100), false},
		{"many parts", "Content-Type: multipart/mixed; boundary=x\r\n\r\n" + strings.Repeat("--x\r\n\r\na\r\n", 2000) + "--x--\r\n", false},
		{"bad base64", "Content-Transfer-Encoding: base64\r\n\r\n!!!!====QUJD====", false},
		{"unknown charset", "Content-Type: text/plain; charset=x-klingon\r\n\r\ncaf\xe9", false},
		{"encoded word garbage", "Subject: =?utf-8?b?!!!?= =?x-none?q?caf=E9?= =?utf-8?q?=FF?=\r\n\r\n", false},
		{"absurd date", "Date: Mon, 99 Foo 99999 99:99:99 +9999\r\n\r\n", false},
		{"references cycle", "Message-ID: <a@b>\r\nReferences: <a@b> <a@b> junk, c@d\r\n\r\n", false},
		{"header injection", "Subject: a\r\n\tb\rc\nBcc: x@y\r\n\r\n", false},
		{"huge header", "Subject: " + strings.Repeat("a", 300<<10) + "\r\n\r\nbody", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.raw))
			if tt.notMail {
				if err != ErrNotMail {
					t.Errorf("Parse: %v, want ErrNotMail", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkUTF8(t, m)
			if strings.ContainsAny(m.Subject, "\r\n\x00") {
				t.Errorf("Subject has control characters: %q", m.Subject)
			}
		})
	}
	m, _ := Parse([]byte("Message-ID: <a@b>\r\nReferences: <a@b> <a@b> junk, c@d\r\n\r\n"))
	if !slices.Equal(m.References, []string{"a@b"}) {
		t.Errorf("References = %q", m.References)
	}
	m, _ = Parse([]byte("References: x@y, z@w\r\n\r\n"))
	if !slices.Equal(m.References, []string{"x@y", "z@w"}) {
		t.Errorf("References without brackets = %q", m.References)
	}
}

func TestDecodeHeader(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"=?utf-8?q?caf=C3=A9?=", "café"},
		{"=?ISO-8859-1?Q?=80_et_=9C?=", "€ et œ"},
		{"=?us-ascii?q?caf=E9?=", "café"},
		{"=?latin1?b?Y2Fm6Q==?=", "café"},
		{"=?x-unknown-thing?q?caf=E9?=", "café"},
		{"=?utf-8?q?a?= =?utf-8?q?b?=", "ab"},
		{"raw caf\xe9 bytes", "raw café bytes"},
		{"folded\r\n line\tand tab", "folded line and tab"},
		{"ctl\x01\x7fchars", "ctlchars"},
		{"=?utf-8?b?broken", "=?utf-8?b?broken"},
		{"=?koi8-r?b?8NLJ18XU?=", "Привет"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := DecodeHeader(tt.in); got != tt.want {
				t.Errorf("DecodeHeader(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Tue, 3 Mar 2026 10:15:00 +0100", "2026-03-03T10:15:00+01:00"},
		{"3 Mar 2026 10:15 +0100", "2026-03-03T10:15:00+01:00"},
		{"Tue, 3 Mar 26 10:15:00 +0100", "2026-03-03T10:15:00+01:00"},
		{"Tue, 3 Mar 2026 10:15:00 UT", "2026-03-03T10:15:00Z"},
		{"Tue, 3 Mar 2026 10:15:00 EST", "2026-03-03T10:15:00-05:00"},
		{"Tue, 3 Mar 2026 10:15:00 CET", "2026-03-03T10:15:00+01:00"},
		{"Tue, 3 Mar 2026 10:15:00 +0100 (CET)", "2026-03-03T10:15:00+01:00"},
		{"Tue, 3 Mar 2026 10:15:00 +0100 added by the relay", "2026-03-03T10:15:00+01:00"},
		{"Mar, 03 Mar 2026 10:15:00 +0100", "2026-03-03T10:15:00+01:00"},
		{"mardi, 3 Mar 2026 10:15:00 +0100", "2026-03-03T10:15:00+01:00"},
		{"2026-03-03 10:15:00", "2026-03-03T10:15:00Z"},
		{"Tue Mar  3 10:15:00 2026", "2026-03-03T10:15:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseDate(tt.in)
			if !ok || got.Format(time.RFC3339) != tt.want {
				t.Errorf("parseDate(%q) = %v, %v; want %s", tt.in, got.Format(time.RFC3339), ok, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "yesterday", "Tue, 99 Foo 2026"} {
		if got, ok := parseDate(bad); ok {
			t.Errorf("parseDate(%q) = %v, want failure", bad, got)
		}
	}
}

func TestAddresses(t *testing.T) {
	tests := []struct {
		in   string
		want []Address
	}{
		{`"Duval, Clémence" <c@example.org>, b@example.org`, []Address{{"Duval, Clémence", "c@example.org"}, {"", "b@example.org"}}},
		{`=?utf-8?q?Cl=C3=A9mence?= <c@example.org>`, []Address{{"Clémence", "c@example.org"}}},
		{`Bad <<x@example.org>, good@example.org`, []Address{{"Bad", "x@example.org"}, {"", "good@example.org"}}},
		{`A <a@x.org> B <b@x.org>`, []Address{{"A", "a@x.org"}, {"B", "b@x.org"}}},
		{`nobody, c@example.org`, []Address{{"", "c@example.org"}}},
		{`undisclosed-recipients:;`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, _ := parseAddressList(tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("parseAddressList(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	for in, want := range map[string]string{
		"a@Example.ORG": "a@example.org", "<a.b+c@x.fr>": "a.b+c@x.fr", "a@localhost": "a@localhost",
		"a": "", "@x.org": "", "a@": "", "a b@x.org": "", "a@x..org": "", "a@b@c.org": "", "A <a@x.org>": "", ".a@x.org": "",
	} {
		got, ok := AddrSpec(in)
		if got != want || ok != (want != "") {
			t.Errorf("AddrSpec(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestHTMLText(t *testing.T) {
	in := `<html><head><title>T</title><style>p{}</style></head><body>
<p>Bonjour&nbsp;&eacute;quipe,</p><p>voir <a href="https://example.org/fiche">la fiche</a>
et <a href="https://example.org/">https://example.org/</a>.</p><ul><li>un</li><li>deux</li></ul>
<script>alert(1)</script>ligne<br>suivante</body></html>`
	want := "Bonjour équipe,\n\nvoir la fiche <https://example.org/fiche> et https://example.org/.\n\n- un\n- deux\n\nligne\nsuivante"
	if got := HTMLText(in); got != want {
		t.Errorf("HTMLText = %q, want %q", got, want)
	}
}

func TestUnflow(t *testing.T) {
	in := "Un paragraphe qui \ncontinue ici.\n> cite \n> suite\n-- \nsig\n"
	want := "Un paragraphe qui continue ici.\n> cite suite\n-- \nsig\n"
	if got := unflow(in, false); got != want {
		t.Errorf("unflow = %q, want %q", got, want)
	}
	if got := unflow("mot \ncoupé\n", true); got != "motcoupé\n" {
		t.Errorf("unflow delsp = %q", got)
	}
}

func TestAutoSubmitted(t *testing.T) {
	tests := []struct {
		name, header string
		want         bool
	}{
		{"person", "From: a@example.org\r\nSubject: Absence de Karim mardi\r\n", false},
		{"auto-submitted", "From: a@example.org\r\nAuto-Submitted: auto-replied\r\n", true},
		{"auto-submitted no", "From: a@example.org\r\nAuto-Submitted: no\r\n", false},
		{"precedence bulk", "From: a@example.org\r\nPrecedence: bulk\r\n", true},
		{"precedence list", "From: a@example.org\r\nPrecedence: list\r\n", true},
		{"x-autoreply", "From: a@example.org\r\nX-Autoreply: yes\r\n", true},
		{"exchange oof", "From: a@example.org\r\nX-Auto-Response-Suppress: OOF, AutoReply\r\n", true},
		{"exchange other", "From: a@example.org\r\nX-Auto-Response-Suppress: RN, NRN\r\n", false},
		{"daemon", "From: MAILER-DAEMON@example.org\r\n", true},
		{"empty return-path", "Return-Path: <>\r\nFrom: a@example.org\r\n", true},
		{"vacation mailer", "From: a@example.org\r\nX-Mailer: vacation 1.2\r\n", true},
		{"subject with hint", "From: a@example.org\r\nReturn-Path: <a+vacation@example.org>\r\nSubject: Réponse automatique: absent\r\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.header + "\r\nbody"))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.AutoSubmitted(); got != tt.want {
				t.Errorf("AutoSubmitted = %v, want %v", got, tt.want)
			}
		})
	}
	m, _ := Parse([]byte("From: a@example.org\r\n\r\n"))
	if !FromDaemon("", m) || !FromDaemon("<>", m) || !FromDaemon("MAILER-DAEMON@x.org", m) || !FromDaemon("postmaster@x.org", nil) || FromDaemon("a@example.org", m) {
		t.Error("FromDaemon misreads envelope senders")
	}
}

func TestIsLoop(t *testing.T) {
	h := textproto.MIMEHeader{"List-Id": {"Médiation <mediation.listes.example.org>"}}
	if !IsLoop(h, []string{"mediation.listes.example.org"}) || IsLoop(h, []string{"autre.example.org"}) || IsLoop(h, nil) {
		t.Error("IsLoop misreads List-Id")
	}
	h = textproto.MIMEHeader{"X-Loop": {"mediation@listes.example.org"}}
	if !IsLoop(h, []string{"mediation.listes.example.org"}) {
		t.Error("IsLoop misreads X-Loop")
	}
}
