package search

import (
	"encoding/json"
	"slices"
	"sync"
	"time"
)

// cacheSize is how many results the index keeps for the searches asked
// again (a common word, a link to a page of results): they are answered
// without searching until the index changes.
const cacheSize = 64

// resultCache keeps the latest results, each with the generation of the
// index it was computed on: a result of an older generation is never
// served. The key holds the whole request, the viewer's visibility
// included, so that a result never reaches someone who may read less.
type resultCache struct {
	mu    sync.Mutex // guards order and items
	order []string   // keys, oldest first
	items map[string]cacheItem
}

type cacheItem struct {
	gen    uint64
	res    *Result
	facets Facets
}

// cacheKey returns the key of req; "" if it cannot be cached.
func cacheKey(req *Request) string { return requestKey(req, true) }

// facetKey returns the key of the facets of req: those of every page and
// sort order of the same search.
func facetKey(req *Request) string { return requestKey(req, false) }

func requestKey(req *Request, paging bool) string {
	r := *req
	if !paging {
		r.Page, r.PerPage, r.Sort = 0, 0, ""
	}
	req = &r
	v := req.Viewer
	lists := slices.Clone(v.Lists)
	slices.Sort(lists)
	b, err := json.Marshal(struct {
		Q                  string
		Kinds, Lists, Tags []string
		From, Sort         string
		After, Before      time.Time
		Page, PerPage      int
		Staff              bool
		Readable           []string
	}{req.Q, req.Kinds, req.Lists, req.Tags, req.From, req.Sort, req.After, req.Before, req.Page, req.PerPage, v.Staff, lists})
	if err != nil {
		return ""
	}
	return string(b)
}

// get returns a copy of the result of key computed on generation gen.
func (c *resultCache) get(key string, gen uint64) (*Result, bool) {
	if key == "" {
		return nil, false
	}
	c.mu.Lock()
	it, ok := c.items[key]
	c.mu.Unlock()
	if !ok || it.gen != gen || it.res == nil {
		return nil, false
	}
	res := *it.res
	res.Hits = slices.Clone(it.res.Hits)
	return &res, true
}

// put keeps res as the result of key on generation gen, forgetting the
// oldest result when full.
func (c *resultCache) put(key string, gen uint64, res *Result) {
	if key == "" {
		return
	}
	cp := *res
	cp.Hits = slices.Clone(res.Hits)
	c.store(key, cacheItem{gen: gen, res: &cp})
}

// store keeps it under key, forgetting the oldest item when full.
func (c *resultCache) store(key string, it cacheItem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil {
		c.items = make(map[string]cacheItem, cacheSize)
	}
	if _, ok := c.items[key]; !ok {
		if len(c.order) >= cacheSize {
			delete(c.items, c.order[0])
			c.order = c.order[1:]
		}
		c.order = append(c.order, key)
	}
	c.items[key] = it
}

// facets returns the facets of key computed on generation gen.
func (c *resultCache) getFacets(key string, gen uint64) (Facets, bool) {
	if key == "" {
		return Facets{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[key]
	if !ok || it.gen != gen {
		return Facets{}, false
	}
	return it.facets, true
}

// putFacets keeps the facets of key on generation gen.
func (c *resultCache) putFacets(key string, gen uint64, f Facets) {
	if key == "" {
		return
	}
	c.store(key, cacheItem{gen: gen, facets: f})
}
