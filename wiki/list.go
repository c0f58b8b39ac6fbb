package wiki

import (
	"net/http"
	"sort"
	"strings"
)

// tagCount is a tag and how many pages have it.
type tagCount struct {
	Tag   string
	Count int
}

type indexPage struct {
	Tag     string // the tag the list is filtered by; "" for all
	Pages   []*Page
	Tags    []tagCount
	CanEdit bool
}

// URL returns the path of p.
func (indexPage) URL(p *Page) string { return pageURL(p.Slug) }

func (w *Wiki) index(rw http.ResponseWriter, r *http.Request) {
	tag := strings.TrimSpace(strings.ToValidUTF8(r.URL.Query().Get("tag"), ""))
	all := w.store.all()
	data := indexPage{Tag: tag}
	counts := map[string]int{}
	names := map[string]string{}
	for _, p := range all {
		for _, t := range p.Tags {
			k := strings.ToLower(t)
			counts[k]++
			if _, ok := names[k]; !ok {
				names[k] = t
			}
		}
		if tag == "" || p.HasTag(tag) {
			data.Pages = append(data.Pages, p)
		}
	}
	for k, n := range counts {
		data.Tags = append(data.Tags, tagCount{Tag: names[k], Count: n})
	}
	sort.Slice(data.Tags, func(i, j int) bool { return strings.ToLower(data.Tags[i].Tag) < strings.ToLower(data.Tags[j].Tag) })
	a, _ := w.access(r, nil)
	data.CanEdit = a != accessNo
	status := http.StatusOK
	if tag != "" && len(data.Pages) == 0 {
		status = http.StatusNotFound
	}
	w.shell.Render(rw, r, status, w.pages, "index.html", data)
}

// ficheFilters are the front matter keys the catalogue filters on.
var ficheFilters = []string{"public", "duree", "niveau"}

// filter is one select of the catalogue's form.
type filter struct {
	Key      string
	LabelKey string
	Options  []string
	Selected string
}

type fichesPage struct {
	Filters []filter
	Fiches  []*Page
	Total   int
}

// URL returns the path of p.
func (fichesPage) URL(p *Page) string { return pageURL(p.Slug) }

// isFiche reports whether p is a fiche atelier: tagged so, or with a
// fiche's front matter.
func isFiche(p *Page) bool {
	if p.HasTag("fiche") || p.HasTag("fiche-atelier") {
		return true
	}
	for _, k := range ficheFilters {
		if len(p.Get(k)) > 0 {
			return true
		}
	}
	return false
}

func (w *Wiki) fiches(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := fichesPage{}
	var fiches []*Page
	for _, p := range w.store.all() {
		if isFiche(p) && !p.HasTag("template") && !p.HasTag("modèle") {
			fiches = append(fiches, p)
		}
	}
	data.Total = len(fiches)
	for _, k := range ficheFilters {
		f := filter{Key: k, LabelKey: "wiki.field." + k, Selected: strings.ToValidUTF8(q.Get(k), "")}
		seen := map[string]bool{}
		for _, p := range fiches {
			for _, v := range p.Get(k) {
				if v = strings.TrimSpace(v); v != "" && !seen[strings.ToLower(v)] {
					seen[strings.ToLower(v)] = true
					f.Options = append(f.Options, v)
				}
			}
		}
		sort.Slice(f.Options, func(i, j int) bool { return strings.ToLower(f.Options[i]) < strings.ToLower(f.Options[j]) })
		data.Filters = append(data.Filters, f)
	}
	for _, p := range fiches {
		ok := true
		for _, f := range data.Filters {
			if f.Selected == "" {
				continue
			}
			match := false
			for _, v := range p.Get(f.Key) {
				if strings.EqualFold(strings.TrimSpace(v), f.Selected) {
					match = true
				}
			}
			ok = ok && match
		}
		if ok {
			data.Fiches = append(data.Fiches, p)
		}
	}
	w.shell.Render(rw, r, http.StatusOK, w.pages, "fiches.html", data)
}
