package readcache

import "testing"

// TestRefusesReadsOlderThanAWrite: a value read before a write
// committed is not kept once that write's invalidation has run.
func TestRefusesReadsOlderThanAWrite(t *testing.T) {
	c := New[int](10)
	gen := c.Generation()
	c.Invalidate() // a write committed while the read was under way
	c.Store(gen, "k", 1)
	if _, ok := c.Load("k"); ok {
		t.Fatal("kept a value read before the write")
	}
	c.Store(c.Generation(), "k", 2)
	if v, ok := c.Load("k"); !ok || v != 2 {
		t.Fatalf("load = %d, %v; want 2, true", v, ok)
	}
}
