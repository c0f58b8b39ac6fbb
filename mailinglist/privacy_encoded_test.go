package mailinglist

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"

	"codeberg.org/placette/placette/mailinglist/mailmsg"
)

// b64 returns s in base64, in lines of 76 characters ending with CRLF.
func b64(s string) string {
	e := base64.StdEncoding.EncodeToString([]byte(s))
	var b strings.Builder
	for len(e) > 76 {
		b.WriteString(e[:76] + "\r\n")
		e = e[76:]
	}
	return b.String() + e + "\r\n"
}

// pngBytes is the start of a PNG file with an "@" in it, sent as base64.
var pngBytes = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR jean.dupont@example.org\x00\xff"

// encodedCases are messages hiding addresses in encoded text; keep is text
// each must still show once decoded.
var encodedCases = []struct {
	name string
	raw  string
	keep []string
}{
	{"base64 text/plain",
		"From: Jean <jean.dupont@example.org>\r\nSubject: b64\r\nMessage-ID: <b64@x>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			b64("Bonjour, écrivez à jean.dupont@example.org ou à marie-claire.durand@exemple.fr, merci.\n"),
		[]string{"Bonjour, écrivez à jea...@example.org ou à mar...@exemple.fr, merci."}},
	{"quoted-printable html with a soft break in the address",
		"From: jean.dupont@example.org\r\nSubject: qp\r\nMessage-ID: <qp@x>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
			"<p>=C3=89crire =C3=A0 <a href=3D\"mailto:jean.dupo=\r\nnt@example.org\">jean.dupo=\r\nnt@example.org</a> pour l'atelier.</p>\r\n",
		[]string{"<p>Écrire à <a href=\"mailto:jea...@example.org\">jea...@example.org</a> pour l'atelier.</p>"}},
	{"nested multipart/alternative in multipart/mixed",
		"From: a@b.example\r\nSubject: nested\r\nMessage-ID: <nested@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"out\"\r\n\r\npreamble\r\n--out\r\n" +
			"Content-Type: multipart/alternative; boundary=\"in\"\r\n\r\n--in\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			b64("Texte : paul.martin@example.net\n") +
			"--in\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<b>HTML =3A paul.mar=\r\ntin@example.net</b>\r\n--in--\r\n" +
			"--out\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename*=utf-8''liste%20paul.martin%40example.net.txt\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			b64("Liste : paul.martin@example.net\n") + "--out--\r\nepilogue\r\n",
		[]string{"Texte : pau...@example.net", "<b>HTML : pau...@example.net</b>", "Liste : pau...@example.net", "preamble", "epilogue"}},
	{"message/rfc822 attachment",
		"From: a@b.example\r\nSubject: fwd\r\nMessage-ID: <fwd@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nVoir ci-joint.\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n" +
			"From: =?utf-8?b?" + base64.StdEncoding.EncodeToString([]byte("Lucie lucie.bernard@example.org")) + "?= <lucie.bernard@example.org>\r\nSubject: inner\r\nMessage-ID: <inner@x>\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			b64("Message transféré de lucie.bernard@example.org.\n") + "--b--\r\n",
		[]string{"Voir ci-joint.", "Message transféré de luc...@example.org.", "Lucie luc...@example.org"}},
	{"encoded words in Subject and display name",
		"From: =?utf-8?b?" + base64.StdEncoding.EncodeToString([]byte("Élodie (elodie.roux@example.org)")) + "?= <elodie.roux@example.org>\r\n" +
			"To: =?utf-8?q?Dupont=2C_Jean_jean=2Edupont=40example=2Eorg?= <jean.dupont@example.org>, ana@example.org\r\n" +
			"Subject: =?utf-8?b?" + base64.StdEncoding.EncodeToString([]byte("Écrivez à elodie.roux@example.org")) + "?=\r\n" +
			"Message-ID: <words@x>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCorps.\r\n",
		[]string{"Écrivez à elo...@example.org", "Élodie (elo...@example.org)", "Dupont, Jean jea...@example.org", "Corps."}},
	{"boundary that looks like an address",
		"From: a@b.example\r\nSubject: bd\r\nMessage-ID: <bd@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"==_1234@pigeon.example.be==_\"\r\n\r\n--==_1234@pigeon.example.be==_\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			b64("Corps du message, pour jean.dupont@example.org.\n") + "--==_1234@pigeon.example.be==_--\r\n",
		[]string{"Corps du message, pour jea...@example.org."}},
	{"image left as it is",
		"From: a@b.example\r\nSubject: img\r\nMessage-ID: <img@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nUne image.\r\n--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"x.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			b64(pngBytes) + "--b--\r\n",
		[]string{"Une image."}},
	{"broken base64",
		"From: a@b.example\r\nSubject: broken\r\nMessage-ID: <broken@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nAvant.\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			"am Vhb!i5k*dXBvbnRA ZXhhbXBsZS5vcmc=\r\n" + b64("jean.dupont@example.org") + "--b--\r\n",
		[]string{"Avant.", undecodableNotice}},
	{"iso-8859-1 text",
		"From: a@b.example\r\nSubject: latin\r\nMessage-ID: <latin@x>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
			"D=E9j=E0 vu : fran=E7ois.l=E9ger@exemple.fr et jean.dupont@example.org =\r\n=E0 bient=F4t.\r\n",
		[]string{"Déjà vu : fra...@exemple.fr et jea...@example.org à bientôt."}},
	{"iso-8859-1 text, 8bit",
		"From: a@b.example\r\nSubject: latin8\r\nMessage-ID: <latin8@x>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
			"D\xe9j\xe0 vu : fran\xe7ois.l\xe9ger@exemple.fr\r\n",
		[]string{"Déjà vu : fra...@exemple.fr"}},
	{"mislabelled charset written again in utf-8",
		"From: a@b.example\r\nSubject: x\r\nMessage-ID: <cs@x>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			b64("Pr\xe9nom : jean.dupont@example.org\n"),
		[]string{"Prénom : jea...@example.org"}},
}

