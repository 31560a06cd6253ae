package recordstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"kradius.dev/services/eventually"
	"kradius.dev/services/store/records"
)

var watchTests = []test{
	{"WatchReportsCommits", testWatchReportsCommits},
	{"WatchSkipsFailures", testWatchSkipsFailures},
	{"WatchEveryWatcher", testWatchEveryWatcher},
	{"WatchEndsWithContext", testWatchEndsWithContext},
	{"WatchSkipsNoOps", testWatchSkipsNoOps},
}

// Watching is a WatchChanges running in the background, for a test to read.
type Watching struct {
	notices chan records.Change
	done    chan error
}

// Watch runs s.WatchChanges with ctx and returns once it is live: once its
// first notice, which the contract makes Change{All: true}, has come.
func Watch(t *testing.T, ctx context.Context, s records.Store) *Watching {
	t.Helper()
	w := &Watching{notices: make(chan records.Change, 1000), done: make(chan error, 1)}
	go func() {
		w.done <- s.WatchChanges(ctx, func(c records.Change) {
			select {
			case w.notices <- c:
			case <-ctx.Done():
			}
		})
	}()
	if c := w.Next(t); !c.All {
		t.Fatalf("first notice = %v, want Change{All: true}", c)
	}
	return w
}

// Next returns the next notice, failing t if none comes within
// eventually.Limit or the watch ends.
func (w *Watching) Next(t testing.TB) records.Change {
	t.Helper()
	select {
	case c := <-w.notices:
		return c
	case err := <-w.done:
		t.Fatalf("WatchChanges ended: %v", err)
	case <-time.After(eventually.Limit):
		t.Fatalf("no change notice within %s", eventually.Limit)
	}
	return records.Change{}
}

// expect reads the next notice and checks it lists exactly want, in any
// order.
func (w *Watching) expect(t *testing.T, what string, want ...records.Ref) {
	t.Helper()
	c := w.Next(t)
	if c.All {
		t.Fatalf("%s: notice is All, want %v (a quiet test should miss nothing)", what, want)
	}
	got := sortedRefs(c.Refs)
	if !slices.Equal(got, sortedRefs(want)) {
		t.Errorf("%s: notice = %v, want %v", what, got, sortedRefs(want))
	}
}

func sortedRefs(refs []records.Ref) []records.Ref {
	refs = slices.Clone(refs)
	slices.SortFunc(refs, func(a, b records.Ref) int {
		return strings.Compare(a.Kind+"\x00"+a.Key, b.Kind+"\x00"+b.Key)
	})
	return slices.Compact(refs)
}

func testWatchReportsCommits(t *testing.T, s records.Store) {
	w := Watch(t, t.Context(), s)
	mustPut(t, s, account("a", "a", nil), account("b", "b", nil), did("100", "a"))
	w.expect(t, "three puts", acct("a"), acct("b"), records.Ref{Kind: dids, Key: "100"})

	err := s.Update(t.Context(), func(tx records.Txn) error {
		if err := tx.Delete(dids, "100"); err != nil {
			return err
		}
		return tx.Put(account("a", "a2", nil))
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	w.expect(t, "a delete and a replace", records.Ref{Kind: dids, Key: "100"}, acct("a"))

	// Notices come in commit order.
	for i := range 5 {
		mustPut(t, s, records.Record{Kind: counters, Key: fmt.Sprint(i), Value: []byte("v")})
	}
	for i := range 5 {
		w.expect(t, fmt.Sprintf("commit %d", i), records.Ref{Kind: counters, Key: fmt.Sprint(i)})
	}
}

func testWatchSkipsFailures(t *testing.T, s records.Store) {
	mustPut(t, s, account("a", "a", map[string]string{"mac": "m1"}))
	w := Watch(t, t.Context(), s)
	assertConflict(t, "taken mac", update(t, s, account("b", "b", map[string]string{"mac": "m1"}), account("c", "c", nil)))
	assertConflict(t, "missing ref", update(t, s, account("d", "d", nil), did("100", "nobody")))
	err := s.Update(t.Context(), func(tx records.Txn) error {
		if err := tx.Put(account("e", "e", nil)); err != nil {
			return err
		}
		return errFromFn
	})
	if !errors.Is(err, errFromFn) {
		t.Fatalf("Update = %v, want the function's error", err)
	}
	mustPut(t, s, account("marker", "m", nil))
	w.expect(t, "the first success after three failures", acct("marker"))
}

func testWatchEveryWatcher(t *testing.T, s records.Store) {
	w1 := Watch(t, t.Context(), s)
	w2 := Watch(t, t.Context(), s)
	mustPut(t, s, account("a", "a", nil))
	w1.expect(t, "first watcher", acct("a"))
	w2.expect(t, "second watcher", acct("a"))
}

func testWatchEndsWithContext(t *testing.T, s records.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	w := Watch(t, ctx, s)
	cancel()
	select {
	case err := <-w.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("WatchChanges after cancel = %v, want nil or context.Canceled", err)
		}
	case <-time.After(eventually.Limit):
		t.Fatalf("WatchChanges still runs %s after cancel", eventually.Limit)
	}
}

// A delete of a missing record, a put deleted again, a transaction that only
// reads: none changes a record, so none may cost a cache a notice.
func testWatchSkipsNoOps(t *testing.T, s records.Store) {
	mustPut(t, s, account("a", "a", nil))
	w := Watch(t, t.Context(), s)
	mustDelete(t, s, acct("nobody"))
	err := s.Update(t.Context(), func(tx records.Txn) error {
		if _, err := tx.Get(accounts, "a"); err != nil {
			return err
		}
		if err := tx.Put(account("brief", "b", nil)); err != nil {
			return err
		}
		return tx.Delete(accounts, "brief")
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := s.Update(t.Context(), func(records.Txn) error { return nil }); err != nil {
		t.Fatalf("empty Update: %v", err)
	}
	mustPut(t, s, account("marker", "m", nil), records.Record{Kind: counters, Key: "c", Value: []byte("v")})
	mustDelete(t, s, records.Ref{Kind: counters, Key: "nobody"}, records.Ref{Kind: counters, Key: "c"})
	w.expect(t, "the first write after three that changed nothing", acct("marker"), records.Ref{Kind: counters, Key: "c"})
	w.expect(t, "a delete beside a missing one", records.Ref{Kind: counters, Key: "c"})
}
