package mailinglist

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var hrefRE = regexp.MustCompile(`href="([^"]*)"`)

var labels = textLabels{Quote: quoteLabel, Signature: "Signature"}

func TestRenderText(t *testing.T) {
	tests := []struct {
		name, in  string
		obfuscate bool
		want      []string
		not       []string
	}{
		{"escape", "<b>x</b> & \"y\"", false, []string{"&lt;b&gt;x&lt;/b&gt; &amp; &#34;y&#34;"}, []string{"<b>"}},
		{"link", "voir https://a.fr/x?y=1&z=2.", false, []string{`<a href="https://a.fr/x?y=1&amp;z=2" rel="nofollow ugc noopener">https://a.fr/x?y=1&amp;z=2</a>.`}, nil},
		{"link in brackets", "(voir https://fr.wikipedia.org/wiki/X_(Y))", false, []string{`href="https://fr.wikipedia.org/wiki/X_(Y)"`, `</a>)`}, nil},
		{"no javascript", "javascript:alert(1) http://", false, nil, []string{"<a"}},
		{"attribute break", `https://a.fr/"onmouseover="x`, false, []string{`href="https://a.fr/"`}, []string{`"onmouseover`}},
		{"short quote", "> un\n> deux\nréponse", false, []string{"<blockquote><p>&gt; un\n&gt; deux</p></blockquote>"}, []string{"<details"}},
		{"long quote", "> 1\n> 2\n> 3\n> 4\nréponse", false, []string{`<details class="quote"><summary>4 quoted lines</summary>`}, nil},
		{"signature", "texte\n-- \nJean\n06 00 00 00 00", false, []string{`<details class="signature"><summary>Signature</summary><p>-- 
Jean`}, nil},
		{"indent", "    code\n\tici", false, []string{"<p>    code\n\tici</p>"}, nil},
		{"obfuscated", "écrire à jean.dupont@example.org", true, []string{"jea…@example.org"}, []string{"jean.dupont"}},
		{"obfuscated link", "https://x.fr/?u=jean.dupont@example.org", true, []string{"…@example.org"}, []string{"jean.dupont"}},
		{"kept for members", "jean.dupont@example.org", false, []string{"jean.dupont@example.org"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(renderText(tt.in, tt.obfuscate, labels))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("renderText(%q) = %q, lacks %q", tt.in, got, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("renderText(%q) = %q, has %q", tt.in, got, w)
				}
			}
		})
	}
}