// isKept reports whether the header field k (canonical) is one whose
// addresses are names of messages.
func isKept(k string) bool {
	for _, f := range keptFields {
		if textproto.CanonicalMIMEHeaderKey(f) == k {
			return true
		}
	}
	return false
}

// namedCase returns the raw message of the encoded case called name.
func namedCase(name string) []byte {
	for _, c := range encodedCases {
		if c.name == name {
			return []byte(c.raw)
		}
	}
	panic("no case " + name)
}

// decodeEntity appends to sb what a reader decoding header and body sees:
// every header field decoded, every text part transfer- and
// charset-decoded, message/rfc822 parts walked.
func decodeEntity(sb *strings.Builder, h textproto.MIMEHeader, body []byte, depth int) {
	if depth > 30 {
		return
	}
	for k, vs := range h {
		if isKept(k) {
			continue
		}
		for _, v := range vs {
			sb.WriteString(k + ": " + mailmsg.DecodeHeader(v) + "\n")
			if _, params, err := mime.ParseMediaType(v); err == nil {
				for _, p := range params {
					sb.WriteString(mailmsg.DecodeHeader(p) + "\n")
				}
			}
		}
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mt = "text/plain"
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "base64":
		if d, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, body)))); err == nil {
			body = d
		}
	case "quoted-printable":
		if d, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body))); err == nil {
			body = d
		}
	}
	switch {
	case strings.HasPrefix(mt, "multipart/") && params["boundary"] != "":
		r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			decodeEntity(sb, p.Header, b, depth+1)
		}
		// The preamble and the epilogue.
		delim := []byte("--" + params["boundary"])
		if i := bytes.Index(body, delim); i >= 0 {
			sb.Write(body[:i])
		}
		if i := bytes.LastIndex(body, append(delim, '-', '-')); i >= 0 {
			sb.Write(body[i+len(delim)+2:])
		}
	case mt == "message/rfc822":
		if m, err := mail.ReadMessage(bytes.NewReader(body)); err == nil {
			b, _ := io.ReadAll(m.Body)
			decodeEntity(sb, textproto.MIMEHeader(m.Header), b, depth+1)
		} else {
			sb.Write(body)
		}
	case strings.HasPrefix(mt, "image/"):
	default:
		s, _ := mailmsg.DecodeText(params["charset"], body)
		sb.WriteString(s + "\n")
	}
}

// decodedMessage returns what a reader decoding raw sees.
func decodedMessage(t *testing.T, raw []byte) string {
	t.Helper()
	var sb strings.Builder
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return string(raw)
	}
	b, _ := io.ReadAll(m.Body)
	decodeEntity(&sb, textproto.MIMEHeader(m.Header), b, 0)
	return sb.String()
}

// clearAddresses returns the addresses in s that are not obfuscated.
func clearAddresses(s string) []string {
	var found []string
	for _, m := range addrRE.FindAllString(s, -1) {
		if !strings.Contains(m, "...@") && !strings.Contains(m, "…@") {
			found = append(found, m)
		}
	}
	return found
}

