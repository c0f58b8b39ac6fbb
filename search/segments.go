package search

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"codeberg.org/placette/placette/internal/resident"
	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	"github.com/blevesearch/vellum"
)

// This file answers the searches made of words and filters (most of them)
// from the index's segments directly, as sets of documents: a term's
// postings in a segment are a roaring bitmap, so the matches of a query are
// unions and intersections of bitmaps, their facets the sizes of their
// intersections with each facet value's bitmap, and only the ranking reads
// the postings one by one (their frequencies and norms, into an array).
// bleve's own collector does the same work through a tree of searchers, a
// DocumentMatch per match and the doc values of every match, which costs
// many times more for a common word.

// errNoSegments says the index is not one whose segments can be read (not
// scorch); the search goes through bleve instead.
var errNoSegments = errors.New("the index's segments cannot be read directly")

// snapshot returns the index's segments as they are now, each held (not
// closed, nor unmapped) until the snapshot is closed; errNoSegments if the
// index is not one whose segments can be read. The caller holds i.mu for
// reading, and i.idx is not nil.
func (i *Index) snapshot() (*scorch.IndexSnapshot, error) {
	adv, err := i.idx.Advanced()
	if err != nil {
		return nil, errNoSegments
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("open the index reader: %w", err)
	}
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		r.Close()
		return nil, errNoSegments
	}
	return snap, nil
}

// segAnswer is what searchSegments finds.
type segAnswer struct {
	total  uint64
	facets map[string]int // the values of fieldFacet, counted
	hits   []storedHit    // the page of hits asked for, best first
}

// storedHit is a ranked match with its stored fields.
type storedHit struct {
	fields map[string]any
	score  float64
}

// searchSegments answers c, which must be onBitmaps, from the segments of
// the index as it is now: the number of matches, their facets if
// withFacets, and if rank the size matches from the offset from, by
// relevance. The caller holds i.mu for reading.
//
// The score is bleve's TF-IDF for term queries, summed over the clauses a
// document matches: for each, boost × idf² × √freq × norm, with idf = 1 +
// ln(documents / (1 + documents holding the term)).
func (i *Index) searchSegments(ctx context.Context, c *compiled, from, size int, rank, withFacets bool) (*segAnswer, error) {
	snap, err := i.snapshot()
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	segs := snap.Segments()
	a := &segAnswer{facets: map[string]int{}}
	if withFacets {
		defer i.segFacets.keep(segs)
	}

	// The postings of the texts' clauses in every segment, and the
	// documents holding each clause's term, for its idf.
	perSeg := make([][][]segment.PostingsList, len(segs)) // [segment][text][clause]
	var docs uint64
	df := make([][]uint64, len(c.texts))
	for t, m := range c.texts {
		df[t] = make([]uint64, len(m.terms))
	}
	terms := make([]*segTerms, len(segs))
	for s, ss := range segs {
		seg := ss.Segment()
		terms[s] = &segTerms{seg: seg}
		docs += seg.Count()
		if del := ss.Deleted(); del != nil {
			docs -= del.GetCardinality()
		}
		perSeg[s] = make([][]segment.PostingsList, len(c.texts))
		for t, m := range c.texts {
			perSeg[s][t] = make([]segment.PostingsList, len(m.terms))
			for k, cl := range m.terms {
				pl, err := terms[s].postings(cl)
				if err != nil {
					return nil, err
				}
				perSeg[s][t][k] = pl
				if pl != nil {
					df[t][k] += pl.Count()
				}
			}
		}
	}
	weight := make([][]float32, len(c.texts))
	for t, m := range c.texts {
		weight[t] = make([]float32, len(m.terms))
		for k, cl := range m.terms {
			idf := 1 + math.Log(float64(docs)/float64(1+df[t][k]))
			weight[t][k] = float32(cl.boost * idf * idf)
		}
	}

	top := &hitHeap{segs: segs}
	want := from + size
	scores, _ := i.scores.Get().(*[]float32)
	if scores == nil {
		scores = new([]float32)
	}
	defer i.scores.Put(scores)
	for s, ss := range segs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		seg := ss.Segment()
		match, err := matchSegment(terms[s], c, perSeg[s])
		if err != nil {
			return nil, err
		}
		if del := ss.Deleted(); del != nil {
			match.AndNot(del)
		}
		n := match.GetCardinality()
		if n == 0 {
			continue
		}
		a.total += n
		if withFacets {
			fb, err := i.segFacets.of(seg)
			if err != nil {
				return nil, err
			}
			for term, bm := range fb {
				if k := match.AndCardinality(bm); k > 0 {
					a.facets[term] += int(k)
				}
			}
		}
		if !rank {
			continue
		}
		if uint64(cap(*scores)) < seg.Count() {
			*scores = make([]float32, seg.Count())
		}
		sc := (*scores)[:seg.Count()]
		clear(sc)
		for t, lists := range perSeg[s] {
			for k, pl := range lists {
				if pl == nil {
					continue
				}
				w := weight[t][k]
				it := pl.Iterator(true, true, false, nil)
				for {
					p, err := it.Next()
					if err != nil {
						return nil, fmt.Errorf("read postings: %w", err)
					}
					if p == nil {
						break
					}
					sc[p.Number()] += w * float32(math.Sqrt(float64(p.Frequency()))*p.Norm())
				}
			}
		}
		it := match.Iterator()
		for it.HasNext() {
			doc := it.Next()
			top.offer(segHit{score: sc[doc], seg: s, doc: doc}, want)
		}
	}
	if !rank {
		return a, nil
	}
	if top.err != nil {
		return nil, top.err
	}
	ranked := make([]segHit, top.Len())
	for k := len(ranked) - 1; k >= 0; k-- {
		ranked[k] = heap.Pop(top).(segHit)
	}
	if from >= len(ranked) {
		return a, nil
	}
	for _, h := range ranked[from:] {
		fields, err := storedFields(segs[h.seg].Segment(), uint64(h.doc))
		if err != nil {
			return nil, err
		}
		a.hits = append(a.hits, storedHit{fields: fields, score: float64(h.score)})
	}
	return a, nil
}

