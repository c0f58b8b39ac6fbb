package mailmsg

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// addSeeds adds a few messages of the shared folder and of this file to f.
func addSeeds(f *testing.F, globs ...string) {
	f.Add(frenchMessage())
	f.Add([]byte(arf))
	f.Add([]byte("Subject: =?utf-8?q?x?=\n\nbody\r.\n"))
	for _, g := range globs {
		files, _ := filepath.Glob(filepath.Join(testdata, g))
		for _, name := range files {
			if raw, err := os.ReadFile(name); err == nil {
				f.Add(raw)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	addSeeds(f, "enmime/low-quality/*", "hyperkitty/*.txt", "cpython/msg_1*.txt")
	f.Fuzz(func(t *testing.T, raw []byte) {
		n := Normalize(raw)
		if !bytes.Equal(Normalize(n), n) {
			t.Fatal("Normalize is not idempotent")
		}
		m, err := Parse(raw)
		if err != nil {
			if err != ErrNotMail {
				t.Fatalf("Parse: %v", err)
			}
			return
		}
		for _, s := range append([]string{m.MessageID, m.Subject, m.From.Name, m.From.Addr, m.Text, m.HTML, m.InReplyTo}, m.Problems...) {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8: %q", s)
			}
		}
		for _, a := range m.Attachments {
			if !utf8.ValidString(a.Filename) {
				t.Fatalf("invalid UTF-8 file name: %q", a.Filename)
			}
			if _, _, _, err := Part(raw, a.Part); err != nil {
				t.Fatalf("Part(%v): %v", a.Part, err)
			}
		}
		_ = m.AutoSubmitted()
	})
}

func FuzzParseBounce(f *testing.F) {
	addSeeds(f, "bounces/dsn_0*.txt", "bounces/qmail_0*.txt", "bounces/simple_1*.txt")
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, ok := ParseBounce(raw)
		if !ok {
			return
		}
		for _, st := range b.Statuses {
			if !utf8.ValidString(st.Addr) || !utf8.ValidString(st.Diagnose) {
				t.Fatalf("invalid UTF-8 in %+v", st)
			}
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "a", "\r", "\n", "\r\n", "a\rb\nc\r\nd", "\n\r", "\r\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		n := Normalize(raw)
		if BareLF(n) {
			t.Fatalf("bare line ending left in %q", n)
		}
		if !bytes.HasSuffix(n, []byte("\r\n")) {
			t.Fatalf("%q does not end with CRLF", n)
		}
		if !bytes.Equal(Normalize(n), n) {
			t.Fatalf("not idempotent on %q", raw)
		}
		// Only line endings change.
		strip := func(b []byte) []byte {
			return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r"), nil), []byte("\n"), nil)
		}
		if !bytes.Equal(strip(n), strip(raw)) {
			t.Fatalf("content changed: %q gave %q", raw, n)
		}
	})
}
