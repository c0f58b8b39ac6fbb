package wiki

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"codeberg.org/placette/placette/internal/store"
	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/wiki/markup"
	bolt "go.etcd.io/bbolt"
)

// Names of the wiki's buckets; doc.go describes their layout.
const (
	bucketPages     = "wiki/pages"
	bucketRevisions = "wiki/revisions"
	bucketLinks     = "wiki/links"
	bucketBacklinks = "wiki/backlinks"
	bucketTags      = "wiki/tags"
	bucketRecent    = "wiki/recent"
	bucketFiles     = "wiki/files"
	bucketBlobs     = "wiki/blobs"
)

// migrations are the wiki's schema. Append only: never edit or reorder a
// released migration.
var migrations = []store.Migration{
	{Name: "create the wiki's buckets", Up: func(tx *bolt.Tx) error {
		for _, b := range []string{bucketPages, bucketRevisions, bucketLinks, bucketBacklinks, bucketTags, bucketRecent, bucketFiles, bucketBlobs} {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	}},
}

// Errors of the wiki's store. The web ones wrap the shell's sentinels so
// that web.Status maps them.
var (
	// ErrNotFound is returned for a page, revision or file that does not
	// exist.
	ErrNotFound = fmt.Errorf("wiki page %w", web.ErrNotFound)
	// ErrConflict is returned, wrapped in a *ConflictError, when a save's
	// base revision is no longer the page's current one.
	ErrConflict = fmt.Errorf("edit %w", web.ErrConflict)
	// ErrUnchanged is returned by a save whose text is the page's current
	// text: no revision is made.
	ErrUnchanged = errors.New("the page is unchanged")
	// ErrExists is returned when renaming onto a page that exists.
	ErrExists = errors.New("a page with this name exists already")
)

// ConflictError says that a page moved on since the revision an edit
// started from.
type ConflictError struct {
	Current *Page // the page as it is now
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("page %q is at revision %d: %v", e.Current.Slug, e.Current.Rev, ErrConflict)
}

func (e *ConflictError) Unwrap() error { return ErrConflict }

// Page is what the wiki knows of a page besides its text, which is in its
// current revision.
type Page struct {
	Slug      string         `json:"slug"`
	Title     string         `json:"title"`
	Rev       int            `json:"rev"` // current revision number; 0 for a redirect
	Tags      []string       `json:"tags,omitempty"`
	Fields    []markup.Field `json:"fields,omitempty"` // front matter
	Links     []string       `json:"links,omitempty"`  // slugs of the outgoing [[links]]
	Protected bool           `json:"protected,omitempty"`
	Deleted   bool           `json:"deleted,omitempty"`  // its revisions are kept
	Redirect  string         `json:"redirect,omitempty"` // the slug it was renamed to
	Created   time.Time      `json:"created"`
	Updated   time.Time      `json:"updated"`
	Author    string         `json:"author,omitempty"` // of the current revision
	Anonymous bool           `json:"anonymous,omitempty"`
	LastAnon  time.Time      `json:"last_anon,omitzero"` // last revision by an anonymous writer
	Size      int            `json:"size"`
}

// Live reports whether p is a page with text: neither deleted nor a
// redirect.
func (p *Page) Live() bool { return p != nil && !p.Deleted && p.Redirect == "" }

// Get returns the values of the front matter key, or nil.
func (p *Page) Get(key string) []string {
	for _, f := range p.Fields {
		if f.Key == key {
			return f.Values
		}
	}
	return nil
}

// HasTag reports whether the page has tag t (compared without case).
func (p *Page) HasTag(t string) bool {
	for _, x := range p.Tags {
		if strings.EqualFold(x, t) {
			return true
		}
	}
	return false
}

// Revision is one saved state of a page.
type Revision struct {
	Slug      string    `json:"slug"`
	Rev       int       `json:"rev"`
	Time      time.Time `json:"time"`
	Author    string    `json:"author"`              // account login or the pseudonym the writer chose
	Anonymous bool      `json:"anonymous,omitempty"` // written without an account
	Addr      string    `json:"addr,omitempty"`      // keyed hash of the writer's network
	Summary   string    `json:"summary,omitempty"`
	Title     string    `json:"title"`
	Source    string    `json:"source"`
	Size      int       `json:"size"`
}

// Change is a line of the recent changes.
type Change struct {
	Time      time.Time `json:"time"`
	Slug      string    `json:"slug"`
	Rev       int       `json:"rev"`
	Title     string    `json:"title"`
	Kind      string    `json:"kind"` // create, edit, restore, rename, delete, upload, protect
	Author    string    `json:"author"`
	Anonymous bool      `json:"anonymous,omitempty"`
	Addr      string    `json:"addr,omitempty"`
	Summary   string    `json:"summary,omitempty"`
	Size      int       `json:"size"`
	Delta     int       `json:"delta"`
}

// File is an attachment of a page.
type File struct {
	Name string    `json:"name"`
	Hash string    `json:"hash"` // hex SHA-256 of the content, key in wiki/blobs
	Type string    `json:"type"` // sniffed media type
	Size int64     `json:"size"`
	Time time.Time `json:"time"`
}

// Writer is who makes a change.
type Writer struct {
	Author    string // account login, pseudonym, or "" (anonymous)
	Anonymous bool
	Addr      string // keyed hash of the network; can be ""
}

// IndexDoc is what the search index is given of a page.
type IndexDoc struct {
	Slug    string
	Title   string
	Tags    []string
	Source  string
	Updated time.Time
}

// Indexer is how the search index learns of changed pages, without the
// wiki importing it. PageChanged is called inside the write transaction
// of every change to a page's text, title, tags or existence, so that the
// index's pending queue and the page commit together (DESIGN.md, "Data").
// doc is nil when the page was deleted or renamed away. It must write only
// to its own buckets and must not commit tx.
type Indexer interface {
	PageChanged(tx *bolt.Tx, slug string, doc *IndexDoc) error
}

// pageStore is the wiki's data in bbolt plus an in-memory copy of every
// page's metadata, kept in commit order.
type pageStore struct {
	db      *store.DB
	indexer Indexer // can be nil

	writeMu sync.Mutex // serialises writes, so that pages follows commit order

	mu    sync.RWMutex     // guards pages
	pages map[string]*Page // slug -> page; values are never changed once stored
}

func openStore(db *store.DB, indexer Indexer) (*pageStore, error) {
	if err := db.Migrate("wiki", migrations); err != nil {
		return nil, err
	}
	s := &pageStore{db: db, indexer: indexer, pages: map[string]*Page{}}
	err := db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketPages)).ForEach(func(k, v []byte) error {
			p := &Page{}
			if err := json.Unmarshal(v, p); err != nil {
				return fmt.Errorf("decode page %q: %w", k, err)
			}
			s.pages[p.Slug] = p
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load wiki pages: %w", err)
	}
	return s, nil
}

