package loadgen

import "testing"

func TestIDRing(t *testing.T) {
	r := newIDRing()
	seen := map[byte]bool{}
	for range idsPerSocket {
		id, ok := r.pop()
		if !ok || seen[id] {
			t.Fatalf("pop = %d, %v after %d", id, ok, len(seen))
		}
		seen[id] = true
	}
	if _, ok := r.pop(); ok {
		t.Fatal("pop from an empty ring")
	}
	// Freed Identifiers come back in the order they were freed.
	for _, id := range []byte{9, 3, 200} {
		r.push(id)
	}
	for _, want := range []byte{9, 3, 200} {
		if got, _ := r.pop(); got != want {
			t.Errorf("pop = %d, want %d", got, want)
		}
	}
}
