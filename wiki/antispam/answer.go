package antispam

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// NormalizeAnswer reduces an answer to what is compared: letters and
// digits only, in lower case, without accents (compatibility
// decomposition, then combining marks dropped), ligatures spelt out (œ, æ,
// ß). « Bleu ! », "BLEU" and " bleu." all give "bleu"; "Cinq" and "cinq"
// give "cinq". An answer with no letter or digit gives "".
func NormalizeAnswer(s string) string {
	var b strings.Builder
	// Invalid bytes become U+FFFD first, dropped below like any other
	// symbol: the normaliser leaves the letter after an invalid byte
	// undecomposed ("\xf2Έ" gave "έ", whose accent the next pass drops).
	for _, r := range norm.NFKD.String(strings.ToValidUTF8(s, "\uFFFD")) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// A combining accent: dropped.
		case r == 'œ' || r == 'Œ':
			b.WriteString("oe")
		case r == 'æ' || r == 'Æ':
			b.WriteString("ae")
		case r == 'ß' || r == 'ẞ':
			b.WriteString("ss")
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// qa is a question with the answers it accepts, as stored.
type qa struct {
	ID      string   `json:"id"`
	Text    string   `json:"text"`
	Answers []string `json:"answers"` // as the administrator wrote them
}

// accepts reports whether answer is one of q's, once both are normalised.
func (q *qa) accepts(answer string) bool {
	a := NormalizeAnswer(answer)
	if a == "" {
		return false
	}
	for _, want := range q.Answers {
		if NormalizeAnswer(want) == a {
			return true
		}
	}
	return false
}

// defaultQuestions are the questions of a new wiki, in plain French: easy
// for anyone who reads the language, with the spellings people give.
func defaultQuestions() []qa {
	return []qa{
		{ID: "d1", Text: "Combien font deux plus trois\u00a0?", Answers: []string{"5", "cinq"}},
		{ID: "d2", Text: "De quelle couleur est le ciel par beau temps\u00a0?", Answers: []string{"bleu", "bleue", "bleu ciel"}},
		{ID: "d3", Text: "Quel jour de la semaine vient après lundi\u00a0?", Answers: []string{"mardi"}},
		{ID: "d4", Text: "Combien un chat a-t-il de pattes\u00a0?", Answers: []string{"4", "quatre"}},
		{ID: "d5", Text: "De quelle couleur est la neige\u00a0?", Answers: []string{"blanc", "blanche"}},
	}
}
