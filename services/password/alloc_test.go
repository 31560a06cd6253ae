//go:build !race

// Allocation counts mean nothing under -race, where sync.Pool drops items on
// purpose; make test runs this file in a pass without -race.

package password

import (
	"testing"
	"time"
)

func TestVerifierCachedPathDoesNotAllocate(t *testing.T) {
	h := mustHash(t, "pw", cheap)
	v := NewVerifier(16, time.Minute)
	if _, err := v.Verify(h, "pw"); err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(100, func() { _, _ = v.Verify(h, "pw") }); allocs != 0 {
		t.Errorf("cached Verify allocates %v times, want 0", allocs)
	}
	if allocs := testing.AllocsPerRun(100, func() { _, _ = v.Cached(h, "pw") }); allocs != 0 {
		t.Errorf("Cached allocates %v times, want 0", allocs)
	}
}