// page returns the page called slug, or nil.
func (s *pageStore) page(slug string) *Page {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pages[slug]
}

// Exists reports whether a live page or a redirect has the slug: a link to
// it is not a link to a missing page.
func (s *pageStore) Exists(slug string) bool {
	p := s.page(slug)
	return p != nil && !p.Deleted
}

// all returns every page that is neither deleted nor a redirect, sorted by
// title.
func (s *pageStore) all() []*Page {
	s.mu.RLock()
	out := make([]*Page, 0, len(s.pages))
	for _, p := range s.pages {
		if p.Live() {
			out = append(out, p)
		}
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := sortKey(out[i]), sortKey(out[j])
		if a != b {
			return a < b
		}
		return out[i].Slug < out[j].Slug
	})
	return out
}

// sortKey orders pages by title, accents folded.
func sortKey(p *Page) string {
	if s := markup.Slug(p.Title); s != "" {
		return s
	}
	return p.Slug
}

func revKey(slug string, rev int) []byte {
	k := make([]byte, 0, len(slug)+5)
	k = append(k, slug...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint32(k, uint32(rev))
}

func pairKey(a, b string) []byte {
	k := make([]byte, 0, len(a)+len(b)+1)
	k = append(k, a...)
	k = append(k, 0)
	return append(k, b...)
}

func recentKey(t time.Time, slug string, rev int) []byte {
	k := binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano()))
	k = append(k, slug...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint32(k, uint32(rev))
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

func getPage(tx *bolt.Tx, slug string) (*Page, error) {
	v := tx.Bucket([]byte(bucketPages)).Get([]byte(slug))
	if v == nil {
		return nil, nil
	}
	p := &Page{}
	if err := json.Unmarshal(v, p); err != nil {
		return nil, fmt.Errorf("decode page %q: %w", slug, err)
	}
	return p, nil
}

func getRevision(tx *bolt.Tx, slug string, rev int) (*Revision, error) {
	v := tx.Bucket([]byte(bucketRevisions)).Get(revKey(slug, rev))
	if v == nil {
		return nil, fmt.Errorf("revision %d of %q: %w", rev, slug, ErrNotFound)
	}
	r := &Revision{}
	if err := json.Unmarshal(v, r); err != nil {
		return nil, fmt.Errorf("decode revision %d of %q: %w", rev, slug, err)
	}
	return r, nil
}

// revision returns revision rev of the page slug.
func (s *pageStore) revision(slug string, rev int) (*Revision, error) {
	var r *Revision
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		r, err = getRevision(tx, slug, rev)
		return err
	})
	return r, err
}

