package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"kradius.dev/services/store"
)

// changeTests hold a store.ChangeWatcher to its contract (RunChanges).
var changeTests = []test{
	{"WatchReportsWrites", testWatchReportsWrites},
	{"WatchEndsWithContext", testWatchEndsWithContext},
}

// watch starts a watch of s and returns its notices, and the channel
// WatchChanges's error comes back on.
func watch(t *testing.T, s store.Store, ctx context.Context) (<-chan store.Change, <-chan error) {
	t.Helper()
	w, ok := s.(store.ChangeWatcher)
	if !ok {
		t.Fatalf("%T is not a store.ChangeWatcher", s)
	}
	notices := make(chan store.Change, 1000)
	done := make(chan error, 1)
	go func() {
		done <- w.WatchChanges(ctx, func(c store.Change) { notices <- c })
	}()
	first := nextNotice(t, notices)
	if !first.All {
		t.Fatalf("first notice = %+v, want All", first)
	}
	return notices, done
}

func nextNotice(t *testing.T, notices <-chan store.Change) store.Change {
	t.Helper()
	select {
	case c := <-notices:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no change notice within 5s")
		return store.Change{}
	}
}

// awaitCovered waits until notices have covered every one of the accounts
// and DIDs named, the DIDs with a "did:" in front.
func awaitCovered(t *testing.T, notices <-chan store.Change, names ...string) {
	t.Helper()
	left := map[string]bool{}
	for _, n := range names {
		if number, ok := strings.CutPrefix(n, "did:"); ok {
			left["did:"+number] = true
		} else {
			left[store.Fold(n)] = true
		}
	}
	for len(left) > 0 {
		c := nextNotice(t, notices)
		if c.All {
			return
		}
		for _, n := range c.Accounts {
			delete(left, n)
		}
		for _, n := range c.DIDs {
			delete(left, "did:"+n)
		}
	}
}

func testWatchReportsWrites(t *testing.T, s store.Store, _ store.Options) {
	notices, _ := watch(t, s, t.Context())
	mustPutAccount(t, s, account("Alice"))
	awaitCovered(t, notices, "Alice")

	replaced := account("ALICE")
	replaced.Customer = "replaced"
	mustPutAccount(t, s, replaced)
	awaitCovered(t, notices, "alice")

	if err := s.Apply(t.Context(), store.Batch{Accounts: []store.Account{account("Bob"), account("Carol")}}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	awaitCovered(t, notices, "bob", "carol")

	mustPutDID(t, s, store.DID{Number: "5035550100", Account: "bob"})
	awaitCovered(t, notices, "did:5035550100")
	if err := s.Apply(t.Context(), store.Batch{DIDs: []store.DID{{Number: "5035550100", Account: "carol"}, {Number: "5035550101", Account: "carol"}}}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	awaitCovered(t, notices, "did:5035550100", "did:5035550101")
	if err := s.DeleteDID(t.Context(), "5035550100"); err != nil {
		t.Fatalf("DeleteDID: %v", err)
	}
	awaitCovered(t, notices, "did:5035550100")

	if err := s.DeleteAccount(t.Context(), "Alice"); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	awaitCovered(t, notices, "alice")
}

func testWatchEndsWithContext(t *testing.T, s store.Store, _ store.Options) {
	ctx, cancel := context.WithCancel(t.Context())
	_, done := watch(t, s, ctx)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("WatchChanges after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WatchChanges did not return within 5s of its context's end")
	}
}