// matchSegment returns the documents of seg that c matches (deleted ones
// included), a bitmap of its own. lists are the postings of c's texts in
// seg, as searchSegments read them.
func matchSegment(st *segTerms, c *compiled, lists [][]segment.PostingsList) (*roaring.Bitmap, error) {
	var match *roaring.Bitmap
	and := func(bm *roaring.Bitmap) {
		if match == nil {
			match = bm.Clone() // never change a segment's own bitmap
		} else {
			match.And(bm)
		}
	}
	for _, pls := range lists {
		bms := make([]*roaring.Bitmap, 0, len(pls))
		for _, pl := range pls {
			if pl != nil {
				bms = append(bms, postingsBitmap(pl))
			}
		}
		and(roaring.FastOr(bms...))
		if match.IsEmpty() {
			return match, nil
		}
	}
	for _, f := range c.filters {
		bm, err := st.bitmap(f)
		if err != nil {
			return nil, err
		}
		and(bm)
		if match.IsEmpty() {
			return match, nil
		}
	}
	if match == nil { // no text and no filter: every document
		match = roaring.New()
		match.AddRange(0, st.seg.Count())
	}
	for _, m := range c.excluded {
		bm, err := st.bitmap(m.terms)
		if err != nil {
			return nil, err
		}
		match.AndNot(bm)
	}
	return match, nil
}

// segTerms reads the postings of one segment for one search, opening each
// field's terms once.
type segTerms struct {
	seg   segment.Segment
	dicts map[string]segment.TermDictionary
}

// bitmap returns the documents of the segment that hold one of cs's terms.
func (st *segTerms) bitmap(cs []clause) (*roaring.Bitmap, error) {
	bms := make([]*roaring.Bitmap, 0, len(cs))
	for _, cl := range cs {
		pl, err := st.postings(cl)
		if err != nil {
			return nil, err
		}
		if pl != nil {
			bms = append(bms, postingsBitmap(pl))
		}
	}
	return roaring.FastOr(bms...), nil
}

// postings returns the postings of cl's term in the segment, nil if the
// segment has no such field.
func (st *segTerms) postings(cl clause) (segment.PostingsList, error) {
	d, ok := st.dicts[cl.field]
	if !ok {
		var err error
		if d, err = st.seg.Dictionary(cl.field); err != nil {
			return nil, fmt.Errorf("read the terms of %s: %w", cl.field, err)
		}
		if st.dicts == nil {
			st.dicts = map[string]segment.TermDictionary{}
		}
		st.dicts[cl.field] = d
	}
	if d == nil {
		return nil, nil
	}
	pl, err := d.PostingsList([]byte(cl.term), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("read the postings of %s:%s: %w", cl.field, cl.term, err)
	}
	return pl, nil
}

// postingsBitmap returns the documents of pl, without copying when the
// segment keeps them as a bitmap: the caller must not change it.
func postingsBitmap(pl segment.PostingsList) *roaring.Bitmap {
	it := pl.Iterator(false, false, false, nil)
	if o, ok := it.(segment.OptimizablePostingsIterator); ok {
		if bm := o.ActualBitmap(); bm != nil {
			return bm
		}
		if doc, ok := o.DocNum1Hit(); ok {
			return roaring.BitmapOf(uint32(doc))
		}
	}
	bm := roaring.New()
	for {
		p, err := it.Next()
		if err != nil || p == nil {
			return bm
		}
		bm.Add(uint32(p.Number()))
	}
}

