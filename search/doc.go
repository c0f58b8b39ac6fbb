// Package search is placette's full-text index over the wiki and the list
// archives: one bleve index (the only importer of bleve), French-aware,
// derived from the content in bbolt and rebuildable from it (DESIGN.md,
// "Data").
//
// # Indexing
//
// The wiki and the lists do not import this package. Each declares a small
// Indexer interface, called inside its write transactions; the app adapts it
// to [Index.Enqueue], which writes the change to search/pending in that same
// transaction. [Index.Run] drains the queue into bleve in batches (up to
// Config.BatchSize entries or 1 MiB of text, so a long queue goes in few
// batches of bounded memory) and removes an entry only after bleve reports
// its batch persisted (fsync'd), and only if it did not change meanwhile;
// bleve writes a batch while the next one is analysed: after a crash,
// whatever was pending is indexed at the next start. A missing, corrupt or
// outdated index (its mapping version is not [MappingVersion]) is rebuilt
// from a [Source] at start; [Index.Rebuild] is "placette reindex".
//
// # Storage
//
// The index lives in DATA/index (scorch); a rebuild writes DATA/index.new
// and renames it over DATA/index when complete. In bbolt:
//
//	search/pending  document key -> JSON Doc, or an empty value for a removal
//	                keys: "wiki/<slug>", "list/<list>/<seq>" (WikiKey, MessageKey);
//	                only the latest change of a key is kept
//	search/meta     "mapping" -> decimal MappingVersion of the index on disk,
//	                written once a build is complete, removed when one starts
//
// # Mapping
//
// One static document mapping, no dynamic fields, no _all field, no geo
// fields (they crash 32-bit ARM): kind and list (keywords), facet ("k:KIND",
// "l:LIST", "t:TAG": the three facets in one field, indexed for the
// segments' bitmaps and with doc values for bleve's facets), tagn (tags folded, for filters), title and text (French: Unicode words,
// asciifolding, lower case, elision, French stop words, light stemmer),
// title_en and text_en (bleve's English analyzer, for Lang "en"), author
// (words folded), date (datetime, the day only, for ranges), ts (the time
// as a fixed-width keyword, stored, for sorting), acl ("public" or
// "list:NAME", the visibility every query filters on), lang, url (stored
// only). Titles and texts are stored for snippets, which this package makes
// itself over the stored text (no term vectors beyond the positions
// phrases need).
//
// # Asking
//
// [ParseQuery] reads the search box's syntax and never fails; the bleve
// query is built programmatically from it (user text never reaches bleve's
// query-string syntax). [Index.Search] adds the viewer's [Visibility] to
// the query itself, so that hits, totals, facet counts and suggestions
// never reveal a private list's messages. Queries skip the English fields
// while the index holds no English document. Queries of words and
// filters (most of them) are answered from the index's segments directly
// (segments.go): matches, totals and facets are unions and intersections
// of the terms' roaring bitmaps, and the ranking (bleve's TF-IDF, ties
// broken by document key) reads the postings into an array; phrases, date
// ranges and the order by date go through bleve's collector. The latest results are
// cached until the index changes, keyed by the whole request and the
// viewer's visibility. [Handler] serves /search and
// /opensearch.xml.
package search