// source returns the current text of the live page p.
func (s *pageStore) source(p *Page) (string, error) {
	if !p.Live() {
		return "", nil
	}
	r, err := s.revision(p.Slug, p.Rev)
	if err != nil {
		return "", err
	}
	return r.Source, nil
}

// revisions returns every revision of the page slug, newest first, without
// their text.
func (s *pageStore) revisions(slug string) ([]Revision, error) {
	var out []Revision
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketRevisions)).Cursor()
		prefix := append([]byte(slug), 0)
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+4; k, v = c.Next() {
			var r Revision
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode revision %x: %w", k, err)
			}
			r.Source = ""
			out = append(out, r)
		}
		return nil
	})
	slices.Reverse(out)
	return out, err
}

// backlinks returns the slugs of the live pages that link to slug, sorted.
func (s *pageStore) backlinks(slug string) ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketBacklinks)).Cursor()
		prefix := append([]byte(slug), 0)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			out = append(out, string(k[len(prefix):]))
		}
		return nil
	})
	return out, err
}

// saveReq is one save of a page's text.
type saveReq struct {
	Slug    string
	Base    int // the revision the edit started from (0: a new page); -1: no check
	Source  string
	Result  *markup.Result
	Title   string // used when the text gives no title; can be ""
	Writer  Writer
	Summary string
	Kind    string // recent change kind; "" chooses create or edit
	Now     time.Time
}

// txResult is what a write transaction changed, applied to the in-memory
// pages once it has committed.
type txResult struct {
	put     []*Page
	del     []string
	changed []string // slugs whose rendering may change: the pages themselves and the pages linking to them
}

func (r *txResult) putPage(tx *bolt.Tx, p *Page) error {
	if err := putJSON(tx.Bucket([]byte(bucketPages)), []byte(p.Slug), p); err != nil {
		return fmt.Errorf("store page %q: %w", p.Slug, err)
	}
	r.put = append(r.put, p)
	return nil
}

