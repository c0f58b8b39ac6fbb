package search

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"codeberg.org/placette/placette/internal/store"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bolt "go.etcd.io/bbolt"
)

// Names of the package's buckets; doc.go describes their layout.
const (
	bucketPending = "search/pending"
	bucketMeta    = "search/meta"
)

// keyMapping is the key, in search/meta, of the mapping version the index
// on disk was completely built with.
var keyMapping = []byte("mapping")

// migrations are the package's schema. Append only.
var migrations = []store.Migration{
	{Name: "create the search buckets", Up: func(tx *bolt.Tx) error {
		for _, b := range []string{bucketPending, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	}},
}

// Kinds of documents.
const (
	KindWiki = "wiki" // a wiki page
	KindList = "list" // an archived message of a list
)

// Limits.
const (
	// maxTextBytes is how much of a document's text is indexed and kept
	// for snippets.
	maxTextBytes = 64 << 10
	// maxKeyBytes bounds a document's key (bbolt allows 32 KiB).
	maxKeyBytes = 1024
	// defaultBatch is how many pending entries one bleve batch takes at
	// most: a long queue (an import) goes in large batches, which index
	// faster and make fewer segments to merge.
	defaultBatch = 2000
	// maxBatchBytes bounds the pending values one batch reads, whatever
	// their number, to keep the memory of a batch small: bleve holds a
	// whole batch analysed, every word with its positions, about 20 times
	// the text. Importing the standard archive peaked at 122 MB of live
	// heap with 8 MiB batches and 76 MB with 1 MiB ones, about 10% slower;
	// a Go process keeps part of its peak for good, and a Pi may have 256
	// MB for placette.
	maxBatchBytes = 1 << 20
)

// bleveConfig is how placette opens its bleve indexes. Batches return once
// searchable, without waiting for bleve to write them: the queue's entries
// are removed only when bleve reports them persisted (Index.drainBatch),
// so a crash in between leaves them pending.
func bleveConfig() map[string]any {
	return map[string]any{"unsafe_batch": true}
}

// ErrRebuilding is returned by [Index.Search] while the index is being
// built from scratch and cannot answer yet.
var ErrRebuilding = errors.New("the search index is being rebuilt")

// Doc is what the index is given of a page or a message. The app's
// adapters fill it from wiki.IndexDoc and mailinglist.MessageDoc.
type Doc struct {
	// Kind is KindWiki or KindList.
	Kind string `json:"kind"`
	// Ref names the document in its URL: a page's slug, or a message's
	// Message-ID without angle brackets.
	Ref string `json:"ref"`
	// List is the list of a message; "" for a page.
	List string `json:"list,omitempty"`
	// Title is a page's title or a message's subject.
	Title string `json:"title"`
	// Text is the body: plain text, quoted lines already removed for a
	// message; markdown when Markdown is set.
	Text string `json:"text"`
	// Markdown says Text is markdown (a wiki page's source, front matter
	// included): the index strips it with [StripMarkdown].
	Markdown bool `json:"md,omitempty"`
	// Author is the person's name as shown (a message's From name, a
	// page's last writer); can be "".
	Author string `json:"author,omitempty"`
	// Tags are a page's tags.
	Tags []string `json:"tags,omitempty"`
	// Date is a page's last change or a message's date.
	Date time.Time `json:"date"`
	// Private marks a message of a private list: only its members and the
	// staff find it.
	Private bool `json:"private,omitempty"`
	// Lang is the content's language: "en" is analyzed as English,
	// anything else as French.
	Lang string `json:"lang,omitempty"`
}

// URL returns the path of the document on the site: /wiki/{slug}, or
// /lists/{list}/m/{message-id}.
func (d *Doc) URL() string {
	if d.Kind == KindList {
		return "/lists/" + url.PathEscape(d.List) + "/m/" + url.PathEscape(d.Ref)
	}
	return "/wiki/" + url.PathEscape(d.Ref)
}

// WikiKey returns the index key of the page slug.
func WikiKey(slug string) string { return "wiki/" + slug }

// MessageKey returns the index key of message seq of list.
func MessageKey(list string, seq uint64) string {
	return "list/" + list + "/" + strconv.FormatUint(seq, 10)
}

// Source enumerates every searchable document, to build the index from
// scratch. The app implements it over the wiki and the lists (see
// [Sources]).
type Source interface {
	// Each calls fn once for every document that should be in the index,
	// with its key ([WikiKey], [MessageKey]) and content, and stops at
	// the first error fn returns, returning it. It honours ctx. It may
	// read from a bbolt read transaction of its own; it must not call
	// fn inside a write transaction.
	Each(ctx context.Context, fn func(key string, doc *Doc) error) error
}

// SourceFunc adapts a function to the [Source] interface.
type SourceFunc func(ctx context.Context, fn func(key string, doc *Doc) error) error

// Each calls f.
func (f SourceFunc) Each(ctx context.Context, fn func(key string, doc *Doc) error) error {
	return f(ctx, fn)
}

// Sources returns a Source enumerating each of srcs in turn.
func Sources(srcs ...Source) Source {
	return SourceFunc(func(ctx context.Context, fn func(string, *Doc) error) error {
		for _, s := range srcs {
			if err := s.Each(ctx, fn); err != nil {
				return err
			}
		}
		return nil
	})
}

// Config is what an [Index] is opened with.
type Config struct {
	// Dir is the bleve index folder, DATA/index.
	Dir string
	// DB is placette's database: the pending queue and the mapping
	// version live there.
	DB *store.DB
	// Logger can be nil.
	Logger *slog.Logger
	// Source enumerates the content for rebuilds; can be nil at Open and
	// set later with [Index.SetSource], before [Index.Run].
	Source Source
	// BatchSize is how many changes one bleve batch takes at most (default
	// 2000; a batch also stops at 1 MiB of pending values).
	BatchSize int
	// Delay groups the changes that come close together into one batch,
	// to spare SD cards (default 200ms; negative for none).
	Delay time.Duration
}

// Index is placette's full-text index: a bleve index derived from the
// content in bbolt. It is safe for concurrent use.
type Index struct {
	cfg       Config
	logger    *slog.Logger
	mapping   *mapping.IndexMappingImpl
	an        analyzers
	source    atomic.Pointer[sourceBox]
	wake      chan struct{} // a change was committed to search/pending
	closed    chan struct{} // closed by Close
	closeOnce sync.Once

	work sync.Mutex // serialises the writers of the bleve index: drains and rebuilds

	flightMu sync.Mutex        // guards inflight
	inflight map[string][]byte // entries given to bleve, not yet persisted: key -> value
	removals sync.WaitGroup    // the removals of persisted entries under way

	// hasEN says the index may hold English documents: queries skip the
	// English fields while it is false. Set when one is indexed, and
	// when an index is opened if it holds one; never cleared meanwhile.
	hasEN atomic.Bool
	// gen counts the changes to the index, for the result cache.
	gen   atomic.Uint64
	cache resultCache
	// segFacets are the facet values' bitmaps of the segments (segments.go).
	segFacets facetBitmaps
	// scores holds *[]float32, the arrays of scores of searchSegments (80
	// KiB for 20,000 documents), not to be allocated for every search.
	scores sync.Pool
	// noSegments makes every search go through bleve's collector (set by
	// tests before use, to compare the two ways).
	noSegments bool
	// noCache turns the result cache off (set by benchmarks before use,
	// to measure the searches themselves).
	noCache bool

	mu          sync.RWMutex // guards idx and needRebuild
	idx         bleve.Index  // nil when there is no usable index
	needRebuild bool         // the index on disk is missing, corrupt or outdated
}

type sourceBox struct{ Source }

// Open opens the index in cfg.Dir, creating the package's buckets. A
// missing, corrupt or outdated index (its mapping version in search/meta
// is not [MappingVersion]) is not an error: it is rebuilt from the Source
// by [Index.Run], and [Index.Search] answers [ErrRebuilding] meanwhile.
func Open(cfg Config) (*Index, error) {
	if cfg.Dir == "" || cfg.DB == nil {
		return nil, errors.New("open the search index: Dir and DB are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = defaultBatch
	}
	if cfg.Delay == 0 {
		cfg.Delay = 200 * time.Millisecond
	}
	if err := cfg.DB.Migrate("search", migrations); err != nil {
		return nil, fmt.Errorf("open the search index: %w", err)
	}
	im, err := newMapping()
	if err != nil {
		return nil, err
	}
	an, err := mappingAnalyzers(im)
	if err != nil {
		return nil, err
	}
	i := &Index{
		cfg:      cfg,
		logger:   cfg.Logger,
		mapping:  im,
		an:       an,
		wake:     make(chan struct{}, 1),
		closed:   make(chan struct{}),
		inflight: map[string][]byte{},
	}
	if cfg.Source != nil {
		i.SetSource(cfg.Source)
	}
	version, err := i.builtVersion()
	if err != nil {
		return nil, err
	}
	switch {
	case version != MappingVersion:
		i.logger.Info("search index outdated or incomplete, to rebuild", "version", version, "want", MappingVersion)
		i.needRebuild = true
	default:
		idx, err := openBleve(cfg.Dir)
		if err != nil {
			i.logger.Warn("search index unusable, to rebuild", "dir", cfg.Dir, "error", err)
			i.needRebuild = true
		} else {
			i.idx = idx
			i.hasEN.Store(holdsEnglish(idx))
		}
	}
	return i, nil
}

// openBleve opens an existing bleve index, turning a panic on a damaged
// index into an error.
func openBleve(dir string) (idx bleve.Index, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("open %s: panic: %v", dir, r)
		}
	}()
	idx, err = bleve.OpenUsing(dir, bleveConfig())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	if _, err := idx.DocCount(); err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("count the documents of %s: %w", dir, err)
	}
	return idx, nil
}

