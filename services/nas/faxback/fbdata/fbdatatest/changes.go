package fbdatatest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"kradius.dev/services/nas/faxback/fbdata"
)

// changeTests hold a fbdata.ChangeWatcher to its contract (RunChanges).
var changeTests = []test{
	{"WatchReportsWrites", testWatchReportsWrites},
	{"WatchEndsWithContext", testWatchEndsWithContext},
}

// watch starts a live watch of s.
func watch(t *testing.T, s fbdata.Store, ctx context.Context) *Watching {
	t.Helper()
	cw, ok := s.(fbdata.ChangeWatcher)
	if !ok {
		t.Fatalf("%T is not a fbdata.ChangeWatcher", s)
	}
	w := Watch(ctx, cw.WatchChanges)
	w.Live(t)
	return w
}

// awaitCovered waits until notices have covered every one of the accounts
// and DIDs named, the DIDs with a "did:" in front.
func awaitCovered(t *testing.T, w *Watching, names ...string) {
	t.Helper()
	left := map[string]bool{}
	for _, n := range names {
		if number, ok := strings.CutPrefix(n, "did:"); ok {
			left["did:"+number] = true
		} else {
			left[fbdata.Fold(n)] = true
		}
	}
	for len(left) > 0 {
		c := w.Next(t)
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

func testWatchReportsWrites(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	w := watch(t, s, t.Context())
	mustPutAccount(t, s, account("Alice"))
	awaitCovered(t, w, "Alice")

	replaced := account("ALICE")
	replaced.Customer = "replaced"
	mustPutAccount(t, s, replaced)
	awaitCovered(t, w, "alice")

	if err := s.Apply(t.Context(), fbdata.Batch{Accounts: []fbdata.Account{account("Bob"), account("Carol")}}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	awaitCovered(t, w, "bob", "carol")

	mustPutDID(t, s, fbdata.DID{Number: "5035550100", Account: "bob"})
	awaitCovered(t, w, "did:5035550100")
	if err := s.Apply(t.Context(), fbdata.Batch{DIDs: []fbdata.DID{{Number: "5035550100", Account: "carol"}, {Number: "5035550101", Account: "carol"}}}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	awaitCovered(t, w, "did:5035550100", "did:5035550101")
	if err := s.DeleteDID(t.Context(), "5035550100"); err != nil {
		t.Fatalf("DeleteDID: %v", err)
	}
	awaitCovered(t, w, "did:5035550100")

	if err := s.DeleteAccount(t.Context(), "Alice"); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	awaitCovered(t, w, "alice")
}

func testWatchEndsWithContext(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	ctx, cancel := context.WithCancel(t.Context())
	w := watch(t, s, ctx)
	cancel()
	if err := w.End(t, 5*time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("WatchChanges after cancel = %v, want context.Canceled", err)
	}
}
