package mailmsg

import (
	"bytes"
	"testing"
)

// BenchmarkParse parses a typical list post: French quoted-printable text
// and a small PDF attachment, about 4 KB.
func BenchmarkParse(b *testing.B) {
	raw := frenchMessage()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseBounce reads an RFC 3464 report.
func BenchmarkParseBounce(b *testing.B) {
	raw := readTestdata(b, "bounces/dsn_13.txt")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ParseBounce(raw); !ok {
			b.Fatal("not a bounce")
		}
	}
}

// BenchmarkNormalize normalises 100 KB of text with LF line endings.
func BenchmarkNormalize(b *testing.B) {
	raw := bytes.Repeat([]byte("Bonjour à toutes et à tous, voici la fiche de l'atelier.\n"), 100<<10/58)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		Normalize(raw)
	}
}