// update runs fn in one write transaction and, once it has committed,
// applies its result to the in-memory pages.
func (s *pageStore) update(fn func(tx *bolt.Tx, res *txResult) error) (*txResult, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	res := &txResult{}
	err := s.db.Update(func(tx *bolt.Tx) error {
		*res = txResult{}
		return fn(tx, res)
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	for _, slug := range res.del {
		delete(s.pages, slug)
	}
	for _, p := range res.put {
		s.pages[p.Slug] = p
	}
	s.mu.Unlock()
	return res, nil
}

// save stores a new revision of a page in its own transaction.
func (s *pageStore) save(req saveReq) (*Page, *txResult, error) {
	var p *Page
	res, err := s.update(func(tx *bolt.Tx, res *txResult) (err error) {
		p, err = s.saveTx(tx, res, req)
		return err
	})
	return p, res, err
}

// saveTx stores a new revision of a page inside tx: the revision, the
// page, its links, backlinks, tags and the recent change.
func (s *pageStore) saveTx(tx *bolt.Tx, res *txResult, req saveReq) (*Page, error) {
	old, err := getPage(tx, req.Slug)
	if err != nil {
		return nil, err
	}
	cur := 0
	oldSource := ""
	if old.Live() {
		cur = old.Rev
		r, err := getRevision(tx, old.Slug, old.Rev)
		if err != nil {
			return nil, err
		}
		oldSource = r.Source
	}
	if req.Base >= 0 && req.Base != cur {
		return nil, &ConflictError{Current: old}
	}
	if old.Live() && oldSource == req.Source {
		return old, ErrUnchanged
	}
	p := &Page{Slug: req.Slug, Created: req.Now}
	if old != nil {
		cp := *old
		p = &cp
		if !old.Live() {
			p.Created = req.Now
		}
	}
	rev := 1
	if old != nil {
		rev = old.Rev + 1
	}
	kind := req.Kind
	if kind == "" {
		kind = "edit"
		if !old.Live() {
			kind = "create"
		}
	}
	title := req.Result.Title
	if title == "" {
		title = req.Title
	}
	if title == "" && old != nil {
		title = old.Title
	}
	if title == "" {
		title = req.Slug
	}
	p.Rev = rev
	p.Title = title
	p.Tags = req.Result.Tags
	p.Fields = req.Result.Fields
	p.Deleted = false
	p.Redirect = ""
	p.Updated = req.Now
	p.Author = req.Writer.Author
	p.Anonymous = req.Writer.Anonymous
	if req.Writer.Anonymous {
		p.LastAnon = req.Now
	}
	p.Size = len(req.Source)
	oldLinks := []string(nil)
	if old.Live() {
		oldLinks = old.Links
	}
	p.Links = req.Result.Links
	r := &Revision{
		Slug: req.Slug, Rev: rev, Time: req.Now,
		Author: req.Writer.Author, Anonymous: req.Writer.Anonymous, Addr: req.Writer.Addr,
		Summary: req.Summary, Title: title, Source: req.Source, Size: len(req.Source),
	}
	if err := putJSON(tx.Bucket([]byte(bucketRevisions)), revKey(req.Slug, rev), r); err != nil {
		return nil, fmt.Errorf("store revision %d of %q: %w", rev, req.Slug, err)
	}
	if err := res.putPage(tx, p); err != nil {
		return nil, err
	}
	if err := setLinks(tx, req.Slug, oldLinks, p.Links); err != nil {
		return nil, err
	}
	var oldTags []string
	if old.Live() {
		oldTags = old.Tags
	}
	if err := setTags(tx, req.Slug, oldTags, p.Tags); err != nil {
		return nil, err
	}
	err = addChange(tx, Change{
		Time: req.Now, Slug: req.Slug, Rev: rev, Title: title, Kind: kind,
		Author: req.Writer.Author, Anonymous: req.Writer.Anonymous, Addr: req.Writer.Addr,
		Summary: req.Summary, Size: len(req.Source), Delta: len(req.Source) - len(oldSource),
	})
	if err != nil {
		return nil, err
	}
	if err := s.index(tx, p, req.Source); err != nil {
		return nil, err
	}
	res.changed = append(res.changed, req.Slug)
	res.changed = append(res.changed, symDiff(oldLinks, p.Links)...)
	if !old.Live() {
		// The page's existence changed: the pages linking to it show
		// their link differently.
		bl, err := backlinksTx(tx, req.Slug)
		if err != nil {
			return nil, err
		}
		res.changed = append(res.changed, bl...)
	}
	return p, nil
}

func (s *pageStore) index(tx *bolt.Tx, p *Page, source string) error {
	if s.indexer == nil {
		return nil
	}
	var doc *IndexDoc
	if p.Live() {
		doc = &IndexDoc{Slug: p.Slug, Title: p.Title, Tags: p.Tags, Source: source, Updated: p.Updated}
	}
	if err := s.indexer.PageChanged(tx, p.Slug, doc); err != nil {
		return fmt.Errorf("queue page %q for the search index: %w", p.Slug, err)
	}
	return nil
}

// symDiff returns the elements in exactly one of a and b.
func symDiff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			out = append(out, x)
		}
	}
	return out
}

