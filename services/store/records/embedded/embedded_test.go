package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"kradius.dev/services/eventually"
	"kradius.dev/services/store/records"
	"kradius.dev/services/store/records/recordstest"
)

func TestConformance(t *testing.T) {
	recordstest.Run(t, func(t *testing.T, kinds []records.Kind) records.Store {
		s, err := Open(filepath.Join(t.TempDir(), "records.db"), kinds)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

var testKinds = []records.Kind{{Name: "t.accounts", Unique: []string{"mac"}}, {Name: "t.dids"}}

func openAt(t *testing.T, path string, kinds []records.Kind) *Store {
	t.Helper()
	s, err := Open(path, kinds)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func put(t *testing.T, s *Store, rs ...records.Record) {
	t.Helper()
	err := s.Update(t.Context(), func(tx records.Txn) error {
		for _, r := range rs {
			if err := tx.Put(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func TestReopenKeepsRecordsIndexesAndRefs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "var", "records.db")
	s := openAt(t, path, testKinds)
	put(t, s,
		records.Record{Kind: "t.accounts", Key: "a", Value: []byte("va"), Unique: map[string]string{"mac": "m1"}},
		records.Record{Kind: "t.dids", Key: "100", Value: []byte("d"), Refs: []records.Ref{{Kind: "t.accounts", Key: "a"}}},
	)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// A kind declared later gets its buckets on open.
	s = openAt(t, path, append(slices.Clone(testKinds), records.Kind{Name: "t.new", Unique: []string{"x"}}))
	defer s.Close()
	if e, err := s.By(t.Context(), "t.accounts", "mac", "m1"); err != nil || e.Key != "a" || string(e.Value) != "va" {
		t.Errorf("By(mac m1) after reopen = %+v, %v", e, err)
	}
	if keys, err := s.Referrers(t.Context(), "t.dids", records.Ref{Kind: "t.accounts", Key: "a"}); err != nil || !slices.Equal(keys, []string{"100"}) {
		t.Errorf("Referrers after reopen = %q, %v", keys, err)
	}
	err := s.Update(t.Context(), func(tx records.Txn) error { return tx.Delete("t.accounts", "a") })
	if !errors.Is(err, records.ErrConflict) {
		t.Errorf("deleting a referenced record after reopen = %v, want ErrConflict", err)
	}
	put(t, s, records.Record{Kind: "t.new", Key: "n", Unique: map[string]string{"x": "1"}})
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		kinds []records.Kind
		want  string
	}{
		{"bad kind name", []records.Kind{{Name: "faxback/accounts"}}, "faxback/accounts"},
		{"empty kind name", []records.Kind{{Name: ""}}, "kind name"},
		{"kind twice", []records.Kind{{Name: "a"}, {Name: "a"}}, "twice"},
		{"index without a name", []records.Kind{{Name: "a", Unique: []string{""}}}, "without a name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(filepath.Join(dir, "r.db"), tc.kinds)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestOpenRefusesLaterLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keySchema, []byte("99"))
	})
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(path, testKinds); err == nil || !strings.Contains(err.Error(), `"99"`) {
		if s != nil {
			s.Close()
		}
		t.Errorf("Open(layout 99) = %v, want an error naming the version", err)
	}
}

func TestOpenLockedFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	s := openAt(t, path, testKinds)
	defer s.Close()
	if s2, err := Open(path, testKinds); err == nil || !strings.Contains(err.Error(), path) {
		if s2 != nil {
			s2.Close()
		}
		t.Errorf("second Open = %v, want a lock error naming the path", err)
	}
}

// subscribed waits until n watches have subscribed, so that what a test
// writes next is theirs to see.
func subscribed(t *testing.T, s *Store, n int) {
	t.Helper()
	eventually.True(t, fmt.Sprintf("%d watches subscribed", n), func() bool {
		s.feed.mu.Lock()
		defer s.feed.mu.Unlock()
		return len(s.feed.subs) == n
	})
}

func TestSlowWatchGetsAllAndGoesOn(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "r.db"), testKinds)
	defer s.Close()
	// No watch has started, so the buffer can still be made small enough
	// to overflow in a few writes.
	s.feed.init(2)

	release := make(chan struct{})
	var mu sync.Mutex
	var got []records.Change
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go s.WatchChanges(ctx, func(c records.Change) {
		<-release
		mu.Lock()
		defer mu.Unlock()
		got = append(got, c)
	})
	subscribed(t, s, 1)
	// The watch is held in its first notice, All, and buffers two; the
	// rest are lost.
	for i := range 6 {
		put(t, s, records.Record{Kind: "t.dids", Key: fmt.Sprint(i)})
	}
	close(release)
	// Once the watch has emptied its buffer, the next write fits: written
	// earlier, it could be lost as well and no notice would follow it.
	eventually.True(t, "the watch to drain its buffer", func() bool {
		s.feed.mu.Lock()
		defer s.feed.mu.Unlock()
		for w := range s.feed.subs {
			if len(w.notices) > 0 {
				return false
			}
		}
		return true
	})
	put(t, s, records.Record{Kind: "t.dids", Key: "after"})

	var notices []string
	eventually.True(t, "the notice of the write after the overflow", func() bool {
		mu.Lock()
		defer mu.Unlock()
		notices = notices[:0]
		for _, c := range got {
			switch {
			case c.All:
				notices = append(notices, "All")
			case len(c.Refs) == 1:
				notices = append(notices, c.Refs[0].Key)
			default:
				notices = append(notices, fmt.Sprint(c.Refs))
			}
		}
		return slices.Contains(notices, "after")
	})
	if notices[0] != "All" {
		t.Fatalf("notices = %q, want All first", notices)
	}
	notices = notices[1:]
	// The notices before the next All are the first writes in order; none
	// lost comes after it.
	all := slices.Index(notices, "All")
	if all < 1 || notices[len(notices)-1] != "after" || slices.Contains(notices[all+1:], "All") {
		t.Fatalf("notices = %q, want some of 0..5 in order, All once, then after", notices)
	}
	for i, n := range notices[:all] {
		if n != fmt.Sprint(i) {
			t.Errorf("notices = %q, want the first writes in order before All", notices)
			break
		}
	}
	if all > 2 {
		t.Errorf("notices = %q: more came before All than the watch could hold", notices)
	}
}

func TestCloseEndsWatch(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "r.db"), testKinds)
	done := make(chan error, 1)
	go func() { done <- s.WatchChanges(t.Context(), func(records.Change) {}) }()
	subscribed(t, s, 1)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, errClosed) {
			t.Errorf("WatchChanges after Close = %v, want %v", err, errClosed)
		}
	case <-time.After(eventually.Limit):
		t.Fatal("WatchChanges still runs after Close")
	}
	subscribed(t, s, 0)
}

