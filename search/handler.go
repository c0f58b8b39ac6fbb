package search

import (
	"embed"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"codeberg.org/placette/placette/internal/web"
)

//go:embed templates locales
var embedded embed.FS

// HandlerConfig is what the search pages are built from.
type HandlerConfig struct {
	Index *Index
	Shell *web.Shell
	// Visibility returns what the person making r may read: the app
	// gives the private lists they are a member of, and Staff for
	// administrators and moderators. Can be nil: public content only,
	// everything for staff.
	Visibility func(r *http.Request) Visibility
	// Lists returns the names of the lists the person making r may
	// filter on, for the form's list control. Can be nil: the lists of
	// the current results.
	Lists func(r *http.Request) []string
	// Logger can be nil.
	Logger *slog.Logger
}

// Handler serves /search and /opensearch.xml.
type Handler struct {
	cfg    HandlerConfig
	shell  *web.Shell
	pages  *web.Templates
	logger *slog.Logger
}

// NewHandler registers the package's catalogs and parses its templates.
func NewHandler(cfg HandlerConfig) (*Handler, error) {
	if cfg.Index == nil || cfg.Shell == nil {
		return nil, errors.New("search handler: Index and Shell are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = cfg.Shell.Logger().With("component", "search")
	}
	if cfg.Visibility == nil {
		cfg.Visibility = func(r *http.Request) Visibility {
			return Visibility{Staff: web.UserFrom(r.Context()).Staff()}
		}
	}
	locales, err := fs.Sub(embedded, "locales")
	if err != nil {
		return nil, err
	}
	if err := cfg.Shell.AddCatalog(locales); err != nil {
		return nil, fmt.Errorf("search catalog: %w", err)
	}
	pages, err := cfg.Shell.Parse(embedded, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &Handler{cfg: cfg, shell: cfg.Shell, pages: pages, logger: cfg.Logger}, nil
}

// Routes registers the handler's pages on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /search", h.search)
	mux.HandleFunc("GET /opensearch.xml", h.openSearch)
}

// OpenSearchLink is the line the layout's <head> carries so that browsers
// offer to add the site as a search engine.
const OpenSearchLink = `<link rel="search" type="application/opensearchdescription+xml" href="/opensearch.xml" title="{{.Site.Name}}">`

// form is the search form as sent, kept to show it again.
type form struct {
	Q, In, List, Tag, From, After, Before, Sort string
	Page                                        int
}

// FacetLink is a facet value on the page: its count and the URL that
// filters on it.
type FacetLink struct {
	Value   string
	Count   int
	URL     string
	Current bool
}

type searchPage struct {
	Form       form
	Searched   bool // a query was made
	Result     *Result
	Total      int
	Rebuilding bool
	Failed     bool
	Problems   []string // catalog keys
	Ignored    []string
	Lists      []string
	Kinds      []FacetLink
	ListFacets []FacetLink
	TagFacets  []FacetLink
	Suggestion string
	SuggestURL string
	PrevURL    string
	NextURL    string
	First      int // number of the first hit shown
}

func (h *Handler) search(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	get := func(k string) string {
		s, _ := Clean(v.Get(k))
		return strings.TrimSpace(s)
	}
	f := form{Q: get("q"), In: ParseKind(get("in")), List: get("list"), Tag: get("tag"), From: get("from"),
		After: get("after"), Before: get("before"), Sort: get("sort")}
	if f.Sort != SortDate {
		f.Sort = SortRelevance
	}
	f.Page, _ = strconv.Atoi(get("page"))
	if f.Page < 1 || f.Page > MaxPage {
		f.Page = 1
	}
	p := searchPage{Form: f}
	req := Request{Q: v.Get("q"), Sort: f.Sort, Page: f.Page, Viewer: h.cfg.Visibility(r), From: f.From}
	if f.In != "" {
		req.Kinds = []string{f.In}
	}
	if f.List != "" {
		req.Lists = []string{f.List}
	}
	if f.Tag != "" {
		req.Tags = []string{f.Tag}
	}
	for _, d := range []struct {
		s   string
		dst *time.Time
	}{{f.After, &req.After}, {f.Before, &req.Before}} {
		if d.s == "" {
			continue
		}
		t, ok := ParseDate(d.s)
		if !ok {
			p.Problems = append(p.Problems, ProblemBadDate)
			continue
		}
		*d.dst = t
	}
	res, err := h.cfg.Index.Search(r.Context(), req)
	switch {
	case errors.Is(err, ErrRebuilding):
		p.Rebuilding = true
	case err != nil:
		h.logger.Error("search failed", "error", err)
		p.Failed = true
	}
	if res != nil {
		p.Result = res
		p.Searched = !res.Query.Empty()
		p.Total = int(min(res.Total, 1<<31-1))
		for _, k := range res.Query.Problems {
			if !slices.Contains(p.Problems, k) {
				p.Problems = append(p.Problems, k)
			}
		}
		p.Ignored = res.Query.Ignored
		h.links(&p, res)
	}
	if h.cfg.Lists != nil {
		p.Lists = h.cfg.Lists(r)
	} else if res != nil {
		for _, fc := range res.Facets.Lists {
			p.Lists = append(p.Lists, fc.Value)
		}
	}
	if f.List != "" && !slices.Contains(p.Lists, f.List) {
		p.Lists = append(p.Lists, f.List)
	}
	status := http.StatusOK
	if p.Failed {
		status = http.StatusInternalServerError
	} else if p.Rebuilding {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "30")
	}
	h.shell.RenderNoIndex(w, r, status, h.pages, "search.html", p)
}

