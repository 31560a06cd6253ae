// Package readcache keeps records already read and decoded for a store that
// is its data's only writer, exactly: every write clears it.
package readcache

import (
	"sync"
)

// Cache keeps records already read and decoded, so that the hot reads of
// the request path (an account per login, a DID per routing question) take
// neither a read transaction nor a decode. It is exact, not eventually
// consistent, for a store whose process is its data's only writer (an
// embedded file, which bbolt locks): every write transaction that may touch
// the records clears the cache after it commits.
//
// A read that misses decodes from a transaction that may have begun before
// a write committed; it stores what it read only if no write was committed
// since it began (gen), so an old record never outlives the write that
// replaced it.
type Cache[T any] struct {
	entries sync.Map // key → T; lock-free loads on the hot path

	mu   sync.Mutex // orders stores against invalidations
	gen  uint64
	size int
	max  int
}

// New returns a cache of at most max records.
func New[T any](max int) *Cache[T] {
	return &Cache[T]{max: max}
}

// Load returns the record kept for key.
func (c *Cache[T]) Load(key string) (T, bool) {
	v, ok := c.entries.Load(key)
	if !ok {
		var zero T
		return zero, false
	}
	return v.(T), true
}

// Generation is taken before the read whose result may be stored.
func (c *Cache[T]) Generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// Store keeps v unless a write committed since gen was taken.
func (c *Cache[T]) Store(gen uint64, key string, v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.size >= c.max {
		// Crude but bounded; the hot records come back at once.
		c.entries.Clear()
		c.size = 0
	}
	if _, loaded := c.entries.Swap(key, v); !loaded {
		c.size++
	}
}

// Invalidate forgets everything; called after each write commits.
func (c *Cache[T]) Invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries.Clear()
	c.size = 0
}