func TestCancelledContextWritesNothing(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "r.db"), testKinds)
	defer s.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ran := false
	err := s.Update(ctx, func(records.Txn) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Errorf("Update(cancelled) = %v, fn ran %t; want context.Canceled, not run", err, ran)
	}
	if _, err := s.Get(ctx, "t.dids", "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get(cancelled) = %v, want context.Canceled", err)
	}
}

func TestEmptyKeyAndIndexValueRefused(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "r.db"), testKinds)
	defer s.Close()
	for _, r := range []records.Record{
		{Kind: "t.dids", Key: ""},
		{Kind: "t.accounts", Key: "a", Unique: map[string]string{"mac": ""}},
	} {
		err := s.Update(t.Context(), func(tx records.Txn) error { return tx.Put(r) })
		if err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("Put(%+v) = %v, want an error saying what is empty", r, err)
		}
	}
}

func TestEncodeStringKeepsOrder(t *testing.T) {
	strs := []string{"", "\x00", "\x00\x00", "\x00\x01", "\x00\xff", "\x01", "a", "a\x00", "a\x00b", "a\x01", "ab", "b", "\xff"}
	for _, a := range strs {
		s, rest, ok := decodeString(append(encodeString(nil, a), "tail"...))
		if !ok || s != a || string(rest) != "tail" {
			t.Errorf("decodeString(encodeString(%q)) = %q, %q, %t", a, s, rest, ok)
		}
		for _, b := range strs {
			// A prefix scan for one string must not find another.
			if a != b && bytes.HasPrefix(encodeString(nil, b), encodeString(nil, a)) {
				t.Errorf("encodeString(%q) is a prefix of encodeString(%q)", a, b)
			}
			if want, got := strings.Compare(a, b), bytes.Compare(encodeString(nil, a), encodeString(nil, b)); want != got {
				t.Errorf("compare %q with %q: encoded %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestLinksRoundTrip(t *testing.T) {
	l := links{
		unique: map[string]string{"mac": "m\x00", "uuid": ""},
		refs:   []records.Ref{{Kind: "k", Key: "a\x00b"}, {Kind: "k", Key: ""}},
	}
	got, err := decodeLinks(encodeLinks(l))
	if err != nil || !slices.Equal(got.refs, l.refs) || len(got.unique) != 2 || got.unique["mac"] != "m\x00" {
		t.Errorf("decodeLinks(encodeLinks(%+v)) = %+v, %v", l, got, err)
	}
	if _, err := decodeLinks(encodeLinks(l)[:5]); err == nil {
		t.Error("decodeLinks of a truncated entry succeeded")
	}
}
