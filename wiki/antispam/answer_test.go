package antispam

import (
	"testing"
	"unicode"
)

func TestNormalizeAnswer(t *testing.T) {
	tests := []struct{ in, want string }{
		{"bleu", "bleu"},
		{" BLEU ! ", "bleu"},
		{"Bleu.", "bleu"},
		{"« bleu »", "bleu"},
		{"Été", "ete"},
		{"ÉTÉ", "ete"},
		{"e\u0301te\u0301", "ete"}, // decomposed accents
		{"bleu ciel", "bleuciel"},
		{"bleu-ciel", "bleuciel"},
		{"Cœur", "coeur"},
		{"ex æquo", "exaequo"},
		{"Straße", "strasse"},
		{"５", "5"}, // full-width digit
		{"l’été", "lete"},
		{"", ""},
		{" ?! ", ""},
		{"\xff\xfe", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := NormalizeAnswer(tt.in); got != tt.want {
				t.Errorf("NormalizeAnswer(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestAccepts(t *testing.T) {
	q := qa{Text: "Combien font deux plus trois\u00a0?", Answers: []string{"5", "cinq"}}
	for _, tt := range []struct {
		answer string
		want   bool
	}{
		{"5", true}, {" 5 ", true}, {"Cinq", true}, {"CINQ !", true},
		{"6", false}, {"", false}, {"  ", false}, {"cinq cinq", false}, {"55", false},
	} {
		if got := q.accepts(tt.answer); got != tt.want {
			t.Errorf("accepts(%q) = %v, want %v", tt.answer, got, tt.want)
		}
	}
	// An answer that normalises to nothing accepts nothing.
	empty := qa{Answers: []string{"?!"}}
	if empty.accepts("?") || empty.accepts("") {
		t.Error("an empty answer is accepted")
	}
	for _, d := range defaultQuestions() {
		if len(d.Answers) == 0 || !d.accepts(d.Answers[0]) {
			t.Errorf("default question %q does not accept its own answer", d.Text)
		}
	}
}

func FuzzNormalizeAnswer(f *testing.F) {
	for _, s := range []string{"", "Bleu !", "Été", "ﬁn", "Œuvre", "\xff", "e\u0301", "ǅ", "Ⅻ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeAnswer(s)
		if NormalizeAnswer(n) != n {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, n, NormalizeAnswer(n))
		}
		for _, r := range n {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				t.Fatalf("%q in the normalised form of %q", r, s)
			}
		}
	})
}