// checkServed checks raw bytes served by a public archive: no address in
// clear once decoded (by this test's decoder and by mailmsg), and the
// message still parses.
func checkServed(t *testing.T, raw []byte, keep []string) {
	t.Helper()
	dec := decodedMessage(t, raw)
	if a := clearAddresses(dec); len(a) > 0 {
		t.Errorf("addresses in clear %q in:\n%s\ndecoded:\n%s", a, raw, dec)
	}
	m, err := mailmsg.Parse(raw)
	if err != nil {
		t.Fatalf("the served message does not parse: %v\n%s", err, raw)
	}
	all := m.Subject + "\n" + m.From.Name + "\n" + m.Text + "\n" + m.HTML
	for _, a := range m.To {
		all += "\n" + a.Name + " " + a.Addr
	}
	all += "\n" + m.From.Addr
	if a := clearAddresses(all); len(a) > 0 {
		t.Errorf("mailmsg.Parse shows addresses in clear %q:\n%s", a, all)
	}
	for _, att := range m.Attachments {
		ct, _, b, err := mailmsg.Part(raw, att.Part)
		if err == nil && (strings.HasPrefix(ct, "text/") || ct == "message/rfc822") {
			if a := clearAddresses(string(b)); len(a) > 0 && ct != "message/rfc822" {
				t.Errorf("attachment %v shows %q", att.Part, a)
			}
		}
	}
	for _, k := range keep {
		if !strings.Contains(dec, k) {
			t.Errorf("lost %q; decoded:\n%s", k, dec)
		}
	}
}

func TestObfuscateMIME(t *testing.T) {
	for _, c := range encodedCases {
		t.Run(c.name, func(t *testing.T) {
			for _, eol := range []string{"\r\n", "\n"} {
				raw := []byte(strings.ReplaceAll(c.raw, "\r\n", eol))
				out := obfuscateMIME(raw)
				checkServed(t, out, c.keep)
				if strings.Contains(string(out), "Message-ID: <") != strings.Contains(c.raw, "Message-ID: <") {
					t.Error("Message-ID changed")
				}
			}
		})
	}
	t.Run("image bytes kept", func(t *testing.T) {
		raw := namedCase("image left as it is")
		out := obfuscateMIME(raw)
		_, _, b, err := mailmsg.Part(out, []int{1})
		if err != nil || string(b) != pngBytes {
			t.Errorf("image changed: %q, %v", b, err)
		}
		if !bytes.Contains(out, []byte(b64(pngBytes))) {
			t.Error("the image's base64 was written again")
		}
	})
	t.Run("no address, same bytes", func(t *testing.T) {
		raw := namedCase("nested multipart/alternative in multipart/mixed")
		raw = bytes.ReplaceAll(raw, []byte("paul.mar=\r\ntin@example.net"), []byte("x"))
		raw = bytes.ReplaceAll(raw, []byte("a@b.example"), []byte("x"))
		raw = bytes.ReplaceAll(raw, []byte(b64("Texte : paul.martin@example.net\n")), []byte(b64("Texte\n")))
		raw = bytes.ReplaceAll(raw, []byte(b64("Liste : paul.martin@example.net\n")), []byte(b64("Liste\n")))
		raw = bytes.ReplaceAll(raw, []byte("%40"), []byte("."))
		if bytes.Count(raw, []byte("@")) != 1 {
			t.Fatalf("the case still has an address:\n%s", raw)
		}
		if out := obfuscateMIME(raw); !bytes.Equal(out, raw) {
			t.Errorf("a message without address changed:\n%s", out)
		}
	})
	t.Run("charset changed to utf-8", func(t *testing.T) {
		out := obfuscateMIME(namedCase("mislabelled charset written again in utf-8"))
		if !bytes.Contains(out, []byte("charset=utf-8")) {
			t.Errorf("charset not updated:\n%s", out)
		}
	})
	t.Run("latin-1 stays latin-1", func(t *testing.T) {
		out := obfuscateMIME(namedCase("iso-8859-1 text"))
		if !bytes.Contains(out, []byte("charset=iso-8859-1")) || !bytes.Contains(out, []byte("D=E9j=E0")) {
			t.Errorf("latin-1 text not written in latin-1:\n%s", out)
		}
	})
}