func backlinksTx(tx *bolt.Tx, slug string) ([]string, error) {
	var out []string
	c := tx.Bucket([]byte(bucketBacklinks)).Cursor()
	prefix := append([]byte(slug), 0)
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		out = append(out, string(k[len(prefix):]))
	}
	return out, nil
}

// setLinks replaces the outgoing links of from, and the matching
// backlinks.
func setLinks(tx *bolt.Tx, from string, old, links []string) error {
	lb, bb := tx.Bucket([]byte(bucketLinks)), tx.Bucket([]byte(bucketBacklinks))
	for _, to := range old {
		if err := lb.Delete(pairKey(from, to)); err != nil {
			return err
		}
		if err := bb.Delete(pairKey(to, from)); err != nil {
			return err
		}
	}
	for _, to := range links {
		if err := lb.Put(pairKey(from, to), nil); err != nil {
			return err
		}
		if err := bb.Put(pairKey(to, from), nil); err != nil {
			return err
		}
	}
	return nil
}

// setTags replaces the tags of slug in the tags index.
func setTags(tx *bolt.Tx, slug string, old, tags []string) error {
	b := tx.Bucket([]byte(bucketTags))
	for _, t := range old {
		if err := b.Delete(pairKey(strings.ToLower(t), slug)); err != nil {
			return err
		}
	}
	for _, t := range tags {
		if err := b.Put(pairKey(strings.ToLower(t), slug), nil); err != nil {
			return err
		}
	}
	return nil
}

func addChange(tx *bolt.Tx, c Change) error {
	if err := putJSON(tx.Bucket([]byte(bucketRecent)), recentKey(c.Time, c.Slug, c.Rev), c); err != nil {
		return fmt.Errorf("record the change of %q: %w", c.Slug, err)
	}
	return nil
}

// changes returns the recent changes, newest first, that keep says to
// keep, at most n, older than before (zero: now).
func (s *pageStore) changes(n int, before time.Time, keep func(*Change) bool) ([]Change, error) {
	var out []Change
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketRecent)).Cursor()
		var k, v []byte
		if before.IsZero() {
			k, v = c.Last()
		} else {
			k, v = c.Seek(binary.BigEndian.AppendUint64(nil, uint64(before.UnixNano())))
			if k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		}
		for ; k != nil && len(out) < n; k, v = c.Prev() {
			var ch Change
			if err := json.Unmarshal(v, &ch); err != nil {
				return fmt.Errorf("decode change %x: %w", k, err)
			}
			if !before.IsZero() && !ch.Time.Before(before) {
				continue
			}
			if keep == nil || keep(&ch) {
				out = append(out, ch)
			}
		}
		return nil
	})
	return out, err
}

// restore makes revision rev of slug the current one, as a new revision.
func (s *pageStore) restoreSource(slug string, rev int) (string, error) {
	r, err := s.revision(slug, rev)
	if err != nil {
		return "", err
	}
	return r.Source, nil
}

// setProtected protects or unprotects a page.
func (s *pageStore) setProtected(slug string, on bool, w Writer, now time.Time) error {
	_, err := s.update(func(tx *bolt.Tx, res *txResult) error {
		p, err := getPage(tx, slug)
		if err != nil {
			return err
		}
		if !p.Live() {
			return ErrNotFound
		}
		p.Protected = on
		if err := res.putPage(tx, p); err != nil {
			return err
		}
		res.changed = append(res.changed, slug)
		summary := "unprotect"
		if on {
			summary = "protect"
		}
		return addChange(tx, Change{Time: now, Slug: slug, Rev: p.Rev, Title: p.Title, Kind: summary, Author: w.Author, Addr: w.Addr, Size: p.Size})
	})
	return err
}

