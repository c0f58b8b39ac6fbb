package mailinglist

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"codeberg.org/placette/placette/mailinglist/mailmsg"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// attachedFile is one attachment of textAttachmentsMsg.
type attachedFile struct {
	name, header string // the part's name and header fields
	body         string // its body as written in the message
	text         bool   // served obfuscated in a public archive
	addr         string // the address it holds, in clear
}

// textAttachmentsFiles returns attachments of every kind, each with an
// address: text parts in quoted-printable (the address split by a soft
// line break), base64 in ISO-8859-1, 8bit HTML, base64 UTF-16, JSON; and
// binary parts that must come back byte for byte.
func textAttachmentsFiles() []attachedFile {
	b64 := func(b []byte) string {
		s := base64.StdEncoding.EncodeToString(b)
		var out strings.Builder
		for len(s) > 76 {
			out.WriteString(s[:76] + "\r\n")
			s = s[76:]
		}
		return out.String() + s + "\r\n"
	}
	latin1, _ := charmap.ISO8859_1.NewEncoder().String("nom;adresse\r\nRené;rene.martin@example.org\r\n")
	utf16, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String("Écrire à lucie.bernard@example.org\r\n")
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "ana.lopez@example.org\x00\x01\x02"...)
	return []attachedFile{
		{"notes.txt", "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n",
			"Contact : jean.du=\r\npont@example.net, merci =C3=A0 tous.\r\n", true, "jean.dupont@example.net"},
		{"membres.csv", "Content-Type: text/csv; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n",
			b64([]byte(latin1)), true, "rene.martin@example.org"},
		{"page.html", "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n",
			"<p><a href=\"mailto:zoe.martin@example.org\">écrire</a></p>\r\n", true, "zoe.martin@example.org"},
		{"lettre.txt", "Content-Type: text/plain; charset=utf-16\r\nContent-Transfer-Encoding: base64\r\n",
			b64([]byte(utf16)), true, "lucie.bernard@example.org"},
		{"contacts.json", "Content-Type: application/json\r\n",
			"{\"mail\": \"karim.haddad@example.org\"}\r\n", true, "karim.haddad@example.org"},
		{"data.bin", "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n",
			b64([]byte("\x00\x01paul.durand@example.org\xff\xfe")), false, "paul.durand@example.org"},
		{"photo.png", "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n",
			b64(png), false, "ana.lopez@example.org"},
	}
}

// textAttachmentsMsg is a message with textAttachmentsFiles attached.
func textAttachmentsMsg() string {
	var b strings.Builder
	b.WriteString("From: Zoé <zoe@example.org>\r\nSubject: Pièces jointes\r\nDate: Mon, 2 Mar 2026 12:00:00 +0000\r\nMessage-ID: <files@x>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"sep\"\r\n\r\n--sep\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nVoici les fichiers.\r\n")
	for _, f := range textAttachmentsFiles() {
		fmt.Fprintf(&b, "--sep\r\n%sContent-Disposition: attachment; filename=\"%s\"\r\n\r\n%s", f.header, f.name, f.body)
	}
	b.WriteString("--sep--\r\n")
	return b.String()
}

// decodedAttachment returns an attachment as text to look for addresses
// in: UTF-16 and ISO-8859-1 read as such.
func decodedAttachment(name string, b []byte) string {
	switch name {
	case "lettre.txt":
		s, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder().Bytes(b)
		return string(s)
	case "membres.csv":
		s, _ := charmap.ISO8859_1.NewDecoder().Bytes(b)
		return string(s)
	}
	return string(b)
}

// TestPublicTextAttachments downloads every attachment of a message from a
// public list and from a private one: in the public archive, text
// attachments have their addresses obfuscated whatever their transfer
// encoding and charset, and binary ones are served byte for byte; the
// private archive serves everything as it came.
func TestPublicTextAttachments(t *testing.T) {
	s := newTestSite(t)
	raw := textAttachmentsMsg()
	for _, l := range []List{{Name: "publique", Policy: PolicyMembers}, {Name: "privee", Policy: PolicyMembers, Private: true}} {
		if err := s.svc.CreateList(l); err != nil {
			t.Fatal(err)
		}
		if res, err := s.svc.Import(context.Background(), l.Name, strings.NewReader(raw), nil); err != nil || res.Added != 1 {
			t.Fatalf("import into %s: %+v, %v", l.Name, res, err)
		}
	}
	_, stored, err := s.svc.ArchivedMessage("publique", "files@x")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mailmsg.Parse(stored)
	if err != nil {
		t.Fatal(err)
	}
	files := textAttachmentsFiles()
	if len(msg.Attachments) != len(files) {
		t.Fatalf("%d attachments, want %d: %+v", len(msg.Attachments), len(files), msg.Attachments)
	}
	anon, admin := s.client(t, ""), s.client(t, "alice")
	for i, f := range files {
		_, _, want, err := mailmsg.Part(stored, msg.Attachments[i].Part)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(decodedAttachment(f.name, want), f.addr) {
			t.Fatalf("%s: the test's attachment lacks %s", f.name, f.addr)
		}
		t.Run(f.name, func(t *testing.T) {
			path := fmt.Sprintf("/a/%d", i+1)
			pub := s.get(t, anon, "/lists/publique/m/files@x"+path, "")
			priv := s.get(t, admin, "/lists/privee/m/files@x"+path, "")
			for _, r := range []response{pub, priv} {
				if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment;") || r.header.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("status %d, %v", r.status, r.header)
				}
			}
			if priv.body != string(want) {
				t.Errorf("the private archive changed the file: %q, want %q", priv.body, want)
			}
			if !f.text {
				if pub.body != string(want) {
					t.Errorf("the public archive changed a binary file: %q, want %q", pub.body, want)
				}
				return
			}
			text := decodedAttachment(f.name, []byte(pub.body))
			if strings.Contains(text, f.addr) || clearAddr.MatchString(text) {
				t.Errorf("an address in clear in the public download: %q", text)
			}
			local, domain, _ := strings.Cut(f.addr, "@")
			if !strings.Contains(text, local[:3]+"...@"+domain) {
				t.Errorf("the public download lacks the obfuscated address %s...@%s: %q", local[:3], domain, text)
			}
			if pub.header.Get("Content-Length") != fmt.Sprint(len(pub.body)) {
				t.Errorf("Content-Length %s for %d bytes", pub.header.Get("Content-Length"), len(pub.body))
			}
		})
	}
}
