package mailinglist

import (
	"html/template"
	"sync"
)

// renderedBody is a message's body as the archive's pages show it.
type renderedBody struct {
	HTML        template.HTML
	Attachments []attachmentView
	size        int
}

// attachmentView is an attachment as a page lists it.
type attachmentView struct {
	N           int
	Filename    string
	ContentType string
	Size        int
	Human       string // the size in the reader's language: "12 Ko"
}

// bodyKey names a rendered body: the message, how addresses are shown and
// the language of the folds' labels.
type bodyKey struct {
	list      string
	seq       uint64
	obfuscate bool
	lang      string
}

// bodyCache keeps rendered bodies, so that a thread page does not parse
// and render its messages each time, within a budget of bytes. It is safe
// for concurrent use.
type bodyCache struct {
	max int // bytes

	mu    sync.Mutex // guards m and bytes
	m     map[bodyKey]*renderedBody
	bytes int
}

// newBodyCache returns a cache of at most max bytes of HTML.
func newBodyCache(max int) *bodyCache {
	return &bodyCache{max: max, m: map[bodyKey]*renderedBody{}}
}

// get returns the rendered body of k, or nil.
func (c *bodyCache) get(k bodyKey) *renderedBody {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

// put keeps b for k, dropping older entries when the budget is spent.
func (c *bodyCache) put(k bodyKey, b *renderedBody) {
	b.size = len(b.HTML) + 64
	if b.size > c.max/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[k]; ok {
		c.bytes -= old.size
	}
	for key, v := range c.m {
		if c.bytes+b.size <= c.max {
			break
		}
		delete(c.m, key)
		c.bytes -= v.size
	}
	c.m[k] = b
	c.bytes += b.size
}

// forget drops every rendering of message seq of list.
func (c *bodyCache) forget(list string, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.m {
		if k.list == list && k.seq == seq {
			delete(c.m, k)
			c.bytes -= v.size
		}
	}
}

// forgetList drops every rendering of list's messages.
func (c *bodyCache) forgetList(list string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.m {
		if k.list == list {
			delete(c.m, k)
			c.bytes -= v.size
		}
	}
}

// pageKey names a thread's rendered messages: the thread and what its
// reader sees of it.
type pageKey struct {
	list              string
	root              uint64
	obfuscate         bool
	member, moderator bool
	lang              string
}

// renderedThread is a thread's messages rendered, as of a generation of
// its list's archive.
type renderedThread struct {
	gen    uint64
	thread *Thread
	html   template.HTML
}

// threadCache keeps rendered threads, checked against the generation of
// their list's archive, which every committed change of the archive
// bumps. It is safe for concurrent use.
type threadCache struct {
	mu    sync.Mutex // guards gens and pages
	gens  map[string]uint64
	pages map[pageKey]*renderedThread
}

// maxCachedThreads bounds how many rendered threads are kept.
const maxCachedThreads = 256

func newThreadCache() *threadCache {
	return &threadCache{gens: map[string]uint64{}, pages: map[pageKey]*renderedThread{}}
}

// gen returns the current generation of list's archive.
func (c *threadCache) gen(list string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gens[list]
}

// bump starts a new generation of list's archive.
func (c *threadCache) bump(list string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gens[list]++
	for k := range c.pages {
		if k.list == list {
			delete(c.pages, k)
		}
	}
}

// get returns the rendered thread of k if it is of generation gen.
func (c *threadCache) get(k pageKey, gen uint64) *renderedThread {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.pages[k]; p != nil && p.gen == gen {
		return p
	}
	return nil
}

// put keeps p for k unless the archive changed since p's generation.
func (c *threadCache) put(k pageKey, p *renderedThread) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens[k.list] != p.gen {
		return
	}
	if len(c.pages) >= maxCachedThreads {
		for key := range c.pages {
			delete(c.pages, key)
			if len(c.pages) < maxCachedThreads/2 {
				break
			}
		}
	}
	c.pages[k] = p
}
