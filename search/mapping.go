package search

import (
	"fmt"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
)

// MappingVersion is the version of the index mapping below. An index built
// with another version is rebuilt at start. Bump it whenever the mapping,
// an analyzer or the way documents are turned into fields changes.
const MappingVersion = 3

// Names of the analyzers of the mapping.
const (
	// analyzerFR is French: Unicode words, accents and ligatures folded
	// to ASCII (so "numerique" finds "Numérique"), lower case, elided
	// articles removed ("l'essentiel" is "essentiel"), stop words removed,
	// then the light French stemmer ("ateliers" is "atelier").
	analyzerFR = "placette_fr"
	// analyzerEN is bleve's English analyzer, for content marked "en".
	analyzerEN = en.AnalyzerName
	// analyzerName is for people's names: words, folded, lower case.
	analyzerName = "placette_name"
	// analyzerTag is for tag filters: the whole tag, folded, lower case.
	analyzerTag = "placette_tag"
)

// Fields of an indexed document.
const (
	fieldKind    = "kind"     // keyword: "wiki" or "list"
	fieldTitle   = "title"    // French text, stored
	fieldText    = "text"     // French text, stored for snippets
	fieldTitleEN = "title_en" // English text, stored
	fieldTextEN  = "text_en"  // English text, stored for snippets
	fieldAuthor  = "author"   // name text, stored
	fieldList    = "list"     // keyword, stored
	fieldFacet   = "facet"    // doc values only: "k:KIND", "l:LIST", "t:TAG" (as written)
	fieldTagNorm = "tagn"     // the tags folded, for filters
	fieldDate    = "date"     // datetime, the day only: ranges
	fieldTime    = "ts"       // keyword, the time as tsLayout: stored, sort
	fieldACL     = "acl"      // keyword: "public", or "list:NAME" for a private list
	fieldLang    = "lang"     // keyword
	fieldURL     = "url"      // stored only
)

// Prefixes of the values of fieldFacet: all the facets of a document in
// one field, so that counting them visits one field per match, not three.
const (
	facetKind = "k:"
	facetList = "l:"
	facetTag  = "t:"
)

// tsLayout is the layout of fieldTime: fixed width, so that the order of
// the strings is the order of the times (UTC).
const tsLayout = "2006-01-02T15:04:05.000000000Z"

// aclPublic is the acl of content anyone may read.
const aclPublic = "public"

// aclList returns the acl of a private list's messages.
func aclList(list string) string { return "list:" + list }

// newMapping builds placette's index mapping: one static document mapping
// with only the fields above (no dynamic fields, no _all field, no geo
// fields), and only the analyzers it names.
func newMapping() (*mapping.IndexMappingImpl, error) {
	im := mapping.NewIndexMapping()
	folded := func(tokenizer string, filters ...string) map[string]any {
		return map[string]any{
			"type":          custom.Name,
			"char_filters":  []any{asciifolding.Name},
			"tokenizer":     tokenizer,
			"token_filters": toAny(filters),
		}
	}
	analyzers := map[string]map[string]any{
		analyzerFR:   folded(unicode.Name, lowercase.Name, fr.ElisionName, fr.StopName, fr.LightStemmerName),
		analyzerName: folded(unicode.Name, lowercase.Name),
		analyzerTag:  folded(single.Name, lowercase.Name),
	}
	for name, def := range analyzers {
		if err := im.AddCustomAnalyzer(name, def); err != nil {
			return nil, fmt.Errorf("define analyzer %s: %w", name, err)
		}
	}
	im.DefaultAnalyzer = analyzerFR
	im.IndexDynamic = false
	im.StoreDynamic = false
	im.DocValuesDynamic = false

	text := func(analyzer string, store bool) *mapping.FieldMapping {
		f := mapping.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = store
		f.IncludeInAll = false
		f.IncludeTermVectors = true // positions, for phrases
		f.DocValues = false
		return f
	}
	kw := func(store, docValues bool) *mapping.FieldMapping {
		f := mapping.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = store
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = docValues
		// Filters and facets, never scored: no frequencies and norms.
		f.SkipFreqNorm = true
		return f
	}
	// Date ranges are days: the day alone is indexed (a datetime is 16
	// numeric terms, shared by a day's documents rather than unique to
	// each), and the time is one sortable keyword with doc values.
	date := mapping.NewDateTimeFieldMapping()
	date.Store = false
	date.IncludeInAll = false
	date.DocValues = false
	url := kw(true, false)
	url.Index = false

	tagNorm := text(analyzerTag, false)
	tagNorm.IncludeTermVectors = false
	// Authors are single terms or conjunctions of terms, never phrases:
	// no positions.
	author := text(analyzerName, true)
	author.IncludeTermVectors = false
	// The facets are read from doc values, never searched (but zap keeps
	// the doc values of indexed fields only when it merges segments).
	facet := kw(false, true)

	doc := mapping.NewDocumentStaticMapping()
	for name, f := range map[string]*mapping.FieldMapping{
		fieldKind:    kw(true, false),
		fieldTitle:   text(analyzerFR, true),
		fieldText:    text(analyzerFR, true),
		fieldTitleEN: text(analyzerEN, true),
		fieldTextEN:  text(analyzerEN, true),
		fieldAuthor:  author,
		fieldList:    kw(true, false),
		fieldFacet:   facet,
		fieldTagNorm: tagNorm,
		fieldDate:    date,
		fieldTime:    kw(true, true),
		fieldACL:     kw(false, false),
		fieldLang:    kw(false, false),
		fieldURL:     url,
	} {
		doc.AddFieldMappingsAt(name, f)
	}
	im.DefaultMapping = doc
	if err := im.Validate(); err != nil {
		return nil, fmt.Errorf("validate the index mapping: %w", err)
	}
	return im, nil
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// analyzers are the analyzers queries and snippets need, taken from the
// mapping.
type analyzers struct {
	fr, en, name, tag analysis.Analyzer
}

func mappingAnalyzers(im *mapping.IndexMappingImpl) (analyzers, error) {
	var a analyzers
	for _, x := range []struct {
		name string
		dst  *analysis.Analyzer
	}{{analyzerFR, &a.fr}, {analyzerEN, &a.en}, {analyzerName, &a.name}, {analyzerTag, &a.tag}} {
		*x.dst = im.AnalyzerNamed(x.name)
		if *x.dst == nil {
			return a, fmt.Errorf("analyzer %s is not defined", x.name)
		}
	}
	return a, nil
}

// terms returns the terms a analyzes s into, in order.
func terms(a analysis.Analyzer, s string) []string {
	ts := a.Analyze([]byte(s))
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, string(t.Term))
	}
	return out
}