// storedFields returns the stored fields of a hit, as bleve gives them:
// strings by field name.
func storedFields(seg segment.Segment, doc uint64) (map[string]any, error) {
	fields := make(map[string]any, len(hitFieldsEN))
	err := seg.VisitStoredFields(doc, func(field string, typ byte, value []byte, _ []uint64) bool {
		if typ == 't' {
			fields[field] = string(value)
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("read a hit's stored fields: %w", err)
	}
	return fields, nil
}

// segHit is a match in a segment, by its number there.
type segHit struct {
	score float32
	seg   int
	doc   uint32
	id    string // its document's key, read when needed to break a tie
}

// hitHeap keeps the best hits seen, the worst on top. Equal scores rank
// by their documents' keys: an order that merging segments never changes,
// so that the pages of a search follow each other.
type hitHeap struct {
	segs []*scorch.SegmentSnapshot
	hits []segHit
	err  error // the first key that could not be read
}

// less reports whether a ranks below b.
func (h *hitHeap) less(a, b *segHit) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return h.key(a) > h.key(b)
}

func (h *hitHeap) key(x *segHit) string {
	if x.id == "" {
		id, err := h.segs[x.seg].Segment().DocID(uint64(x.doc))
		if err != nil && h.err == nil {
			h.err = fmt.Errorf("read a hit's key: %w", err)
		}
		x.id = string(id)
	}
	return x.id
}

// offer keeps x if it ranks among the best want hits seen.
func (h *hitHeap) offer(x segHit, want int) {
	if len(h.hits) < want {
		heap.Push(h, x)
	} else if h.less(&h.hits[0], &x) {
		h.hits[0] = x
		heap.Fix(h, 0)
	}
}

func (h *hitHeap) Len() int           { return len(h.hits) }
func (h *hitHeap) Less(a, b int) bool { return h.less(&h.hits[a], &h.hits[b]) }
func (h *hitHeap) Swap(a, b int)      { h.hits[a], h.hits[b] = h.hits[b], h.hits[a] }
func (h *hitHeap) Push(x any)         { h.hits = append(h.hits, x.(segHit)) }
func (h *hitHeap) Pop() any {
	x := h.hits[len(h.hits)-1]
	h.hits = h.hits[:len(h.hits)-1]
	return x
}

// facetBitmaps keeps, for each segment of the index, the documents of each
// value of fieldFacet: segments never change, and reading the values'
// postings for every search would cost more than the search. Entries of
// segments merged away are dropped when a new segment comes.
type facetBitmaps struct {
	mu   sync.Mutex // guards segs
	segs map[segment.Segment]map[string]*roaring.Bitmap
}

// of returns the bitmaps of seg's facet values, copies owned by the cache.
func (f *facetBitmaps) of(seg segment.Segment) (map[string]*roaring.Bitmap, error) {
	f.mu.Lock()
	fb, ok := f.segs[seg]
	f.mu.Unlock()
	if ok {
		return fb, nil
	}
	fb = map[string]*roaring.Bitmap{}
	d, err := seg.Dictionary(fieldFacet)
	if err != nil {
		return nil, fmt.Errorf("read the facets: %w", err)
	}
	if d != nil {
		it := d.AutomatonIterator(&vellum.AlwaysMatch{}, nil, nil)
		for {
			e, err := it.Next()
			if err != nil {
				return nil, fmt.Errorf("read the facets: %w", err)
			}
			if e == nil {
				break
			}
			pl, err := d.PostingsList([]byte(e.Term), nil, nil)
			if err != nil {
				return nil, fmt.Errorf("read the postings of facet %s: %w", e.Term, err)
			}
			// A copy: the segment's own bitmap lives in its file, which
			// is unmapped when the segment is merged away.
			fb[e.Term] = postingsBitmap(pl).Clone()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.segs == nil {
		f.segs = map[segment.Segment]map[string]*roaring.Bitmap{}
	}
	f.segs[seg] = fb
	return fb, nil
}

// keep drops the bitmaps of the segments not in live.
func (f *facetBitmaps) keep(live []*scorch.SegmentSnapshot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.segs) <= len(live) {
		return
	}
	alive := make(map[segment.Segment]bool, len(live))
	for _, ss := range live {
		alive[ss.Segment()] = true
	}
	for seg := range f.segs {
		if !alive[seg] {
			delete(f.segs, seg)
		}
	}
}

// ReleaseMappings unmaps from the process the pages of the index's segment
// files it has read so far (see package resident), and returns how many
// segments it released: at rest, placette needs few of them, and a segment
// just written or merged is mapped almost whole by its first reads. The
// pages stay in the kernel's page cache and are mapped again by the next
// search.
func (i *Index) ReleaseMappings() int {
	i.mu.RLock()
	defer i.mu.RUnlock()
	if i.idx == nil {
		return 0
	}
	snap, err := i.snapshot()
	if err != nil {
		return 0
	}
	// The snapshot holds a reference to each segment: none is closed and
	// unmapped while it is advised.
	defer snap.Close()
	var files [][]byte
	for _, ss := range snap.Segments() {
		// A segment persisted to a file gives its mapping; one still in
		// memory has no path and is left alone.
		if f, ok := ss.Segment().(interface {
			Path() string
			Data() []byte
		}); ok && f.Path() != "" {
			files = append(files, f.Data())
		}
	}
	return resident.Release(files...)
}
