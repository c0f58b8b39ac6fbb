package antispam

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestParseBlocklist(t *testing.T) {
	b := ParseBlocklist(sampleBlocklist)
	if len(b.Errors) != 0 {
		t.Fatalf("errors in the sample: %v", b.Errors)
	}
	if b.Len() != 7 {
		t.Fatalf("%d patterns, want 7", b.Len())
	}
	tests := []struct {
		text string
		line int // 0: no match
	}{
		{"Un atelier sur les tablettes", 0},
		{"Le CASINO du coin", 2},
		{"ViAgRa", 3},
		{"cheap-pills here", 4},
		{"buymeds", 4},
		{"play poker   online now", 5},
		{"poker onlineshop", 0},
		{"https://www.spam-domain.example/x", 8},
		{"https://notspam-domain.examples/", 0},
		{"http://site.XYZ/promo/1", 9},
		{"https://bit.ly/abc123", 10},
		{"https://bit.ly/ab", 0},
		{"voir sur plusieurs\nlignes: casi\nno", 0},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			line, src, ok := b.Match(tt.text)
			if tt.line == 0 {
				if ok {
					t.Errorf("matched line %d (%s)", line, src)
				}
				return
			}
			if !ok || line != tt.line {
				t.Errorf("Match = line %d (%q), %v; want line %d", line, src, ok, tt.line)
			}
		})
	}
}

func TestParseBlocklistBadLines(t *testing.T) {
	text := strings.Join([]string{
		"# comment",
		"good",             // 2
		"bad(",             // 3
		"(?<=x)lookbehind", // 4: PCRE only
		"a{2000}",          // 5: repeat too large for RE2
		"x*",               // 6: matches everything
		"  ",               // 7
		"back\\1ref",       // 8
		"also good  # with a comment",
		"\xff\xfe",                             // 10
		strings.Repeat("y", MaxPatternBytes+1), // 11
		"[z-a]",                                // 12
	}, "\n")
	b := ParseBlocklist(text)
	var lines []int
	for _, e := range b.Errors {
		lines = append(lines, e.Line)
		if e.Err == "" || e.Error() == "" {
			t.Errorf("error without a message: %+v", e)
		}
	}
	if want := []int{3, 4, 5, 6, 8, 10, 11, 12}; !slices.Equal(lines, want) {
		t.Errorf("bad lines %v, want %v (%v)", lines, want, b.Errors)
	}
	if b.Len() != 2 {
		t.Errorf("%d patterns in use, want 2", b.Len())
	}
	if _, _, ok := b.Match("all GOOD"); !ok {
		t.Error("a valid line beside bad ones does not match")
	}
	if line, _, ok := b.Match("also good"); !ok || line != 2 && line != 9 {
		t.Errorf("Match = %d, %v", line, ok)
	}

	// Past the bound, lines are reported, not used.
	var many strings.Builder
	for i := range MaxBlocklistPatterns + 3 {
		fmt.Fprintf(&many, "word%d\n", i)
	}
	b = ParseBlocklist(many.String())
	if b.Len() != MaxBlocklistPatterns || len(b.Errors) != 3 || b.Errors[0].Line != MaxBlocklistPatterns+1 {
		t.Errorf("%d patterns, %d errors (first %+v)", b.Len(), len(b.Errors), b.Errors[0])
	}

	var nilList *Blocklist
	if _, _, ok := nilList.Match("x"); ok || nilList.Len() != 0 {
		t.Error("a nil blocklist blocks")
	}
	if _, _, ok := ParseBlocklist("").Match("anything"); ok {
		t.Error("an empty blocklist blocks")
	}
}

