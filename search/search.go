package search

import (
	"context"
	"errors"
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
	c := i.compile(&q, req.Viewer)
	if c == nil {
		return res, nil // only stop words
	}
	// Facets are not counted again for another page or order of the same
	// search.
	facets, haveFacets := i.cache.getFacets(fkey, gen)
	from := (req.Page - 1) * req.PerPage
	hl := i.newHighlighter(c.marks)
	// The segments' bitmaps count the matches and their facets, and rank
	// them by relevance, many times faster than bleve's collector (which
	// scores every match through its query tree and reads every match's
	// facets from doc values), for what most searches are: words and
	// filters. bleve answers phrases, date ranges and the order by date.
	ranked := false
	if c.onBitmaps() && !i.noSegments {
		rank := req.Sort != SortDate && len(c.texts) > 0
		a, err := i.searchSegments(ctx, c, from, req.PerPage, rank, !haveFacets)
		switch {
		case err == nil:
			res.Total = a.total
			if !haveFacets {
				facets, haveFacets = splitFacets(a.facets), true
				i.cache.putFacets(fkey, gen, facets)
			}
			if rank {
				for _, h := range a.hits {
					res.Hits = append(res.Hits, i.hit(h.fields, h.score, hl))
				}
				ranked = true
			}
		case !errors.Is(err, errNoSegments):
			return res, fmt.Errorf("search %q: %w", q.Words, err)
		}
	}
	if !ranked {
		sr := bleve.NewSearchRequestOptions(c.query(), req.PerPage, from, false)
		sr.Fields = hitFields
		if i.hasEN.Load() {
			sr.Fields = hitFieldsEN
		}
		// One facet over one field: kinds, lists and tags together, split
		// below (visiting one field per match instead of three).
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
		for _, h := range sres.Hits {
			res.Hits = append(res.Hits, i.hit(h.Fields, h.Score, hl))
		}
		if !haveFacets {
			facets = splitFacets(facetCounts(sres.Facets[fieldFacet]))
			i.cache.putFacets(fkey, gen, facets)
		}
	}
	res.Pages = int((res.Total + uint64(req.PerPage) - 1) / uint64(req.PerPage))
	if res.Pages > MaxPage {
		res.Pages = MaxPage
	}
	res.Facets = facets
	if res.Total == 0 && len(q.Words) > 0 {
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

// facetCounts returns bleve's counts of fieldFacet's values.
func facetCounts(fr *bsearch.FacetResult) map[string]int {
	counts := map[string]int{}
	if fr == nil || fr.Terms == nil {
		return counts
	}
	for _, t := range fr.Terms.Terms() {
		counts[t.Term] = t.Count
	}
	return counts
}

// splitFacets splits the counts of fieldFacet's values into kinds, lists
// and tags, each largest first (then by value) and at most facetSize long.
func splitFacets(counts map[string]int) Facets {
	var f Facets
	for term, n := range counts {
		switch {
		case strings.HasPrefix(term, facetKind):
			f.Kinds = append(f.Kinds, FacetCount{Value: term[len(facetKind):], Count: n})
		case strings.HasPrefix(term, facetList):
			f.Lists = append(f.Lists, FacetCount{Value: term[len(facetList):], Count: n})
		case strings.HasPrefix(term, facetTag):
			f.Tags = append(f.Tags, FacetCount{Value: term[len(facetTag):], Count: n})
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

// clause is one term of one field a document may hold, with its weight
// in the score.
type clause struct {
	field, term string
	boost       float64
}

func (c clause) query() query.Query {
	t := termQuery(c.field, c.term)
	if c.boost != 0 {
		t.SetBoost(c.boost)
	}
	return t
}

// textMatch is what a word or a phrase of the query is looked for as: a
// document matches if it holds one of the terms, or one of the phrases.
// Phrases are what an analyzer makes several terms of ("mot de passe",
// "tiers-lieu"): only bleve's phrase queries find them.
type textMatch struct {
	terms   []clause
	phrases []query.Query
}

func (m textMatch) query() query.Query {
	qs := make([]query.Query, 0, len(m.terms)+len(m.phrases))
	for _, c := range m.terms {
		qs = append(qs, c.query())
	}
	return bleve.NewDisjunctionQuery(append(qs, m.phrases...)...)
}

// compiled is a query ready to run, in parts that both bleve (query) and
// the segments' bitmaps (segments.go) can answer.
type compiled struct {
	// texts must all match; a query without texts keeps every document
	// its filters keep.
	texts []textMatch
	// filters must all match: each is a set of clauses of which a
	// document holds one (kind, lists, tags, authors, visibility).
	filters [][]clause
	// dates is a date range, nil if none.
	dates query.Query
	// excluded may not match.
	excluded []textMatch
	// marks are the analyzed terms to mark in snippets.
	marks *marks
}

// onBitmaps says the segments' bitmaps can answer c: no phrase and no date
// range.
func (c *compiled) onBitmaps() bool {
	if c.dates != nil {
		return false
	}
	for _, ms := range [][]textMatch{c.texts, c.excluded} {
		for _, m := range ms {
			if len(m.phrases) > 0 {
				return false
			}
		}
	}
	return true
}

// query returns c as a bleve query.
func (c *compiled) query() query.Query {
	var must []query.Query
	for _, m := range c.texts {
		must = append(must, m.query())
	}
	for _, f := range c.filters {
		if len(f) == 1 {
			must = append(must, f[0].query())
			continue
		}
		qs := make([]query.Query, 0, len(f))
		for _, cl := range f {
			qs = append(qs, cl.query())
		}
		must = append(must, bleve.NewDisjunctionQuery(qs...))
	}
	if c.dates != nil {
		must = append(must, c.dates)
	}
	if len(c.texts) == 0 {
		// Filters only: every document they keep, scored alike.
		must = append(must, bleve.NewMatchAllQuery())
	}
	bq := bleve.NewBooleanQuery()
	bq.AddMust(must...)
	for _, m := range c.excluded {
		bq.AddMustNot(m.query())
	}
	return bq
}

// compile reads q for the index, with the viewer's visibility as a filter.
// It returns nil when q asks for nothing searchable (only stop words).
func (i *Index) compile(q *Query, v Visibility) *compiled {
	c := &compiled{marks: newMarks()}
	for _, s := range append(q.Words[:len(q.Words):len(q.Words)], q.Phrases...) {
		if m, ok := i.textMatch(s, c.marks); ok {
			c.texts = append(c.texts, m)
		}
	}
	if (len(q.Words) > 0 || len(q.Phrases) > 0) && len(c.texts) == 0 {
		return nil // only stop words: nothing to look for
	}
	if len(q.Kinds) == 1 { // both kinds is no filter
		c.filters = append(c.filters, []clause{{field: fieldKind, term: q.Kinds[0]}})
	}
	if len(q.Lists) > 0 {
		var f []clause
		for _, l := range q.Lists {
			f = append(f, clause{field: fieldList, term: l})
		}
		c.filters = append(c.filters, f)
	}
	for _, t := range q.Tags {
		if ts := terms(i.an.tag, t); len(ts) > 0 {
			c.filters = append(c.filters, []clause{{field: fieldTagNorm, term: ts[0]}})
		}
	}
	for _, f := range q.From {
		for _, t := range terms(i.an.name, f) {
			c.filters = append(c.filters, []clause{{field: fieldAuthor, term: t}})
		}
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
		c.dates = dq
	}
	if !v.Staff {
		acl := []clause{{field: fieldACL, term: aclPublic}}
		for _, l := range v.Lists {
			acl = append(acl, clause{field: fieldACL, term: aclList(l)})
		}
		c.filters = append(c.filters, acl)
	}
	for _, x := range q.Excluded {
		if m, ok := i.textMatch(x, nil); ok {
			c.excluded = append(c.excluded, m)
		}
	}
	return c
}

func termQuery(field, term string) *query.TermQuery {
	t := bleve.NewTermQuery(term)
	t.SetField(field)
	return t
}

// textMatch returns what a word or a phrase s is looked for as, over the
// titles, texts, authors and tags, French and English; false if s is only
// stop words. The analyzed terms are added to mk, if not nil.
func (i *Index) textMatch(s string, mk *marks) (textMatch, bool) {
	var m textMatch
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
				m.terms = append(m.terms, clause{field: f.field, term: ts[0], boost: f.boost})
				continue
			}
			p := bleve.NewMatchPhraseQuery(s)
			p.SetField(f.field)
			p.Analyzer = g.name
			p.SetBoost(f.boost)
			m.phrases = append(m.phrases, p)
		}
	}
	if len(m.terms) == 0 && len(m.phrases) == 0 {
		return m, false
	}
	if ts := terms(i.an.name, s); len(ts) == 1 {
		m.terms = append(m.terms, clause{field: fieldAuthor, term: ts[0], boost: 0.5})
	}
	if ts := terms(i.an.tag, s); len(ts) == 1 {
		m.terms = append(m.terms, clause{field: fieldTagNorm, term: ts[0], boost: 2})
	}
	return m, true
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
		bq := bleve.NewConjunctionQuery(bleve.NewDisjunctionQuery(qs...), i.compile(&fq, v).query())
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