// builtVersion returns the mapping version of the index on disk, 0 if it
// was never completely built.
func (i *Index) builtVersion() (int, error) {
	var v int
	err := i.cfg.DB.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketMeta)).Get(keyMapping)
		if b != nil {
			n, err := strconv.Atoi(string(b))
			if err == nil {
				v = n
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read the search index version: %w", err)
	}
	return v, nil
}

func (i *Index) setBuiltVersion(v int) error {
	return i.cfg.DB.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketMeta))
		if v == 0 {
			return b.Delete(keyMapping)
		}
		return b.Put(keyMapping, []byte(strconv.Itoa(v)))
	})
}

// SetSource sets the content a rebuild reads. It may be called at any
// time; a rebuild uses the source set when it starts.
func (i *Index) SetSource(s Source) { i.source.Store(&sourceBox{s}) }

// Rebuilding reports whether the index waits for or is in a rebuild from
// scratch and cannot answer queries.
func (i *Index) Rebuilding() bool {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.idx == nil
}

// Enqueue records, inside the caller's write transaction tx, that the
// document key changed: doc is its new content, or nil when it was
// removed (deleted page, erased message). The entry reaches the index
// after tx commits, in the next batch [Index.Run] makes; if placette stops
// first, at the next start. Only the latest change of a key is kept.
// Enqueue writes only to search/pending and does not commit tx.
func (i *Index) Enqueue(tx *bolt.Tx, key string, doc *Doc) error {
	if key == "" || len(key) > maxKeyBytes || !utf8.ValidString(key) {
		return fmt.Errorf("queue %q for the search index: bad key", key)
	}
	var val []byte
	if doc != nil {
		var err error
		if val, err = json.Marshal(doc); err != nil {
			return fmt.Errorf("queue %q for the search index: %w", key, err)
		}
	} else {
		val = []byte{}
	}
	b := tx.Bucket([]byte(bucketPending))
	if b == nil {
		return fmt.Errorf("queue %q for the search index: no %s bucket", key, bucketPending)
	}
	if err := b.Put([]byte(key), val); err != nil {
		return fmt.Errorf("queue %q for the search index: %w", key, err)
	}
	tx.OnCommit(i.notify)
	return nil
}

