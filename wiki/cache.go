package wiki

import (
	"container/list"
	"sync"
)

// lru is a cache bounded by the bytes of its values. It is safe for
// concurrent use.
type lru struct {
	max int

	mu    sync.Mutex               // guards size, order and items
	size  int                      // sum of the sizes of the items
	order *list.List               // of *lruItem, most recently used first
	items map[string]*list.Element // key -> element of order
}

type lruItem struct {
	key  string
	val  any
	size int
}

func newLRU(maxBytes int) *lru {
	return &lru{max: maxBytes, order: list.New(), items: map[string]*list.Element{}}
}

// get returns the value cached under key.
func (c *lru) get(key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruItem).val, true
}

// put caches val, of size bytes, under key, evicting the least recently
// used items past the bound. A value larger than the bound is not cached.
func (c *lru) put(key string, val any, size int) {
	if size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.size -= e.Value.(*lruItem).size
		c.order.Remove(e)
		delete(c.items, key)
	}
	c.items[key] = c.order.PushFront(&lruItem{key: key, val: val, size: size})
	c.size += size
	for c.size > c.max {
		e := c.order.Back()
		it := e.Value.(*lruItem)
		c.order.Remove(e)
		delete(c.items, it.key)
		c.size -= it.size
	}
}

// drop removes key.
func (c *lru) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		c.size -= e.Value.(*lruItem).size
		c.order.Remove(e)
		delete(c.items, key)
	}
}

// clear empties the cache.
func (c *lru) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items = map[string]*list.Element{}
	c.order.Init()
	c.size = 0
}
