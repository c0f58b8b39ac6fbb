package delivery

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

func TestKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "placette.db")
	db := openDB(t, path)
	keys, err := NewKeys(db)
	if err != nil {
		t.Fatal(err)
	}
	s1, err := keys.Signer("Lists.Example.NET.")
	if err != nil {
		t.Fatal(err)
	}
	if s1.Domain() != "lists.example.net" {
		t.Errorf("Domain = %q", s1.Domain())
	}
	if !regexp.MustCompile(`^placette20\d{4}$`).MatchString(s1.Selector()) {
		t.Errorf("Selector = %q", s1.Selector())
	}
	if !regexp.MustCompile(`^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*$`).MatchString(s1.DNSRecord()) {
		t.Errorf("DNSRecord = %q", s1.DNSRecord())
	}
	if again, _ := keys.Signer("lists.example.net"); again != s1 {
		t.Error("the signer is not cached")
	}
	other, err := keys.Signer("other.example")
	if err != nil {
		t.Fatal(err)
	}
	if other.DNSRecord() == s1.DNSRecord() {
		t.Error("two domains share a key")
	}
	for _, bad := range []string{"", " ", "a;b", "x\r\ny"} {
		if _, err := keys.Signer(bad); err == nil {
			t.Errorf("Signer(%q) accepted", bad)
		}
	}

	// The key survives a restart.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, path)
	keys, err = NewKeys(db)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := keys.Signer("lists.example.net")
	if err != nil {
		t.Fatal(err)
	}
	if s2.DNSRecord() != s1.DNSRecord() || s2.Selector() != s1.Selector() {
		t.Error("the key changed after reopening the database")
	}
}

func TestSignOverSigns(t *testing.T) {
	keys, err := NewKeys(openDB(t, filepath.Join(t.TempDir(), "placette.db")))
	if err != nil {
		t.Fatal(err)
	}
	s, err := keys.Signer("lists.example.net")
	if err != nil {
		t.Fatal(err)
	}
	msg := append([]byte("List-Unsubscribe: <https://lists.example.net/u/tok>\r\n"), testMessage(0)...)
	signed, err := s.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(name string) ([]string, error) {
		if name == s.Selector()+"._domainkey.lists.example.net" {
			return []string{s.DNSRecord()}, nil
		}
		return nil, errNotFound
	}
	verify := func(data []byte) error {
		vs, err := dkim.VerifyWithOptions(bytes.NewReader(data), &dkim.VerifyOptions{LookupTXT: lookup})
		if err != nil {
			return err
		}
		if len(vs) != 1 {
			t.Fatalf("%d signatures", len(vs))
		}
		return vs[0].Err
	}
	if err := verify(signed); err != nil {
		t.Fatalf("fresh signature: %v", err)
	}
	sigEnd := bytes.Index(signed, []byte("\r\nList-Unsubscribe: ")) + 2
	tampered := []struct {
		name string
		data []byte
	}{
		{"a second From", append(append(append([]byte{}, signed[:sigEnd]...), "From: attacker@evil.example\r\n"...), signed[sigEnd:]...)},
		{"a second List-Unsubscribe", append(append(append([]byte{}, signed[:sigEnd]...), "List-Unsubscribe: <https://evil.example/>\r\n"...), signed[sigEnd:]...)},
		{"a List-Post added", append(append(append([]byte{}, signed[:sigEnd]...), "List-Post: NO\r\n"...), signed[sigEnd:]...)},
		{"a changed body", bytes.Replace(signed, []byte("été"), []byte("ete"), 1)},
	}
	for _, tt := range tampered {
		t.Run(tt.name, func(t *testing.T) {
			if err := verify(tt.data); err == nil {
				t.Error("the signature still verifies")
			}
		})
	}
	// A field that is not signed may be added (a relay's Received).
	received := append([]byte("Received: from x by y; Tue, 3 Nov 2026 10:00:00 +0000\r\n"), signed...)
	if err := verify(received); err != nil {
		t.Errorf("with a Received field added: %v", err)
	}
}

func TestHeaderKeys(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want string
	}{
		{
			name: "list post",
			msg:  "From: a@b\r\nTo: l@d\r\nSubject: s\r\nList-Id: <l.d>\r\nList-Unsubscribe: <x>,\r\n <y>\r\nX-Other: z\r\n\r\nList-Post: in the body\r\n",
			want: "From:From:Subject:To:List-Id:List-Id:List-Post:List-Unsubscribe:List-Unsubscribe:List-Unsubscribe-Post:List-Archive:List-Help:List-Subscribe",
		},
		{
			name: "no header at all",
			msg:  "\r\nbody",
			want: "From:List-Id:List-Post:List-Unsubscribe:List-Unsubscribe-Post:List-Archive:List-Help:List-Subscribe",
		},
		{
			name: "two Received, case and LF only",
			msg:  "received: a\nRECEIVED: b\nfrom: x\nreferences: <r>\n",
			want: "From:From:References:List-Id:List-Post:List-Unsubscribe:List-Unsubscribe-Post:List-Archive:List-Help:List-Subscribe",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(headerKeys([]byte(tt.msg)), ":"); got != tt.want {
				t.Errorf("headerKeys = %s\nwant          %s", got, tt.want)
			}
		})
	}
}

func FuzzHeaderKeys(f *testing.F) {
	f.Add([]byte("From: a@b\r\nList-Id: x\r\n\r\nbody"))
	f.Add([]byte(""))
	f.Add([]byte(":\r\n \r\n\t\r\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		keys := headerKeys(msg)
		from := 0
		for _, k := range keys {
			if k == "From" {
				from++
			}
		}
		if from == 0 {
			t.Fatal("From is not signed")
		}
	})
}