// deletePage marks a page deleted; its revisions are kept, so that it can
// be restored and its history read.
func (s *pageStore) deletePage(slug string, w Writer, summary string, now time.Time) error {
	_, err := s.update(func(tx *bolt.Tx, res *txResult) error {
		p, err := getPage(tx, slug)
		if err != nil {
			return err
		}
		if !p.Live() {
			return ErrNotFound
		}
		cp := *p
		cp.Deleted = true
		cp.Updated = now
		if err := setLinks(tx, slug, p.Links, nil); err != nil {
			return err
		}
		if err := setTags(tx, slug, p.Tags, nil); err != nil {
			return err
		}
		cp.Links, cp.Tags = nil, nil
		if err := res.putPage(tx, &cp); err != nil {
			return err
		}
		if err := s.index(tx, &cp, ""); err != nil {
			return err
		}
		bl, _ := backlinksTx(tx, slug)
		res.changed = append(append(res.changed, slug), bl...)
		res.changed = append(res.changed, p.Links...)
		return addChange(tx, Change{Time: now, Slug: slug, Rev: p.Rev, Title: p.Title, Kind: "delete", Author: w.Author, Anonymous: w.Anonymous, Addr: w.Addr, Summary: summary, Delta: -p.Size})
	})
	return err
}

// rename moves the live page from to the slug to, with the title title,
// leaving a redirect at from. The page's text, if it gives the old title
// in its front matter or first heading, is changed to give the new one, as
// a new revision.
func (s *pageStore) rename(from, to, title string, render func(string) (*markup.Result, error), w Writer, now time.Time) (*txResult, error) {
	return s.update(func(tx *bolt.Tx, res *txResult) error {
		p, err := getPage(tx, from)
		if err != nil {
			return err
		}
		if !p.Live() {
			return ErrNotFound
		}
		if q, err := getPage(tx, to); err != nil {
			return err
		} else if q != nil && !q.Deleted && q.Redirect != from {
			return ErrExists
		} else if q != nil && q.Deleted {
			// A deleted page's revisions would be overwritten: refuse.
			return ErrExists
		}
		rb := tx.Bucket([]byte(bucketRevisions))
		// Move the revisions.
		c := rb.Cursor()
		prefix := append([]byte(from), 0)
		type kv struct{ k, v []byte }
		var moved []kv
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+4; k, v = c.Next() {
			moved = append(moved, kv{slices.Clone(k), slices.Clone(v)})
		}
		for _, m := range moved {
			var r Revision
			if err := json.Unmarshal(m.v, &r); err != nil {
				return err
			}
			r.Slug = to
			if err := putJSON(rb, revKey(to, r.Rev), &r); err != nil {
				return err
			}
			if err := rb.Delete(m.k); err != nil {
				return err
			}
		}
		// Move the files.
		fb := tx.Bucket([]byte(bucketFiles))
		var files []kv
		fc := fb.Cursor()
		for k, v := fc.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = fc.Next() {
			files = append(files, kv{slices.Clone(k), slices.Clone(v)})
		}
		for _, f := range files {
			if err := fb.Put(pairKey(to, string(f.k[len(prefix):])), f.v); err != nil {
				return err
			}
			if err := fb.Delete(f.k); err != nil {
				return err
			}
		}
		if err := setLinks(tx, from, p.Links, nil); err != nil {
			return err
		}
		if err := setTags(tx, from, p.Tags, nil); err != nil {
			return err
		}
		if err := s.index(tx, &Page{Slug: from, Deleted: true}, ""); err != nil {
			return err
		}
		np := *p
		np.Slug = to
		np.Title = title
		np.Links, np.Tags = nil, nil
		np.Deleted = true // so that saveTx sees no live page at "to" and starts it afresh
		if err := putJSON(tx.Bucket([]byte(bucketPages)), []byte(to), &np); err != nil {
			return err
		}
		old, err := getRevision(tx, to, p.Rev)
		if err != nil {
			return err
		}
		src := retitle(old.Source, p.Title, title)
		result, err := render(src)
		if err != nil {
			return err
		}
		if result.Title == "" {
			result.Title = title
		}
		moved2, err := s.saveTx(tx, res, saveReq{
			Slug: to, Base: -1, Source: src, Result: result, Title: title, Writer: w,
			Summary: "→ " + title + " (" + from + ")", Kind: "rename", Now: now,
		})
		if err != nil && !errors.Is(err, ErrUnchanged) {
			return err
		}
		if err == nil {
			moved2.Created = p.Created
			if err := res.putPage(tx, moved2); err != nil {
				return err
			}
		}
		redirect := &Page{Slug: from, Title: p.Title, Redirect: to, Created: p.Created, Updated: now, Author: w.Author}
		if err := res.putPage(tx, redirect); err != nil {
			return err
		}
		bl, _ := backlinksTx(tx, from)
		res.changed = append(append(res.changed, from, to), bl...)
		return nil
	})
}

