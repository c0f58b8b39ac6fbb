package app

import (
	"context"
	"net/http"
	"path/filepath"

	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/mailinglist"
	"codeberg.org/placette/placette/search"
	"codeberg.org/placette/placette/wiki"
	bolt "go.etcd.io/bbolt"
)

// IndexDir is the search index's folder inside the data folder.
const IndexDir = "index"

// The wiki and the lists declare what they tell the search index, in
// their own types, so as not to import it; these adapters turn their
// documents into the index's.

// wikiIndexer queues the wiki's changed pages for the index.
type wikiIndexer struct{ idx *search.Index }

var _ wiki.Indexer = wikiIndexer{}

// PageChanged implements wiki.Indexer.
func (a wikiIndexer) PageChanged(tx *bolt.Tx, slug string, d *wiki.IndexDoc) error {
	if d == nil {
		return a.idx.Enqueue(tx, search.WikiKey(slug), nil)
	}
	return a.idx.Enqueue(tx, search.WikiKey(slug), wikiDoc(d))
}

func wikiDoc(d *wiki.IndexDoc) *search.Doc {
	return &search.Doc{Kind: search.KindWiki, Ref: d.Slug, Title: d.Title, Text: d.Source, Markdown: true, Tags: d.Tags, Date: d.Updated}
}

// listIndexer queues the lists' archived, changed and erased messages for
// the index.
type listIndexer struct{ idx *search.Index }

var _ mailinglist.Indexer = listIndexer{}

// MessageChanged implements mailinglist.Indexer.
func (a listIndexer) MessageChanged(tx *bolt.Tx, list string, seq uint64, d *mailinglist.MessageDoc) error {
	if d == nil {
		return a.idx.Enqueue(tx, search.MessageKey(list, seq), nil)
	}
	return a.idx.Enqueue(tx, search.MessageKey(list, seq), listDoc(d))
}

func listDoc(d *mailinglist.MessageDoc) *search.Doc {
	return &search.Doc{Kind: search.KindList, Ref: d.ID, List: d.List, Title: d.Subject, Text: d.Text, Author: d.From, Date: d.Date, Private: d.Private}
}

// searchSource enumerates everything the index holds, for a rebuild.
func searchSource(w *wiki.Wiki, l *mailinglist.Service) search.Source {
	pages := search.SourceFunc(func(ctx context.Context, fn func(string, *search.Doc) error) error {
		return w.IndexDocs(ctx, func(d *wiki.IndexDoc) error { return fn(search.WikiKey(d.Slug), wikiDoc(d)) })
	})
	messages := search.SourceFunc(func(ctx context.Context, fn func(string, *search.Doc) error) error {
		return l.MessageDocs(ctx, func(d *mailinglist.MessageDoc) error {
			return fn(search.MessageKey(d.List, d.Seq), listDoc(d))
		})
	})
	return search.Sources(pages, messages)
}

// searchVisibility returns what the visitor of r may find: everything for
// staff, else public content and the private lists their member session
// opens.
func searchVisibility(l *mailinglist.Service) func(r *http.Request) search.Visibility {
	return func(r *http.Request) search.Visibility {
		if web.UserFrom(r.Context()).Staff() {
			return search.Visibility{Staff: true}
		}
		return search.Visibility{Lists: l.ReadableLists(r)}
	}
}

// indexPath returns the search index's folder of the data folder dir.
func indexPath(dir string) string { return filepath.Join(dir, IndexDir) }
