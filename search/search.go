package search

import (
	"context"
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Paging limits.
const (
	// DefaultPerPage is the number of hits on a page of results.
	DefaultPerPage = 10
	// MaxPerPage bounds Request.PerPage.
	MaxPerPage = 50
	// MaxPage bounds Request.Page: deep pages cost much and help little.
	MaxPage = 100
	// facetSize is how many lists and tags the facets count.
	facetSize = 20
	// facetTerms is how many values of fieldFacet (kinds, lists and tags
	// together) a search counts before splitting them.
	facetTerms = 1000
)

// Sort orders.
const (
	SortRelevance = "relevance"
	SortDate      = "date"
)

// Visibility is what a person may read, which every search enforces
// inside its query: documents outside it neither match nor count.
type Visibility struct {
	// Staff (administrators and moderators) read everything.
	Staff bool
	// Lists are the private lists whose archives this person may read
	// (the lists they are a member of).
	Lists []string
}

// Request is a search.
type Request struct {
	// Q is the search box's text, read with ParseQuery; its filters add to
	// the ones below.
	Q string
	// Kinds, Lists, Tags, From, After and Before filter as the form's
	// controls do; zero values do not filter. Before is a day, included.
	Kinds  []string
	Lists  []string
	Tags   []string
	From   string
	After  time.Time
	Before time.Time
	// Sort is SortRelevance (the default) or SortDate (newest first).
	Sort string
	// Page counts from 1; PerPage defaults to DefaultPerPage.
	Page    int
	PerPage int
	// Viewer is who searches.
	Viewer Visibility
}

// Result is the answer to a Request.
type Result struct {
	// Query is the request's text as read, its filters merged with the
	// request's.
	Query Query
	// Total is the number of matching documents the viewer may read.
	Total uint64
	// Hits are the documents of the page asked for.
	Hits []Hit
	// Facets count the matches per kind, list and tag.
	Facets Facets
	// Page and Pages: the page shown (from 1) and the number of pages.
	Page, Pages int
	// Suggestion is another query that finds something, when this one
	// finds nothing; "" if there is none.
	Suggestion string
	// Took is how long the search took.
	Took time.Duration
}

// Hit is one document found.
type Hit struct {
	Kind    string        // KindWiki or KindList
	URL     string        // its path on the site
	Title   template.HTML // escaped, the query's words in <mark>
	Snippet template.HTML // an escaped extract, the query's words in <mark>
	Date    time.Time
	Author  string
	List    string
	Score   float64
}

// Facets are the counts of the matching documents per kind, list and tag,
// largest first.
type Facets struct {
	Kinds []FacetCount
	Lists []FacetCount
	Tags  []FacetCount
}

// FacetCount is a value and the number of matching documents that have it.
type FacetCount struct {
	Value string
	Count int
}

// Search runs req. It returns [ErrRebuilding] while there is no index to
// ask; other errors are the index's own failures. Bad input is never an
// error: what cannot be read is in Result.Query.Problems.
func (i *Index) Search(ctx context.Context, req Request) (*Result, error) {
	start := time.Now()
	q := ParseQuery(req.Q)
	mergeRequest(&q, &req)
	res := &Result{Query: q, Page: 1}
	if req.PerPage <= 0 || req.PerPage > MaxPerPage {
		req.PerPage = DefaultPerPage
	}
	if req.Page < 1 {
		req.Page = 1
	}
	if req.Page > MaxPage {
		req.Page = MaxPage
	}
	res.Page = req.Page
	if q.Empty() {
		return res, nil
	}
	i.mu.RLock()
	defer i.mu.RUnlock()
	if i.idx == nil {
		return res, ErrRebuilding
	}
	// The generation is read before searching: a result is cached with
	// the generation it may be older than, never newer.
	gen := i.gen.Load()
	key, fkey := "", ""
	if !i.noCache {
		key, fkey = cacheKey(&req), "facets:"+facetKey(&req)
	}
	if cached, ok := i.cache.get(key, gen); ok {
		cached.Took = time.Since(start)
		return cached, nil
	}
	bq, marks := i.buildQuery(&q, req.Viewer)
	if bq == nil {
		return res, nil // only stop words
	}
	sr := bleve.NewSearchRequestOptions(bq, req.PerPage, (req.Page-1)*req.PerPage, false)
	sr.Fields = hitFields
	if i.hasEN.Load() {
		sr.Fields = hitFieldsEN
	}
	// One facet over one field: kinds, lists and tags together, split
	// below (visiting one field per match instead of three); not counted
	// again for another page or order of the same search.
	facets, haveFacets := i.cache.getFacets(fkey, gen)
	if !haveFacets {
		sr.AddFacet(fieldFacet, bleve.NewFacetRequest(fieldFacet, facetTerms))
	}
	if req.Sort == SortDate {
		sr.SortBy([]string{"-" + fieldTime, "-_score"})
	}
	sres, err := i.idx.SearchInContext(ctx, sr)
	if err != nil {
		return res, fmt.Errorf("search %q: %w", q.Words, err)
	}
	res.Total = sres.Total
	res.Pages = int((sres.Total + uint64(req.PerPage) - 1) / uint64(req.PerPage))
	if res.Pages > MaxPage {
		res.Pages = MaxPage
	}
	hl := i.newHighlighter(marks)
	for _, h := range sres.Hits {
		res.Hits = append(res.Hits, i.hit(h.Fields, h.Score, hl))
	}
	if !haveFacets {
		facets = splitFacets(sres.Facets[fieldFacet])
		i.cache.putFacets(fkey, gen, facets)
	}
	res.Facets = facets
	if sres.Total == 0 && len(q.Words) > 0 {
		res.Suggestion = i.suggest(ctx, req.Q, &q, req.Viewer)
	}
	res.Took = time.Since(start)
	i.cache.put(key, gen, res)
	return res, nil
}

// mergeRequest adds the form's filters of req to q.
func mergeRequest(q *Query, req *Request) {
	for _, k := range req.Kinds {
		if k = ParseKind(k); k != "" {
			q.Kinds = appendNew(q.Kinds, k)
		}
	}
	for _, l := range req.Lists {
		if l = strings.TrimSpace(l); l != "" {
			q.Lists = appendNew(q.Lists, strings.ToLower(l))
		}
	}
	for _, t := range req.Tags {
		if t = strings.TrimSpace(t); t != "" {
			q.Tags = appendNew(q.Tags, t)
		}
	}
	if f := strings.TrimSpace(req.From); f != "" {
		f, _ = Clean(f)
		q.From = appendNew(q.From, f)
	}
	if !req.After.IsZero() {
		q.After = req.After
	}
	if !req.Before.IsZero() {
		q.Before = req.Before
	}
}

// hitFields are the stored fields a hit is made of; hitFieldsEN add the
// English title and text, asked for only when the index holds English
// documents.
var (
	hitFields   = []string{fieldKind, fieldTitle, fieldText, fieldAuthor, fieldList, fieldTime, fieldURL}
	hitFieldsEN = append(hitFields[:len(hitFields):len(hitFields)], fieldTitleEN, fieldTextEN)
)

// splitFacets splits the counts of fieldFacet into kinds, lists and tags,
// each largest first (then by value) and at most facetSize long.
func splitFacets(fr *bsearch.FacetResult) Facets {
	var f Facets
	if fr == nil || fr.Terms == nil {
		return f
	}
	for _, t := range fr.Terms.Terms() {
		switch {
		case strings.HasPrefix(t.Term, facetKind):
			f.Kinds = append(f.Kinds, FacetCount{Value: t.Term[len(facetKind):], Count: t.Count})
		case strings.HasPrefix(t.Term, facetList):
			f.Lists = append(f.Lists, FacetCount{Value: t.Term[len(facetList):], Count: t.Count})
		case strings.HasPrefix(t.Term, facetTag):
			f.Tags = append(f.Tags, FacetCount{Value: t.Term[len(facetTag):], Count: t.Count})
		}
	}
	for _, fc := range []*[]FacetCount{&f.Kinds, &f.Lists, &f.Tags} {
		sort.SliceStable(*fc, func(a, b int) bool {
			x, y := (*fc)[a], (*fc)[b]
			if x.Count != y.Count {
				return x.Count > y.Count
			}
			return x.Value < y.Value
		})
		if len(*fc) > facetSize {
			*fc = (*fc)[:facetSize]
		}
	}
	return f
}

// buildQuery turns q into a bleve query, with the viewer's visibility as
// a filter. It returns nil when q asks for nothing searchable, and the
// analyzed terms to mark in snippets.
func (i *Index) buildQuery(q *Query, v Visibility) (query.Query, *marks) {
	mk := newMarks()
	var must []query.Query
	var should bool
	for _, w := range q.Words {
		if tq := i.textQuery(w, mk); tq != nil {
			must = append(must, tq)
			should = true
		}
	}
	for _, p := range q.Phrases {
		if tq := i.textQuery(p, mk); tq != nil {
			must = append(must, tq)
			should = true
		}
	}
	if (len(q.Words) > 0 || len(q.Phrases) > 0) && !should {
		return nil, mk // only stop words: nothing to look for
	}
	if len(q.Kinds) == 1 { // both kinds is no filter
		must = append(must, termQuery(fieldKind, q.Kinds[0]))
	}
	if len(q.Lists) > 0 {
		var qs []query.Query
		for _, l := range q.Lists {
			qs = append(qs, termQuery(fieldList, l))
		}
		must = append(must, bleve.NewDisjunctionQuery(qs...))
	}
	for _, t := range q.Tags {
		ts := terms(i.an.tag, t)
		if len(ts) == 0 {
			continue
		}
		must = append(must, termQuery(fieldTagNorm, ts[0]))
	}
	for _, f := range q.From {
		ts := terms(i.an.name, f)
		if len(ts) == 0 {
			continue
		}
		var qs []query.Query
		for _, t := range ts {
			qs = append(qs, termQuery(fieldAuthor, t))
		}
		must = append(must, bleve.NewConjunctionQuery(qs...))
	}
	if !q.After.IsZero() || !q.Before.IsZero() {
		// Open ends as far dates: bleve's numeric ranges do not take
		// infinite bounds well.
		start, end := q.After, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
		if start.IsZero() {
			start = time.Unix(0, 0).UTC()
		}
		if !q.Before.IsZero() {
			end = q.Before.AddDate(0, 0, 1)
		}
		incl, excl := true, false
		dq := bleve.NewDateRangeInclusiveQuery(start, end, &incl, &excl)
		dq.SetField(fieldDate)
		must = append(must, dq)
	}
	if !v.Staff {
		acl := []query.Query{termQuery(fieldACL, aclPublic)}
		for _, l := range v.Lists {
			acl = append(acl, termQuery(fieldACL, aclList(l)))
		}
		if len(acl) == 1 {
			must = append(must, acl[0])
		} else {
			must = append(must, bleve.NewDisjunctionQuery(acl...))
		}
	}
	bq := bleve.NewBooleanQuery()
	if len(must) == 0 {
		must = append(must, bleve.NewMatchAllQuery())
	} else if !should {
		// Filters only: every document they keep, scored alike.
		must = append(must, bleve.NewMatchAllQuery())
	}
	bq.AddMust(must...)
	for _, x := range q.Excluded {
		if tq := i.textQuery(x, nil); tq != nil {
			bq.AddMustNot(tq)
		}
	}
	return bq, mk
}

func termQuery(field, term string) *query.TermQuery {
	t := bleve.NewTermQuery(term)
	t.SetField(field)
	return t
}

// textQuery returns the query for a word or a phrase s over the titles,
// texts, authors and tags, French and English; nil if s is only stop
// words. The analyzed terms are added to mk, if not nil.
func (i *Index) textQuery(s string, mk *marks) query.Query {
	var qs []query.Query
	for _, g := range []struct {
		an          analysis.Analyzer
		name        string
		title, text string
		en          bool
	}{
		{i.an.fr, analyzerFR, fieldTitle, fieldText, false},
		{i.an.en, analyzerEN, fieldTitleEN, fieldTextEN, true},
	} {
		if g.en && !i.hasEN.Load() {
			continue // no English document: nothing to find there
		}
		ts := terms(g.an, s)
		if len(ts) == 0 {
			continue
		}
		if mk != nil {
			mk.add(g.en, ts)
		}
		for _, f := range []struct {
			field string
			boost float64
		}{{g.title, 3}, {g.text, 1}} {
			if len(ts) == 1 {
				t := termQuery(f.field, ts[0])
				t.SetBoost(f.boost)
				qs = append(qs, t)
				continue
			}
			p := bleve.NewMatchPhraseQuery(s)
			p.SetField(f.field)
			p.Analyzer = g.name
			p.SetBoost(f.boost)
			qs = append(qs, p)
		}
	}
	if len(qs) == 0 {
		return nil
	}
	if ts := terms(i.an.name, s); len(ts) == 1 {
		t := termQuery(fieldAuthor, ts[0])
		t.SetBoost(0.5)
		qs = append(qs, t)
	}
	if ts := terms(i.an.tag, s); len(ts) == 1 {
		t := termQuery(fieldTagNorm, ts[0])
		t.SetBoost(2)
		qs = append(qs, t)
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// hit builds a Hit from the stored fields of a match.
func (i *Index) hit(f map[string]any, score float64, hl *highlighter) Hit {
	str := func(k string) string {
		s, _ := f[k].(string)
		return s
	}
	h := Hit{
		Kind:   str(fieldKind),
		URL:    str(fieldURL),
		Author: str(fieldAuthor),
		List:   str(fieldList),
		Score:  score,
	}
	if d := str(fieldTime); d != "" {
		if t, err := time.Parse(tsLayout, d); err == nil {
			h.Date = t
		}
	}
	title, text, en := str(fieldTitle), str(fieldText), false
	if title == "" && text == "" {
		title, text, en = str(fieldTitleEN), str(fieldTextEN), true
	}
	h.Title = hl.mark(title, en, 0)
	h.Snippet = hl.mark(text, en, snippetBytes)
	return h
}

// suggest looks, for each word of q, for a word of the documents the
// viewer may read that is one or two letters away and returns the query
// text with those words in place, or "" if it finds none.
func (i *Index) suggest(ctx context.Context, text string, q *Query, v Visibility) string {
	changed := false
	out := text
	for _, w := range q.Words {
		ts := terms(i.an.fr, w)
		if len(ts) != 1 {
			continue
		}
		t := ts[0]
		fuzz := 1
		if len([]rune(t)) > 5 {
			fuzz = 2
		}
		var qs []query.Query
		for _, field := range []string{fieldTitle, fieldText} {
			fq := bleve.NewFuzzyQuery(t)
			fq.SetField(field)
			fq.SetFuzziness(fuzz)
			qs = append(qs, fq)
		}
		fq := *q
		fq.Words, fq.Phrases, fq.Excluded = nil, nil, nil
		filter, _ := i.buildQuery(&fq, v)
		bq := bleve.NewConjunctionQuery(bleve.NewDisjunctionQuery(qs...), filter)
		sr := bleve.NewSearchRequestOptions(bq, 10, 0, false)
		sr.Fields = []string{fieldTitle, fieldText}
		sres, err := i.idx.SearchInContext(ctx, sr)
		if err != nil || sres.Total == 0 {
			continue
		}
		best := i.closestWord(w, t, fuzz, sres.Hits)
		if best == "" || strings.EqualFold(best, w) {
			continue
		}
		out = strings.Replace(out, w, best, 1)
		changed = true
	}
	if !changed {
		return ""
	}
	return out
}

// closestWord returns, among the words of the hits' stored text whose
// French term is at most fuzz edits from t, the one closest to the word w
// as typed (accents and case aside), the most frequent of those.
func (i *Index) closestWord(w, t string, fuzz int, hits []*bsearch.DocumentMatch) string {
	type cand struct{ dist, count int }
	cands := map[string]*cand{}
	seen := map[string]bool{}
	fw := foldString(w)
	for _, h := range hits {
		for _, k := range []string{fieldTitle, fieldText} {
			s, _ := h.Fields[k].(string)
			s = truncate(s, scanBytes)
			eachWord(s, func(start, end int) {
				word := strings.ToLower(s[start:end])
				if c, ok := cands[word]; ok {
					c.count++
					return
				}
				if seen[word] {
					return
				}
				seen[word] = true
				ts := terms(i.an.fr, word)
				if len(ts) == 1 && ts[0] != t && levenshtein(ts[0], t, fuzz) <= fuzz {
					cands[word] = &cand{dist: levenshtein(foldString(word), fw, 64), count: 1}
				}
			})
		}
	}
	words := make([]string, 0, len(cands))
	for w := range cands {
		words = append(words, w)
	}
	sort.Slice(words, func(a, b int) bool {
		ca, cb := cands[words[a]], cands[words[b]]
		if ca.dist != cb.dist {
			return ca.dist < cb.dist
		}
		if ca.count != cb.count {
			return ca.count > cb.count
		}
		return words[a] < words[b]
	})
	if len(words) == 0 {
		return ""
	}
	return words[0]
}

// levenshtein returns the edit distance of a and b, or max+1 as soon as it
// is known to exceed max.
func levenshtein(a, b string, max int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > max || -d > max {
		return max + 1
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		low := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			low = min(low, cur[j])
		}
		if low > max {
			return max + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