// url returns the search URL of f.
func (f form) url() string {
	v := url.Values{}
	for k, s := range map[string]string{"q": f.Q, "in": f.In, "list": f.List, "tag": f.Tag, "from": f.From, "after": f.After, "before": f.Before} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.Sort == SortDate {
		v.Set("sort", SortDate)
	}
	if f.Page > 1 {
		v.Set("page", strconv.Itoa(f.Page))
	}
	return "/search?" + v.Encode()
}

// links fills the page's facet, paging and suggestion links.
func (h *Handler) links(p *searchPage, res *Result) {
	base := p.Form
	base.Page = 0
	for _, fc := range res.Facets.Kinds {
		f := base
		f.In = fc.Value
		p.Kinds = append(p.Kinds, FacetLink{Value: fc.Value, Count: fc.Count, URL: f.url(), Current: base.In == fc.Value})
	}
	for _, fc := range res.Facets.Lists {
		f := base
		f.List = fc.Value
		p.ListFacets = append(p.ListFacets, FacetLink{Value: fc.Value, Count: fc.Count, URL: f.url(), Current: base.List == fc.Value})
	}
	for _, fc := range res.Facets.Tags {
		f := base
		f.Tag = fc.Value
		p.TagFacets = append(p.TagFacets, FacetLink{Value: fc.Value, Count: fc.Count, URL: f.url(), Current: strings.EqualFold(base.Tag, fc.Value)})
	}
	if res.Page > 1 {
		f := p.Form
		f.Page = res.Page - 1
		p.PrevURL = f.url()
	}
	if res.Page < res.Pages {
		f := p.Form
		f.Page = res.Page + 1
		p.NextURL = f.url()
	}
	p.First = (res.Page-1)*DefaultPerPage + 1
	if res.Suggestion != "" {
		f := base
		f.Q = res.Suggestion
		p.Suggestion = res.Suggestion
		p.SuggestURL = f.url()
	}
}

// openSearchDescription is an OpenSearch 1.1 description document.
type openSearchDescription struct {
	XMLName       xml.Name `xml:"http://a9.com/-/spec/opensearch/1.1/ OpenSearchDescription"`
	ShortName     string   `xml:"ShortName"`
	Description   string   `xml:"Description"`
	InputEncoding string   `xml:"InputEncoding"`
	Language      string   `xml:"Language"`
	URLs          []osURL  `xml:"Url"`
}

type osURL struct {
	Type     string `xml:"type,attr"`
	Method   string `xml:"method,attr,omitempty"`
	Rel      string `xml:"rel,attr,omitempty"`
	Template string `xml:"template,attr"`
}

// openSearch serves the OpenSearch description, with absolute URLs made
// from the request's host.
func (h *Handler) openSearch(w http.ResponseWriter, r *http.Request) {
	base := h.shell.BaseURL(r)
	site := h.shell.Settings().Name
	p := h.shell.Printer(r)
	d := openSearchDescription{
		ShortName:     truncateRunes(site, 16),
		Description:   p.T("search.opensearch.description", site),
		InputEncoding: "UTF-8",
		Language:      p.Lang(),
		URLs: []osURL{
			{Type: "text/html", Method: "get", Template: base + "/search?q={searchTerms}"},
			{Type: "application/opensearchdescription+xml", Rel: "self", Template: base + "/opensearch.xml"},
		},
	}
	out, err := xml.MarshalIndent(d, "", " ")
	if err != nil {
		h.shell.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/opensearchdescription+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write([]byte(xml.Header))
	w.Write(out)
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
