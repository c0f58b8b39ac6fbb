package wiki

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"codeberg.org/placette/placette/internal/store"
	"codeberg.org/placette/placette/internal/web"
)

func TestMerge3(t *testing.T) {
	base := "a\nb\nc\nd\ne\nf\n"
	tests := []struct {
		name         string
		theirs, mine string
		want         string
		ok           bool
	}{
		{"same edit", "a\nB\nc\nd\ne\nf\n", "a\nB\nc\nd\ne\nf\n", "a\nB\nc\nd\ne\nf\n", true},
		{"apart", "A\nb\nc\nd\ne\nf\n", "a\nb\nc\nd\ne\nF\n", "A\nb\nc\nd\ne\nF\n", true},
		{"insert and delete", "a\nb\nx\nc\nd\ne\nf\n", "a\nb\nc\nd\nf\n", "a\nb\nx\nc\nd\nf\n", true},
		{"same line", "a\nb\nC1\nd\ne\nf\n", "a\nb\nC2\nd\ne\nf\n", "", false},
		{"mine only", base, "a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nd\ne\nf\ng\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := merge3(base, tt.theirs, tt.mine)
			if ok != tt.ok || got != tt.want {
				t.Errorf("merge3 = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func joinSpans(s []diffSpan) string {
	var b strings.Builder
	for _, x := range s {
		b.WriteString(x.Text)
	}
	return b.String()
}

func TestLineDiff(t *testing.T) {
	d := lineDiff("un\ndeux trois\nquatre\n", "un\ndeux 3\nquatre\ncinq\n")
	if d.Added != 2 || d.Removed != 1 {
		t.Fatalf("added %d removed %d", d.Added, d.Removed)
	}
	var del, ins *diffLine
	for i := range d.Lines {
		switch d.Lines[i].Op {
		case opDel:
			del = &d.Lines[i]
		case opIns:
			if ins == nil {
				ins = &d.Lines[i]
			}
		}
	}
	if del == nil || ins == nil || joinSpans(del.Spans) != "deux trois" || joinSpans(ins.Spans) != "deux 3" {
		t.Fatalf("lines %+v", d.Lines)
	}
	changed := func(s []diffSpan) (out []string) {
		for _, x := range s {
			if x.Changed {
				out = append(out, x.Text)
			}
		}
		return out
	}
	if got := changed(del.Spans); len(got) != 1 || got[0] != "trois" {
		t.Errorf("deleted words %q", got)
	}
	if got := changed(ins.Spans); len(got) != 1 || got[0] != "3" {
		t.Errorf("added words %q", got)
	}
	if !lineDiff("x\n", "x\n").Identical {
		t.Errorf("identical texts differ")
	}
}

func TestCleanFileName(t *testing.T) {
	tests := []struct{ in, ct, want string }{
		{"plan.png", "image/png", "plan.png"},
		{"Fiche été.PDF", "application/pdf", "fiche-ete.pdf"},
		{"../../etc/passwd", "image/png", "passwd.png"},
		{`C:\Users\x\photo.JPEG`, "image/jpeg", "photo.jpeg"},
		{".htaccess", "image/gif", "htaccess.gif"},
		{"evil.html", "image/png", "evil.png"},
		{"", "image/webp", "fichier.webp"},
		{"....png", "image/png", "png.png"},
		{"a\x00b\nc.png", "image/png", "a-b-c.png"},
		{strings.Repeat("x", 300) + ".png", "image/png", strings.Repeat("x", 96) + ".png"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := attachmentName(tt.in, tt.ct); got != tt.want {
				t.Errorf("attachmentName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzCleanFileName(f *testing.F) {
	for _, s := range []string{"plan.png", "../x", "é è.pdf", "\xff.png", "a/b\\c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for ct := range fileTypes {
			got := attachmentName(s, ct)
			if got == "" || len(got) > 100 || strings.HasPrefix(got, ".") || strings.Contains(got, "..") || strings.ContainsAny(got, "/\\\"<>%;") || !utf8.ValidString(got) {
				t.Fatalf("attachmentName(%q, %s) = %q", s, ct, got)
			}
			if extTypes[got[strings.LastIndexByte(got, '.'):]] != ct {
				t.Fatalf("attachmentName(%q, %s) = %q: wrong extension", s, ct, got)
			}
		}
	})
}

func FuzzImportSlug(f *testing.F) {
	for _, s := range []string{"a.md", "dir/Ma page.md", "../../x.md", "-.md", ".md", "\xff.md"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		s := importSlug(name)
		if s != "" && !validSlug(s) {
			t.Fatalf("importSlug(%q) = %q, not a valid slug", name, s)
		}
	})
}

func FuzzDiff(f *testing.F) {
	f.Add("a\nb\n", "a\nc\n")
	f.Add("", "x")
	f.Add("mot un deux", "mot trois deux\n\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return
		}
		d := lineDiff(a, b)
		if (a == b) != d.Identical && strings.TrimSuffix(a, "\n") != strings.TrimSuffix(b, "\n") {
			t.Fatalf("Identical = %v for %q, %q", d.Identical, a, b)
		}
		for _, l := range d.Lines {
			if l.Op == opSkip {
				continue
			}
			if strings.Contains(joinSpans(l.Spans), "\n") {
				t.Fatalf("a diff line holds a newline: %+v", l)
			}
		}
		o, n := wordDiff(a, b)
		if joinSpans(o) != a || joinSpans(n) != b {
			t.Fatalf("wordDiff(%q, %q) loses text: %q %q", a, b, joinSpans(o), joinSpans(n))
		}
		if got, ok := merge3(a, a, b); !ok || got != b {
			t.Fatalf("merge3(a, a, b) = %q, %v", got, ok)
		}
	})
}

func TestLRU(t *testing.T) {
	c := newLRU(10)
	c.put("a", 1, 4)
	c.put("b", 2, 4)
	c.get("a")
	c.put("c", 3, 4) // evicts b, the least recently used
	if _, ok := c.get("b"); ok {
		t.Errorf("b not evicted")
	}
	if _, ok := c.get("a"); !ok {
		t.Errorf("a evicted")
	}
	c.put("huge", 4, 11)
	if _, ok := c.get("huge"); ok {
		t.Errorf("a value over the bound is cached")
	}
	c.drop("a")
	if _, ok := c.get("a"); ok || c.size != 4 {
		t.Errorf("drop: size %d", c.size)
	}
}

func TestRetitle(t *testing.T) {
	tests := []struct{ src, want string }{
		{"---\ntitle: \"Old\"\ntags: [x]\n---\n# Old\n", "---\ntitle: \"New\"\ntags: [x]\n---\n# Old\n"},
		{"# Old\n\ntext\n", "# New\n\ntext\n"},
		{"# Other\n", "# Other\n"},
		{"no title\n", "no title\n"},
	}
	for _, tt := range tests {
		if got := retitle(tt.src, "Old", "New"); got != tt.want {
			t.Errorf("retitle(%q) = %q, want %q", tt.src, got, tt.want)
		}
	}
}

// newTestWiki builds a wiki over a fresh database, served by the shell's
// middleware.
func newTestWiki(tb testing.TB) (*Wiki, http.Handler) {
	tb.Helper()
	db, err := store.Open(filepath.Join(tb.TempDir(), "placette.db"), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	logger := slog.New(slog.DiscardHandler)
	shell, err := web.NewShell(db, web.Config{}, logger)
	if err != nil {
		tb.Fatal(err)
	}
	w, err := New(Config{DB: db, Shell: shell, Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	w.Routes(mux)
	return w, shell.Wrap(mux)
}

// benchPage is a page of about 5 KB with the usual markdown.
func benchPage() string {
	var b strings.Builder
	b.WriteString("---\ntitle: \"Atelier banc d’essai\"\ntags: [fiche]\npublic: adultes\nduree: 2 h\nniveau: débutant\n---\n# Atelier banc d’essai\n\n")
	for i := 0; b.Len() < 5000; i++ {
		b.WriteString("## Étape " + string(rune('A'+i%26)) + "\n\n")
		b.WriteString("Un paragraphe avec du **gras**, de l’*italique*, un lien vers [[Accueil]] et [un site](https://example.org/). ")
		b.WriteString("Les personnes apprennent à se servir de leur téléphone, pas à pas, « sans se presser ».\n\n")
		b.WriteString("- premier point\n- second point\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n")
	}
	return b.String()
}

func saveBench(tb testing.TB, w *Wiki, slug, src string) {
	tb.Helper()
	res, err := w.render(slug, src)
	if err != nil {
		tb.Fatal(err)
	}
	if _, _, err := w.store.save(saveReq{Slug: slug, Base: -1, Source: src, Result: res, Writer: Writer{Author: "bench"}, Now: time.Now()}); err != nil {
		tb.Fatal(err)
	}
}

func TestCachedPageIsShared(t *testing.T) {
	w, h := newTestWiki(t)
	saveBench(t, w, "page", benchPage())
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/wiki/page", nil))
		return rec
	}
	a, b := get(), get()
	if a.Code != 200 || a.Body.String() != b.Body.String() || a.Header().Get("ETag") == "" {
		t.Fatalf("cached page: %d, same body %v", a.Code, a.Body.String() == b.Body.String())
	}
	if _, ok := w.responses.get("page\x00fr"); !ok {
		t.Errorf("the page is not in the cache")
	}
	if strings.Contains(a.Body.String(), `name="csrf"`) || len(a.Header().Values("Set-Cookie")) != 0 {
		t.Errorf("a shared page carries a token or a cookie")
	}
}

func BenchmarkRenderPage(b *testing.B) {
	w, _ := newTestWiki(b)
	src := benchPage()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.render("bench", src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkServeCachedPage(b *testing.B) {
	w, h := newTestWiki(b)
	saveBench(b, w, "bench", benchPage())
	req := httptest.NewRequest("GET", "/wiki/bench", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}

// BenchmarkServeBytes is the reference for BenchmarkServeCachedPage: a
// handler writing the same bytes from memory.
func BenchmarkServeBytes(b *testing.B) {
	w, h := newTestWiki(b)
	saveBench(b, w, "bench", benchPage())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/wiki/bench", nil))
	body := rec.Body.Bytes()
	ref := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		rw.Write(body)
	})
	req := httptest.NewRequest("GET", "/wiki/bench", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			ref.ServeHTTP(rec, req)
		}
	})
}

// benchHTTP fetches /wiki/bench from a real server over loopback, in
// parallel.
func benchHTTP(b *testing.B, h http.Handler) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get(srv.URL + "/wiki/bench")
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

func BenchmarkServeCachedPageHTTP(b *testing.B) {
	w, h := newTestWiki(b)
	saveBench(b, w, "bench", benchPage())
	benchHTTP(b, h)
}

func BenchmarkServeBytesHTTP(b *testing.B) {
	w, h := newTestWiki(b)
	saveBench(b, w, "bench", benchPage())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/wiki/bench", nil))
	body := rec.Body.Bytes()
	benchHTTP(b, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		rw.Write(body)
	}))
}

// BenchmarkServeBytesShell is BenchmarkServeBytes through the shell's
// middleware, to tell the wiki's own cost from the shell's.
func BenchmarkServeBytesShell(b *testing.B) {
	w, h := newTestWiki(b)
	saveBench(b, w, "bench", benchPage())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/wiki/bench", nil))
	body := rec.Body.Bytes()
	ref := w.shell.Wrap(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		rw.Write(body)
	}))
	req := httptest.NewRequest("GET", "/wiki/bench", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			ref.ServeHTTP(rec, req)
		}
	})
}
