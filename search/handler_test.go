package search

import (
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/placette/placette/internal/web"
)

// server serves the search pages over f's index; a request with the header
// X-Member: bureau reads the private list bureau.
func (f *fixture) server(t testing.TB) *httptest.Server {
	t.Helper()
	shell, err := web.NewShell(f.db, web.Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(HandlerConfig{Index: f.idx, Shell: shell, Visibility: func(r *http.Request) Visibility {
		if l := r.Header.Get("X-Member"); l != "" {
			return Visibility{Lists: []string{l}}
		}
		return Visibility{}
	}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Routes(mux)
	srv := httptest.NewServer(shell.Wrap(mux))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, u string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHandler(t *testing.T) {
	f := newFixture(t)
	f.put(corpus())
	f.drain()
	srv := f.server(t)
	tests := []struct {
		name, query string
		header      []string
		want        []string
		not         []string
	}{
		{"form only", "", nil, []string{`<h1>Recherche</h1>`, `<label for="search-q">`, "Comment chercher"}, []string{"résultat"}},
		{"words", "q=mediation+seniors", nil, []string{"1 résultat", `<mark>seniors</mark>`, `href="/wiki/atelier-seniors"`, `Toutes les listes</option>`}, nil},
		{"facets", "q=atelier", nil, []string{"Mots-clés", `href="/search?q=atelier&amp;tag=Seniors"`, "Pages du wiki</a> (2)"}, nil},
		{"filters as controls", "q=imprimante&in=lists&list=entraide&after=2024-03-13", nil, []string{"1 résultat", `<option value="entraide" selected>`, `value="2024-03-13"`}, nil},
		{"private, anonymous", "q=xylophonique", nil, []string{"0 résultat"}, []string{"Budget", "bureau"}},
		{"private, member", "q=xylophonique", []string{"X-Member", "bureau"}, []string{"1 résultat", "Budget confidentiel"}, nil},
		{"suggestion", "q=imprimnte", nil, []string{"Vouliez-vous dire", `href="/search?q=imprimante"`}, nil},
		{"bad date", "q=atelier&after=hier", nil, []string{"Une date n’a pas été comprise", "2 résultats", `value="hier"`}, nil},
		{"bad typed filter", "q=atelier+in:nulle-part", nil, []string{"in: accepte wiki ou lists", "in:nulle-part"}, nil},
		{"unbalanced quote", "q=%22atelier+tablette", nil, []string{"1 résultat"}, nil},
		{"lone operators", "q=-+-+%22%22+:+tag:", nil, []string{"Comment chercher"}, nil},
		{"regex-like", "q=" + url.QueryEscape(`.*[a-z]+(?i)\\ /x/ ~2 ^3 atelier*`), nil, []string{"résultat"}, nil},
		{"invalid UTF-8", "q=%ff%fe%c3atelier", nil, []string{"résultat"}, nil},
		{"huge", "q=" + strings.Repeat("atelier+", 2000), nil, []string{"trop longue"}, nil},
		{"page out of range", "q=atelier&page=99999999999999999999", nil, []string{"2 résultats"}, nil},
		{"html in query", "q=" + url.QueryEscape(`<script>alert(1)</script>`), nil, []string{"&lt;script&gt;"}, []string{"<script>alert"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(t, srv.URL+"/search?"+tt.query, tt.header...)
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
			if n := strings.Count(body, "<h1"); n != 1 {
				t.Errorf("%d h1", n)
			}
			if t.Failed() {
				t.Log(truncate(body[strings.Index(body, "<main"):], 3000))
			}
		})
	}
}

func TestHandlerRebuilding(t *testing.T) {
	f := newFixture(t)
	f.close()
	idx, err := Open(Config{Dir: filepath.Join(f.dir, "index-missing"), DB: f.db})
	if err != nil {
		t.Fatal(err)
	}
	f.idx = idx
	srv := f.server(t)
	status, body := get(t, srv.URL+"/search?q=atelier")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "en cours de reconstruction") {
		t.Errorf("status %d, body %s", status, body)
	}
}

func TestOpenSearch(t *testing.T) {
	f := newFixture(t)
	srv := f.server(t)
	req, _ := http.NewRequest("GET", srv.URL+"/opensearch.xml", nil)
	req.Host = "placette.example:8080"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/opensearchdescription+xml") {
		t.Errorf("Content-Type %q", ct)
	}
	var d openSearchDescription
	if err := xml.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if len(d.URLs) == 0 || d.URLs[0].Template != "http://placette.example:8080/search?q={searchTerms}" {
		t.Errorf("URLs %+v", d.URLs)
	}
	if d.ShortName == "" || d.InputEncoding != "UTF-8" {
		t.Errorf("description %+v", d)
	}
}