func TestObfuscate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"jean.dupont@example.org", "jea…@example.org"},
		{"ab@x.fr", "a…@x.fr"},
		{"a@x.fr", "…@x.fr"},
		{"Écrivez à élodie@exemple.fr.", "Écrivez à élo…@exemple.fr."},
		{"pas d’adresse @ ici", "pas d’adresse @ ici"},
		{"<a@b.c>, x.y+z@sub.example.net", "<…@b.c>, x.…@sub.example.net"},
	}
	for _, tt := range tests {
		if got := obfuscateText(tt.in); got != tt.want {
			t.Errorf("obfuscateText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	raw := "From: Jean <jean.dupont@example.org>\r\nMessage-ID: <abc.def@example.org>\r\nReferences: <r1@example.org>\r\n <r2@example.org>\r\nCc: a.b.c@example.org,\r\n d.e.f@example.org\r\n\r\nbody jean.dupont@example.org\r\n"
	got := string(obfuscateRaw([]byte(raw)))
	for _, w := range []string{"<abc.def@example.org>", "<r2@example.org>", "jea...@example.org>", "a....@example.org", "d....@example.org", "body jea...@example.org\r\n"} {
		if !strings.Contains(got, w) {
			t.Errorf("obfuscateRaw lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "jean.dupont") {
		t.Errorf("obfuscateRaw left an address:\n%s", got)
	}
	if displayName("", "jean.dupont@example.org") != "jea…@example.org" || displayName("jean@example.org", "x@y.z") != "je…@example.org" || displayName("Jean", "") != "Jean" {
		t.Error("displayName shows an address")
	}
}

func TestContentDisposition(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want string
	}{
		{"fiche.pdf", 1, `attachment; filename="fiche.pdf"; filename*=UTF-8''fiche.pdf`},
		{"", 2, `attachment; filename="attachment-2"; filename*=UTF-8''attachment-2`},
		{"../../etc/passwd", 1, `attachment; filename="_.._etc_passwd"`},
		{"a\"b\r\nc.txt", 1, `attachment; filename="a_b__c.txt"`},
		{"été.odt", 1, `filename="_t_.odt"; filename*=UTF-8''%C3%A9t%C3%A9.odt`},
	}
	for _, tt := range tests {
		if got := contentDisposition(tt.name, tt.n); !strings.Contains(got, tt.want) {
			t.Errorf("contentDisposition(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func FuzzRenderText(f *testing.F) {
	for _, s := range []string{"", "> a\n> b\n> c\n> d\n-- \nsig", "https://a.fr/(x) mail@x.org", "<script>", "http://[::1]:80/", "\xff\xfe"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, obfuscate bool) {
		got := string(renderText(s, obfuscate, labels))
		if err := wellFormed(got); err != nil {
			t.Fatalf("renderText(%q) = %q: %v", s, got, err)
		}
		if strings.Contains(strings.ToLower(got), "<script") || strings.Contains(got, "javascript:") && strings.Contains(got, `href="javascript`) {
			t.Fatalf("renderText(%q) = %q", s, got)
		}
		if obfuscate && utf8.ValidString(s) {
			if m := addrRE.FindString(got); m != "" && !strings.Contains(m, "…@") {
				t.Fatalf("renderText(%q) shows %q", s, m)
			}
		}
		_ = template.HTML(got)
	})
}

func FuzzLinkify(f *testing.F) {
	for _, s := range []string{"https://a.fr/x.", "http://x/\"<>", "https://a.fr/?a=b&c=d)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := string(linkify(s))
		if err := wellFormed("<p>" + got + "</p>"); err != nil {
			t.Fatalf("linkify(%q) = %q: %v", s, got, err)
		}
		for _, href := range hrefRE.FindAllStringSubmatch(got, -1) {
			if !strings.HasPrefix(strings.ToLower(href[1]), "http://") && !strings.HasPrefix(strings.ToLower(href[1]), "https://") {
				t.Fatalf("linkify(%q) links to %q", s, href[1])
			}
		}
	})
}

func FuzzObfuscate(f *testing.F) {
	for _, s := range []string{"a@b.c", "From: x <y@z.org>\r\n\r\nq@r.st\r\n", "é@é.é", "@@@.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := obfuscateText(s)
		if utf8.ValidString(s) {
			for _, m := range addrRE.FindAllString(got, -1) {
				if !strings.Contains(m, "…@") {
					t.Fatalf("obfuscateText(%q) = %q keeps %q", s, got, m)
				}
			}
		}
		raw := obfuscateRaw([]byte(s))
		if strings.Count(string(raw), "\n") != strings.Count(s, "\n") {
			t.Fatalf("obfuscateRaw changed the lines of %q: %q", s, raw)
		}
	})
}

// BenchmarkThreadPage56 serves a 56-message thread of a public list
// through the shell's middleware, without the network.
func BenchmarkThreadPage56(b *testing.B) {
	s := newTestSite(b)
	if err := s.svc.CreateList(List{Name: "entraide", Title: "Entraide", Policy: PolicyMembers}); err != nil {
		b.Fatal(err)
	}
	body := strings.Repeat("Bonjour à toutes et à tous, voici un compte rendu de l’atelier https://exemple.fr/atelier et mes questions.\n", 8) +
		"\n> Le message précédent disait ceci,\n> sur plusieurs lignes,\n> avec une adresse jean.dupont@example.org\n> et une fin.\n-- \nJean\n"
	var msgs []testMsg
	for i := range 56 {
		m := testMsg{ID: fmt.Sprintf("m%d@x", i), From: fmt.Sprintf("Personne %d <p%d@example.org>", i%9, i%9), Subject: "Atelier numérique", Date: day.Add(time.Duration(i) * time.Hour), Body: body}
		if i > 0 {
			m.Subject = "Re: Atelier numérique"
			m.InReplyTo = fmt.Sprintf("m%d@x", (i-1)/2)
		}
		msgs = append(msgs, m)
	}
	if _, err := s.svc.Import(context.Background(), "entraide", strings.NewReader(mbox(msgs...)), nil); err != nil {
		b.Fatal(err)
	}
	ths, _, _ := s.svc.ThreadsPage("entraide", 0, 1)
	if len(ths) != 1 || ths[0].Count != 56 {
		b.Fatalf("threads: %+v", ths)
	}
	path := fmt.Sprintf("/lists/entraide/t/%d", ths[0].Root)
	h := s.srv.Config.Handler
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