func TestObfuscateMIMEBroken(t *testing.T) {
	for _, raw := range []string{
		"", "\r\n", "From: a@b.c", "From: a@b.c\r\n\r\n", "Content-Type: multipart/mixed\r\n\r\n--\r\nx@y.z\r\n",
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\njean@x.org\r\n",
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b\r\n--b--",
		"Content-Type: text/plain; charset=\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64("jean.dupont@example.org"),
		"Content-Type: =?utf-8?q?jean=40x.org?=\r\n\r\nx\r\n",
		"Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64("jean.dupont@example.org"),
		strings.Repeat("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n", 40) + "jean.dupont@example.org\r\n",
	} {
		t.Run(fmt.Sprintf("%.30q", raw), func(t *testing.T) {
			out := obfuscateMIME([]byte(raw))
			if a := clearAddresses(decodedMessage(t, out)); len(a) > 0 {
				t.Errorf("addresses in clear %q:\n%s", a, out)
			}
			if bytes.Contains(out, []byte("jean.dupont@")) || bytes.Contains(out, []byte("jean@x")) {
				t.Errorf("an address in clear:\n%s", out)
			}
		})
	}
}

func FuzzObfuscateMIME(f *testing.F) {
	for _, c := range encodedCases {
		f.Add(c.raw)
	}
	f.Add(attachmentMsg)
	f.Fuzz(func(t *testing.T, s string) {
		out := walkMIME([]byte(s)) // a panic fails the test
		if !bytes.Equal(out, obfuscateMIME([]byte(s))) {
			t.Fatalf("obfuscateMIME(%q) differs from its walk", s)
		}
		if _, err := mailmsg.Parse([]byte(s)); err == nil {
			if _, err := mailmsg.Parse(out); err != nil {
				t.Fatalf("%q parses, its obfuscation %q does not: %v", s, out, err)
			}
		}
		if strings.Count(s, "\n") > 0 && len(out) == 0 {
			t.Fatalf("%q gave nothing", s)
		}
	})
}

// TestEncodedAddressesServed imports the cases into a public and a private
// list and reads their raw views and month mbox.
func TestEncodedAddressesServed(t *testing.T) {
	s := newTestSite(t)
	for _, l := range []List{{Name: "pub", Policy: PolicyMembers}, {Name: "priv", Policy: PolicyMembers, Private: true, Moderators: "karim@example.org"}} {
		if err := s.svc.CreateList(l); err != nil {
			t.Fatal(err)
		}
		var in strings.Builder
		for i, c := range encodedCases {
			raw := strings.Replace(c.raw, "Subject:", fmt.Sprintf("Date: Mon, %d Mar 2026 12:00:00 +0000\r\nSubject:", i+2), 1)
			in.WriteString("From x@y Mon Mar  2 12:00:00 2026\n" + strings.ReplaceAll(raw, "\r\n", "\n") + "\n")
		}
		res, err := s.svc.Import(context.Background(), l.Name, strings.NewReader(in.String()), nil)
		if err != nil || res.Added != len(encodedCases) {
			t.Fatalf("import: %+v, %v", res, err)
		}
	}
	c := s.client(t, "")
	for _, tc := range encodedCases {
		m, err := mailmsg.Parse([]byte(tc.raw))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(tc.name, func(t *testing.T) {
			r := s.get(t, c, messagePath("pub", m.MessageID)+"/raw", "")
			if r.status != http.StatusOK {
				t.Fatalf("status %d", r.status)
			}
			checkServed(t, []byte(r.body), tc.keep)
		})
	}
	box := s.get(t, c, "/lists/pub/mbox/2026-03", "")
	if box.status != http.StatusOK {
		t.Fatalf("mbox: %d", box.status)
	}
	msgs := strings.Split(box.body, "\nFrom ")
	if len(msgs) != len(encodedCases) {
		t.Errorf("%d messages in the mbox, want %d", len(msgs), len(encodedCases))
	}
	for _, m := range msgs {
		_, raw, _ := strings.Cut(m, "\n")
		dec := decodedMessage(t, []byte(raw))
		if a := clearAddresses(dec); len(a) > 0 {
			t.Errorf("mbox: addresses in clear %q:\n%s", a, raw)
		}
	}
	staff := s.client(t, "alice")
	m, _ := mailmsg.Parse(namedCase("base64 text/plain"))
	if r := s.get(t, staff, messagePath("priv", m.MessageID)+"/raw", ""); !strings.Contains(r.body, b64("Bonjour")[:6]) || strings.Contains(r.body, "...@") {
		t.Errorf("a private list's raw view was changed:\n%s", r.body)
	}
}

func BenchmarkObfuscateMIME(b *testing.B) {
	raw := namedCase("nested multipart/alternative in multipart/mixed")
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		obfuscateMIME(raw)
	}
}