// retitle changes the title a page's text gives, in its front matter's
// title line or its first level-1 heading, from old to title.
func retitle(src, old, title string) string {
	lines := strings.SplitAfter(src, "\n")
	inFront := len(lines) > 0 && strings.TrimRight(lines[0], "\r\n") == "---"
	for i, l := range lines {
		t := strings.TrimRight(l, "\r\n")
		eol := l[len(t):]
		if inFront && i > 0 {
			if t == "---" {
				inFront = false
				continue
			}
			if v, ok := strings.CutPrefix(t, "title:"); ok {
				if strings.Trim(strings.TrimSpace(v), `"'`) == old {
					b, _ := json.Marshal(title)
					lines[i] = "title: " + string(b) + eol
				}
				return strings.Join(lines, "")
			}
			continue
		}
		if v, ok := strings.CutPrefix(t, "# "); ok && !inFront {
			if strings.TrimSpace(v) == old {
				lines[i] = "# " + title + eol
			}
			return strings.Join(lines, "")
		}
	}
	return src
}

// blobKey returns the content hash of data.
func blobKey(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// putFileTx attaches data to the page slug under name, storing the content
// once by hash. It reports whether anything changed.
func putFileTx(tx *bolt.Tx, slug string, f File, data []byte) (bool, error) {
	fb := tx.Bucket([]byte(bucketFiles))
	key := pairKey(slug, f.Name)
	if v := fb.Get(key); v != nil {
		var old File
		if json.Unmarshal(v, &old) == nil && old.Hash == f.Hash {
			return false, nil
		}
	}
	bb := tx.Bucket([]byte(bucketBlobs))
	if bb.Get([]byte(f.Hash)) == nil {
		if err := bb.Put([]byte(f.Hash), data); err != nil {
			return false, fmt.Errorf("store file %s: %w", f.Hash, err)
		}
	}
	if err := putJSON(fb, key, f); err != nil {
		return false, fmt.Errorf("attach %q to %q: %w", f.Name, slug, err)
	}
	return true, nil
}

// files returns the attachments of the page slug, by name.
func (s *pageStore) files(slug string) ([]File, error) {
	var out []File
	err := s.db.View(func(tx *bolt.Tx) error {
		out = filesTx(tx, slug)
		return nil
	})
	return out, err
}

func filesTx(tx *bolt.Tx, slug string) []File {
	var out []File
	c := tx.Bucket([]byte(bucketFiles)).Cursor()
	prefix := append([]byte(slug), 0)
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var f File
		if json.Unmarshal(v, &f) == nil {
			out = append(out, f)
		}
	}
	return out
}

// file returns the attachment name of slug and its content.
func (s *pageStore) file(slug, name string) (*File, []byte, error) {
	var f File
	var data []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bucketFiles)).Get(pairKey(slug, name))
		if v == nil {
			return ErrNotFound
		}
		if err := json.Unmarshal(v, &f); err != nil {
			return fmt.Errorf("decode file %q of %q: %w", name, slug, err)
		}
		b := tx.Bucket([]byte(bucketBlobs)).Get([]byte(f.Hash))
		if b == nil {
			return fmt.Errorf("content of %q of %q: %w", name, slug, ErrNotFound)
		}
		data = slices.Clone(b)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return &f, data, nil
}
