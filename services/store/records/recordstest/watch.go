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
}

// probe is the record a watch writes until it sees its own notice: only then
// is the watch known to be subscribed, since the contract has no "live"
// notice.
var probe = records.Ref{Kind: counters, Key: "watch-probe"}

// Watching is a WatchChanges running in the background, for a test to read.
type Watching struct {
	notices chan records.Change
	done    chan error
}

// Watch runs s.WatchChanges with ctx and returns once it is live: once the
// notice of a probe write, made after the watch started, has come.
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
	n := 0
	eventually.True(t, "a probe write's notice", func() bool {
		n++
		mustPut(t, s, records.Record{Kind: probe.Kind, Key: probe.Key, Value: []byte(fmt.Sprint(n))})
		for {
			select {
			case c := <-w.notices:
				if c.All || slices.Contains(c.Refs, probe) {
					return true
				}
			case err := <-w.done:
				t.Fatalf("WatchChanges ended before it was live: %v", err)
			default:
				return false
			}
		}
	})
	return w
}

// Next returns the next notice that is not only about the probe (a poll may
// have written it more than once), failing t if none comes within
// eventually.Limit or the watch ends.
func (w *Watching) Next(t testing.TB) records.Change {
	t.Helper()
	timeout := time.After(eventually.Limit)
	for {
		select {
		case c := <-w.notices:
			if !c.All && len(c.Refs) > 0 && !slices.ContainsFunc(c.Refs, func(r records.Ref) bool { return r != probe }) {
				continue
			}
			return c
		case err := <-w.done:
			t.Fatalf("WatchChanges ended: %v", err)
			return records.Change{}
		case <-timeout:
			t.Fatalf("no change notice within %s", eventually.Limit)
			return records.Change{}
		}
	}
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
