package embedded

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/store/readcache"
)

// TestReadCacheFollowsWrites: the read cache never returns what is no
// longer stored, and callers cannot change each other's copies.
func TestReadCacheFollowsWrites(t *testing.T) {
	s := openStore(t)
	s.accounts = readcache.New[fbdata.Account](2) // exercise the bound too
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.PutAccount(ctx, fbdata.Account{Name: "m"}))
	must(s.PutAccount(ctx, fbdata.Account{Name: "g", Type: 8, Members: []string{"m"}}))
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
	must(s.PutAccount(ctx, fbdata.Account{Name: "g", Type: 9, Members: []string{"m"}}))
	if a, _ := s.GetAccount(ctx, "G"); a.Type != 9 {
		t.Fatalf("after a write: type %d, want 9", a.Type)
	}
	must(s.PutAccount(ctx, fbdata.Account{Name: "x"}))
	must(s.PutAccount(ctx, fbdata.Account{Name: "y"}))
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

// TestReadCacheDIDsFollowWrites: DIDs read through the cache follow PutDID,
// Apply and DeleteDID, and a caller's change to its copy stays its own.
func TestReadCacheDIDsFollowWrites(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	line := uint32(1)
	for _, err := range []error{
		s.PutAccount(ctx, fbdata.Account{Name: "a"}),
		s.PutAccount(ctx, fbdata.Account{Name: "b"}),
		s.PutDID(ctx, fbdata.DID{Number: "5551230000", Account: "a", LineNum: &line}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.GetDID(ctx, "5551230000")
	if err != nil || d.Account != "a" {
		t.Fatalf("read %+v, %v", d, err)
	}
	*d.LineNum = 7
	if d, _ := s.GetDID(ctx, "5551230000"); *d.LineNum != 1 {
		t.Fatalf("a caller's change leaked into the cache: line %d", *d.LineNum)
	}
	if err := s.Apply(ctx, fbdata.Batch{DIDs: []fbdata.DID{{Number: "5551230000", Account: "b"}}}); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.GetDID(ctx, "5551230000"); d.Account != "b" || d.LineNum != nil {
		t.Fatalf("after Apply: %+v", d)
	}
	if err := s.DeleteDID(ctx, "5551230000"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDID(ctx, "5551230000"); err == nil {
		t.Fatal("a deleted DID is still read")
	}
}

// TestReadCacheUnderConcurrentWrites: readers racing a writer end up seeing
// the last write, never an older record left behind in the cache.
func TestReadCacheUnderConcurrentWrites(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	if err := s.PutAccount(ctx, fbdata.Account{Name: "a", Customer: "0"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := s.GetAccount(ctx, "a"); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	const writes = 200
	for i := 1; i <= writes; i++ {
		if err := s.PutAccount(ctx, fbdata.Account{Name: "a", Customer: strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	readers.Wait()
	if a, _ := s.GetAccount(ctx, "a"); a.Customer != strconv.Itoa(writes) {
		t.Fatalf("customer %q after the last write, want %d", a.Customer, writes)
	}
}

// BenchmarkGetAccountCached is a login's account read once the read cache
// holds it, from as many goroutines as there are CPUs.
func BenchmarkGetAccountCached(b *testing.B) {
	s := openStore(b)
	ctx := context.Background()
	const n = 10000
	for i := range n {
		if err := s.PutAccount(ctx, fbdata.Account{Name: "user" + strconv.Itoa(i), PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5", CDRInfo: "info", Customer: "customer"}); err != nil {
			b.Fatal(err)
		}
	}
	names := make([]string, n)
	for i := range names {
		names[i] = "user" + strconv.Itoa(i)
		if _, err := s.GetAccount(ctx, names[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.GetAccount(ctx, names[i%n]); err != nil {
				b.Error(err)
				return
			}
			i += 7
		}
	})
}

// openStore opens a store in a temporary directory, closed at the end.
func openStore(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "k.db"), fbdata.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