func TestRequiredLiterals(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{`casino`, []string{"casino"}},
		{`\bexample\.com\b`, []string{"example.com"}},
		{`(buy|cheap)-?(pills|meds)`, nil}, // "buy" and "-" are alternatives of a concat: "pills|meds" is the set
		{`foo|bar`, []string{"foo", "bar"}},
		{`a+b`, nil},
		{`a?b`, nil},
		{`[a-z]+\.xyz`, []string{".xyz"}},
		{`CaSiNo`, []string{"casino"}},
		{`(?:promo){2,}`, []string{"promo"}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			b := ParseBlocklist(tt.pattern)
			if b.Len() != 1 {
				t.Fatalf("not parsed: %v", b.Errors)
			}
			got := b.patterns[0].literals
			if tt.want == nil {
				if tt.pattern == `(buy|cheap)-?(pills|meds)` {
					if !slices.Equal(got, []string{"pills", "meds"}) {
						t.Errorf("literals %q", got)
					}
					return
				}
				if got != nil {
					t.Errorf("literals %q, want none", got)
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("literals %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFold(t *testing.T) {
	// The prefilter must find what RE2's case folding finds.
	for _, tt := range []struct{ pattern, text string }{
		{"kelvin", "\u212Aelvin"}, // Kelvin sign
		{"\u212Aelvin", "KELVIN"}, //
		{"sale", "\u017Fale"},     // long s
		{"straße", "STRASSE"},     // no simple fold: no match either way
		{"éTÉ", "ÉtÉ"},            //
		{"ΣΊΣΥΦΟΣ", "σίσυφος"},    // final sigma
	} {
		b := ParseBlocklist(tt.pattern)
		want := regexp.MustCompile("(?is:" + tt.pattern + ")").MatchString(tt.text)
		if _, _, got := b.Match(tt.text); got != want {
			t.Errorf("Match(%q, %q) = %v, RE2 says %v", tt.pattern, tt.text, got, want)
		}
	}
}

// naiveMatch is what Match must agree with: every pattern on its own.
func naiveMatch(b *Blocklist, text string) bool {
	for _, p := range b.patterns {
		if regexp.MustCompile("(?is:" + p.src + ")").MatchString(text) {
			return true
		}
	}
	return false
}

func FuzzParseBlocklist(f *testing.F) {
	f.Add(sampleBlocklist, "CASINO online https://bit.ly/abc123")
	f.Add("a(\n#x\n\\bfoo\\b", "FOO")
	f.Add("[[:alpha:]]+\\d", "x1")
	f.Add("\u212A", "k")
	f.Add("(?i)ſ", "S")
	f.Add("é|É", "\xff")
	f.Fuzz(func(t *testing.T, list, text string) {
		if len(list) > 4096 || len(text) > 4096 {
			return
		}
		b := ParseBlocklist(list)
		for _, e := range b.Errors {
			if e.Line < 1 {
				t.Fatalf("error on line %d", e.Line)
			}
		}
		line, _, got := b.Match(text)
		if want := naiveMatch(b, text); got != want {
			t.Fatalf("Match = %v (line %d), each pattern alone says %v", got, line, want)
		}
	})
}

// benchmarkList returns a blocklist of n lines like public ones: domains,
// words, a few real expressions.
func benchmarkList(n int) string {
	var b strings.Builder
	b.WriteString("# a list like MediaWiki's and DokuWiki's\n")
	for i := range n {
		switch i % 10 {
		case 0:
			fmt.Fprintf(&b, "(buy|cheap)-?pills%d\n", i)
		case 1:
			fmt.Fprintf(&b, "spamword%d\n", i)
		case 2:
			fmt.Fprintf(&b, "[a-z]+-%d\\.xyz\n", i)
		default:
			fmt.Fprintf(&b, "\\bspam-site-%d\\.example\\b\n", i)
		}
	}
	return b.String()
}

// benchmarkEdit is about 5 KB of French text with a few links.
func benchmarkEdit() string {
	var b strings.Builder
	for b.Len() < 5000 {
		b.WriteString("## Déroulé\nLes participants découvrent la tablette, puis créent une adresse électronique. Voir https://exemple.fr/fiche et www.mediatheque.example/ateliers.\n")
	}
	return b.String()
}

func BenchmarkBlocklistMatch(b *testing.B) {
	list := ParseBlocklist(benchmarkList(2000))
	text := benchmarkEdit()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, _, ok := list.Match(text); ok {
			b.Fatal("matched")
		}
	}
}

func BenchmarkParseBlocklist(b *testing.B) {
	text := benchmarkList(2000)
	for b.Loop() {
		ParseBlocklist(text)
	}
}
