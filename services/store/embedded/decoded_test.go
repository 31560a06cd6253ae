package embedded

import (
	"context"
	"path/filepath"
	"testing"

	"kradius.dev/services/store"
)

// TestDecodedAccountsFollowWrites: the decoded cache never returns what is no
// longer stored, and callers cannot change each other's copies.
func TestDecodedAccountsFollowWrites(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "k.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.decoded.max = 2 // exercise the bound too
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.PutAccount(ctx, store.Account{Name: "m"}))
	must(s.PutAccount(ctx, store.Account{Name: "g", Type: 8, Members: []string{"m"}}))
	for range 3 {
		a, err := s.GetAccount(ctx, "g")
		must(err)
		if a.Type != 8 || len(a.Members) != 1 {
			t.Fatalf("read %+v", a)
		}
		a.Members[0] = "changed by a caller"
	}
	if a, _ := s.GetAccount(ctx, "g"); a.Members[0] != "m" {
		t.Fatalf("a caller's change leaked into the cache: %v", a.Members)
	}
	must(s.PutAccount(ctx, store.Account{Name: "g", Type: 9, Members: []string{"m"}}))
	if a, _ := s.GetAccount(ctx, "G"); a.Type != 9 {
		t.Fatalf("after a write: type %d, want 9", a.Type)
	}
	must(s.PutAccount(ctx, store.Account{Name: "x"}))
	must(s.PutAccount(ctx, store.Account{Name: "y"}))
	for _, n := range []string{"m", "g", "x", "y"} {
		if _, err := s.GetAccount(ctx, n); err != nil {
			t.Fatalf("%s past the bound: %v", n, err)
		}
	}
	must(s.DeleteAccount(ctx, "y"))
	if _, err := s.GetAccount(ctx, "y"); err == nil {
		t.Fatal("a deleted account is still read")
	}
}