// notify wakes Run up.
func (i *Index) notify() {
	select {
	case i.wake <- struct{}{}:
	default:
	}
}

// Pending returns the number of changes waiting for the index.
func (i *Index) Pending() (int, error) {
	var n int
	err := i.cfg.DB.View(func(tx *bolt.Tx) error {
		n = tx.Bucket([]byte(bucketPending)).Stats().KeyN
		return nil
	})
	return n, err
}

// Run keeps the index up to date until ctx is done: it first rebuilds a
// missing, corrupt or outdated index (progress in the log), then indexes
// the pending changes in batches as they are committed. A failed batch is
// retried later; its entries stay pending.
func (i *Index) Run(ctx context.Context) {
	i.mu.RLock()
	need := i.needRebuild
	i.mu.RUnlock()
	if need {
		w := &logWriter{logger: i.logger}
		if err := i.Rebuild(ctx, w); err != nil && ctx.Err() == nil {
			i.logger.Error("search index rebuild failed", "error", err)
		}
	}
	retry := time.NewTicker(30 * time.Second)
	defer retry.Stop()
	for {
		if _, err := i.Drain(ctx); err != nil && ctx.Err() == nil {
			i.logger.Error("search index update failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-i.closed:
			return
		case <-retry.C:
			i.mu.RLock()
			need := i.needRebuild
			i.mu.RUnlock()
			if need && i.source.Load() != nil {
				if err := i.Rebuild(ctx, &logWriter{logger: i.logger}); err != nil && ctx.Err() == nil {
					i.logger.Error("search index rebuild failed", "error", err)
				}
			}
		case <-i.wake:
			if i.cfg.Delay > 0 {
				t := time.NewTimer(i.cfg.Delay)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
		}
	}
}

// pendingEntry is one change read from search/pending.
type pendingEntry struct {
	key, val []byte
}

// Drain indexes every pending change, in batches, and returns how many it
// indexed. Entries are removed from search/pending only after bleve has
// persisted their batch, and only if they did not change meanwhile; Drain
// returns once they are (the next batch is analysed while the previous one
// is written). It does nothing while the index waits for a rebuild.
func (i *Index) Drain(ctx context.Context) (int, error) {
	total := 0
	var persisted []<-chan error
	var err error
	for {
		if err = ctx.Err(); err != nil {
			break
		}
		var n int
		var done <-chan error
		n, done, err = i.drainBatch()
		total += n
		if done != nil {
			persisted = append(persisted, done)
		}
		if err != nil || n == 0 {
			break
		}
	}
	for _, done := range persisted {
		select {
		case perr := <-done:
			if perr != nil && err == nil {
				err = perr
			}
		case <-ctx.Done():
			return total, ctx.Err()
		case <-i.closed:
			return total, err
		}
	}
	return total, err
}

// drainBatch gives bleve the next batch of pending entries, skipping those
// already given and not yet persisted. It returns how many it gave, and a
// channel that receives the outcome once bleve persisted the batch and
// the entries were removed from the queue.
func (i *Index) drainBatch() (int, <-chan error, error) {
	i.work.Lock()
	defer i.work.Unlock()
	i.mu.RLock()
	idx := i.idx
	i.mu.RUnlock()
	if idx == nil {
		return 0, nil, nil
	}
	var entries []pendingEntry
	size := 0
	err := i.cfg.DB.View(func(tx *bolt.Tx) error {
		i.flightMu.Lock()
		defer i.flightMu.Unlock()
		c := tx.Bucket([]byte(bucketPending)).Cursor()
		for k, v := c.First(); k != nil && len(entries) < i.cfg.BatchSize && size < maxBatchBytes; k, v = c.Next() {
			if fv, ok := i.inflight[string(k)]; ok && bytes.Equal(fv, v) {
				continue // in a batch bleve is writing
			}
			e := pendingEntry{bytes.Clone(k), bytes.Clone(v)}
			entries = append(entries, e)
			size += len(k) + len(v)
			i.inflight[string(e.key)] = e.val
		}
		return nil
	})
	if err != nil || len(entries) == 0 {
		return 0, nil, err
	}
	batch := idx.NewBatch()
	for _, e := range entries {
		if err := i.addToBatch(batch, string(e.key), e.val); err != nil {
			// A value that cannot be decoded can never be indexed: log it
			// and let it be removed, rather than block the queue.
			i.logger.Error("search index: bad pending entry", "key", string(e.key), "error", err)
		}
	}
	done := make(chan error, 1)
	batch.SetPersistedCallback(func(perr error) {
		// Called by bleve's persister (never after bleve's Close has
		// returned): the queue is updated on the side, not to hold it.
		i.removals.Add(1)
		go func() {
			defer i.removals.Done()
			if perr != nil {
				i.forget(entries)
				done <- fmt.Errorf("write a batch of %d changes: %w", len(entries), perr)
				return
			}
			done <- i.removeIndexed(entries)
		}()
	})
	if err := idx.Batch(batch); err != nil {
		i.forget(entries)
		return 0, nil, fmt.Errorf("index a batch of %d changes: %w", len(entries), err)
	}
	i.gen.Add(1)
	return len(entries), done, nil
}

// removeIndexed removes the persisted entries from search/pending, those
// that did not change meanwhile.
func (i *Index) removeIndexed(entries []pendingEntry) error {
	defer i.forget(entries)
	err := i.cfg.DB.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketPending))
		for _, e := range entries {
			if cur := b.Get(e.key); cur != nil && bytes.Equal(cur, e.val) {
				if err := b.Delete(e.key); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove %d indexed changes from the queue: %w", len(entries), err)
	}
	return nil
}

// forget removes entries from the in-flight set, those not given again
// to bleve meanwhile.
func (i *Index) forget(entries []pendingEntry) {
	i.flightMu.Lock()
	defer i.flightMu.Unlock()
	for _, e := range entries {
		if v, ok := i.inflight[string(e.key)]; ok && bytes.Equal(v, e.val) {
			delete(i.inflight, string(e.key))
		}
	}
}

// addToBatch adds the change of key, encoded as in search/pending, to b.
func (i *Index) addToBatch(b *bleve.Batch, key string, val []byte) error {
	if len(val) == 0 {
		b.Delete(key)
		return nil
	}
	var d Doc
	if err := json.Unmarshal(val, &d); err != nil {
		b.Delete(key)
		return err
	}
	if d.Lang == "en" {
		i.hasEN.Store(true)
	}
	return b.Index(key, fields(&d))
}

// fields returns the document bleve indexes for d.
func fields(d *Doc) map[string]any {
	text := d.Text
	if d.Markdown {
		text = StripMarkdown(text)
	}
	text = truncate(text, maxTextBytes)
	title := truncate(d.Title, 1024)
	m := map[string]any{
		fieldKind: d.Kind,
		fieldDate: d.Date.UTC().Truncate(24 * time.Hour),
		fieldTime: d.Date.UTC().Format(tsLayout),
		fieldURL:  d.URL(),
		fieldACL:  aclPublic,
	}
	if d.Kind == KindList && d.Private {
		m[fieldACL] = aclList(d.List)
	}
	if d.Lang == "en" {
		m[fieldLang] = "en"
		m[fieldTitleEN], m[fieldTextEN] = title, text
	} else {
		m[fieldLang] = "fr"
		m[fieldTitle], m[fieldText] = title, text
	}
	if d.Author != "" {
		m[fieldAuthor] = truncate(d.Author, 256)
	}
	if d.List != "" {
		m[fieldList] = d.List
	}
	facets := make([]string, 0, 2+len(d.Tags))
	facets = append(facets, facetKind+d.Kind)
	if d.List != "" {
		facets = append(facets, facetList+d.List)
	}
	for _, t := range d.Tags {
		facets = append(facets, facetTag+t)
	}
	m[fieldFacet] = facets
	if len(d.Tags) > 0 {
		m[fieldTagNorm] = d.Tags
	}
	return m
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Rebuild builds the whole index again from the Source, writing progress
// lines to progress (can be nil), and replaces the current index with it
// when done. Queries are answered from the old index meanwhile, if there
// is one. Changes committed during the rebuild stay pending and are
// indexed after it. It is what "placette reindex" runs, on the server
// through the control socket or in-process.
func (i *Index) Rebuild(ctx context.Context, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	box := i.source.Load()
	if box == nil || box.Source == nil {
		return errors.New("rebuild the search index: no source of documents")
	}
	i.work.Lock()
	defer i.work.Unlock()
	start := time.Now()
	// Until the new index is in place, a crash means a rebuild at start.
	if err := i.setBuiltVersion(0); err != nil {
		return fmt.Errorf("rebuild the search index: %w", err)
	}
	tmp := i.cfg.Dir + ".new"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("rebuild the search index: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(tmp), 0o700); err != nil {
		return fmt.Errorf("rebuild the search index: %w", err)
	}
	fmt.Fprintf(progress, "rebuilding the search index in %s\n", tmp)
	// Created with bleve's default (each write persisted before it
	// returns), so that the mapping is on disk, then reopened as placette
	// uses its indexes.
	idx, err := bleve.NewUsing(tmp, i.mapping, scorch.Name, scorch.Name, nil)
	if err == nil {
		err = idx.Close()
	}
	if err == nil {
		idx, err = openBleve(tmp)
	}
	if err != nil {
		return fmt.Errorf("rebuild the search index: create %s: %w", tmp, err)
	}
	n, size := 0, 0
	batch := idx.NewBatch()
	// Batches are written by bleve in the background, in order: once the
	// last one is persisted, all are.
	var persisted chan error
	flush := func() error {
		if batch.Size() == 0 {
			return nil
		}
		done := make(chan error, 1)
		batch.SetPersistedCallback(func(err error) { done <- err })
		if err := idx.Batch(batch); err != nil {
			return err
		}
		persisted = done
		batch = idx.NewBatch()
		size = 0
		fmt.Fprintf(progress, "%d documents indexed\n", n)
		return nil
	}
	err = box.Source.Each(ctx, func(key string, d *Doc) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if d == nil || key == "" {
			return nil
		}
		if d.Lang == "en" {
			i.hasEN.Store(true)
		}
		if err := batch.Index(key, fields(d)); err != nil {
			return fmt.Errorf("index %s: %w", key, err)
		}
		n++
		size += len(d.Title) + len(d.Text)
		if batch.Size() >= i.cfg.BatchSize || size >= maxBatchBytes {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil && persisted != nil {
		select {
		case err = <-persisted:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if cerr := idx.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("rebuild the search index: %w", err)
	}
	if err := i.swap(tmp); err != nil {
		return fmt.Errorf("rebuild the search index: %w", err)
	}
	if err := i.setBuiltVersion(MappingVersion); err != nil {
		return fmt.Errorf("rebuild the search index: %w", err)
	}
	fmt.Fprintf(progress, "search index rebuilt: %d documents in %s\n", n, time.Since(start).Round(time.Millisecond))
	i.notify() // the changes that came meanwhile
	return nil
}

// swap replaces the index folder with tmp and opens it.
func (i *Index) swap(tmp string) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.idx != nil {
		if err := i.idx.Close(); err != nil {
			i.logger.Warn("close the old search index", "error", err)
		}
		i.idx = nil
	}
	i.needRebuild = true
	if err := os.RemoveAll(i.cfg.Dir); err != nil {
		return err
	}
	if err := os.Rename(tmp, i.cfg.Dir); err != nil {
		return err
	}
	idx, err := openBleve(i.cfg.Dir)
	if err != nil {
		return err
	}
	i.idx = idx
	i.needRebuild = false
	i.gen.Add(1)
	i.hasEN.Store(i.hasEN.Load() || holdsEnglish(idx))
	return nil
}

// holdsEnglish reports whether idx holds a document marked English (true
// if it cannot tell).
func holdsEnglish(idx bleve.Index) bool {
	sr := bleve.NewSearchRequestOptions(termQuery(fieldLang, "en"), 0, 0, false)
	res, err := idx.Search(sr)
	return err != nil || res.Total > 0
}

// Close closes the bleve index. Run must have returned, or returns soon.
func (i *Index) Close() error {
	i.closeOnce.Do(func() { close(i.closed) })
	i.work.Lock()
	defer i.work.Unlock()
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.idx == nil {
		return nil
	}
	err := i.idx.Close()
	i.idx = nil
	// The removals of the batches bleve persisted before closing.
	i.removals.Wait()
	if err != nil {
		return fmt.Errorf("close the search index: %w", err)
	}
	return nil
}

// DocCount returns the number of documents in the index.
func (i *Index) DocCount() (uint64, error) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	if i.idx == nil {
		return 0, ErrRebuilding
	}
	return i.idx.DocCount()
}

// logWriter turns progress lines into log records.
type logWriter struct {
	logger *slog.Logger
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.logger.Info("search index rebuild", "progress", string(bytes.TrimSpace(p)))
	return len(p), nil
}
