package embedded

import (
	"sync"
)

// readCache keeps records already read and decoded, so that the hot reads
// of the request path (an account per login, a DID per routing question)
// take neither a bbolt transaction nor a JSON decode. It is exact, not
// eventually consistent: this process is the file's only writer (bbolt
// holds the lock), and every write transaction that may touch the records
// clears the cache after it commits.
//
// A read that misses decodes from a transaction that may have begun before
// a write committed; it stores what it read only if no write was committed
// since it began (gen), so an old record never outlives the write that
// replaced it.
type readCache[T any] struct {
	entries sync.Map // key → T; lock-free loads on the hot path

	mu   sync.Mutex // orders stores against invalidations
	gen  uint64
	size int
	max  int
}

func newReadCache[T any](max int) *readCache[T] {
	return &readCache[T]{max: max}
}

func (c *readCache[T]) load(key string) (T, bool) {
	v, ok := c.entries.Load(key)
	if !ok {
		var zero T
		return zero, false
	}
	return v.(T), true
}

// generation is taken before the read whose result may be stored.
func (c *readCache[T]) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// store keeps v unless a write committed since gen was taken.
func (c *readCache[T]) store(gen uint64, key string, v T) {
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

// invalidate forgets everything; called after each write commits.
func (c *readCache[T]) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries.Clear()
	c.size = 0
}
