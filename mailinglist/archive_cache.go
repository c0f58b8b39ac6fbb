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
