// Package recordstest is the conformance suite for records.Store backends.
// Every backend runs the same Run, so that a profile cannot tell bbolt from
// Redis.
package recordstest

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"kradius.dev/services/store/records"
)

// Open returns a fresh, empty store that knows kinds. Run closes it when the
// subtest ends, so Open must not register its own Close.
type Open func(t *testing.T, kinds []records.Kind) records.Store

// The kinds every check runs with. Accounts and DIDs both reference
// accounts, so that Referrers has a kind to filter out; both have a "uuid"
// index, so that indexes of different kinds are seen to be apart.
const (
	accounts = "test.accounts"
	dids     = "test.dids"
	counters = "test.counters"
	unknown  = "test.undeclared"
)

// Kinds is what Run opens every store with.
var Kinds = []records.Kind{
	{Name: accounts, Unique: []string{"uuid", "mac"}},
	{Name: dids, Unique: []string{"uuid"}},
	{Name: counters},
}

type test struct {
	name string
	run  func(t *testing.T, s records.Store)
}

// Run checks a backend against the records contract, each check on a fresh
// store.
func Run(t *testing.T, open Open) {
	t.Helper()
	var tests []test
	for _, group := range [][]test{readTests, writeTests, checkTests, indexTests, refTests, txnTests, watchTests, concurrencyTests} {
		tests = append(tests, group...)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, slices.Clone(Kinds))
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.run(t, s)
		})
	}
}

func account(key, value string, unique map[string]string, refs ...records.Ref) records.Record {
	return records.Record{Kind: accounts, Key: key, Value: []byte(value), Unique: unique, Refs: refs}
}

func did(key, account string) records.Record {
	return records.Record{Kind: dids, Key: key, Value: []byte("did " + key), Refs: []records.Ref{acct(account)}}
}

func acct(key string) records.Ref { return records.Ref{Kind: accounts, Key: key} }

// update runs puts in one transaction.
func update(t *testing.T, s records.Store, puts ...records.Record) error {
	t.Helper()
	return s.Update(t.Context(), func(tx records.Txn) error {
		for _, r := range puts {
			if err := tx.Put(r); err != nil {
				return err
			}
		}
		return nil
	})
}

func mustPut(t *testing.T, s records.Store, puts ...records.Record) {
	t.Helper()
	if err := update(t, s, puts...); err != nil {
		t.Fatalf("Update(put %s): %v", refsOf(puts), err)
	}
}

func mustDelete(t *testing.T, s records.Store, refs ...records.Ref) {
	t.Helper()
	if err := deleteAll(t, s, refs...); err != nil {
		t.Fatalf("Update(delete %v): %v", refs, err)
	}
}

func deleteAll(t *testing.T, s records.Store, refs ...records.Ref) error {
	t.Helper()
	return s.Update(t.Context(), func(tx records.Txn) error {
		for _, r := range refs {
			if err := tx.Delete(r.Kind, r.Key); err != nil {
				return err
			}
		}
		return nil
	})
}

func refsOf(rs []records.Record) []records.Ref {
	refs := make([]records.Ref, 0, len(rs))
	for _, r := range rs {
		refs = append(refs, records.Ref{Kind: r.Kind, Key: r.Key})
	}
	return refs
}

func assertValue(t *testing.T, s records.Store, kind, key, want string) {
	t.Helper()
	got, err := s.Get(t.Context(), kind, key)
	if err != nil {
		t.Errorf("Get(%s, %q): %v, want %q", kind, key, err, want)
		return
	}
	if !bytes.Equal(got, []byte(want)) {
		t.Errorf("Get(%s, %q) = %q, want %q", kind, key, got, want)
	}
}

func assertAbsent(t *testing.T, s records.Store, kind, key string) {
	t.Helper()
	if got, err := s.Get(t.Context(), kind, key); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("Get(%s, %q) = %q, %v; want ErrNotFound", kind, key, got, err)
	}
}

func assertBy(t *testing.T, s records.Store, kind, index, value, wantKey string) {
	t.Helper()
	e, err := s.By(t.Context(), kind, index, value)
	if err != nil {
		t.Errorf("By(%s, %s, %q): %v, want key %q", kind, index, value, err, wantKey)
		return
	}
	if e.Key != wantKey {
		t.Errorf("By(%s, %s, %q) key = %q, want %q", kind, index, value, e.Key, wantKey)
	}
}

func assertByAbsent(t *testing.T, s records.Store, kind, index, value string) {
	t.Helper()
	if e, err := s.By(t.Context(), kind, index, value); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("By(%s, %s, %q) = %q, %v; want ErrNotFound", kind, index, value, e.Key, err)
	}
}

func assertReferrers(t *testing.T, s records.Store, kind string, target records.Ref, want ...string) {
	t.Helper()
	got, err := s.Referrers(t.Context(), kind, target)
	if err != nil {
		t.Errorf("Referrers(%s, %s): %v", kind, target, err)
		return
	}
	if len(got) != 0 || len(want) != 0 {
		if !slices.Equal(got, want) {
			t.Errorf("Referrers(%s, %s) = %q, want %q", kind, target, got, want)
		}
	}
}

// assertConflict checks err is a *records.Conflict and no other of the
// store's errors, so that a conflict cannot read as not found.
func assertConflict(t *testing.T, what string, err error) {
	t.Helper()
	var c *records.Conflict
	if !errors.As(err, &c) || !errors.Is(err, records.ErrConflict) {
		t.Errorf("%s: err = %v, want a *records.Conflict", what, err)
		return
	}
	if c.Ref.Kind == "" || c.Reason == "" {
		t.Errorf("%s: conflict %+v does not say what and why", what, c)
	}
	for _, other := range []error{records.ErrNotFound, records.ErrUnknownKind, records.ErrInvalid} {
		if errors.Is(err, other) {
			t.Errorf("%s: err = %v wraps %v as well", what, err, other)
		}
	}
}

// assertConflictOn checks err is a conflict on the record whose write failed
// the check: the contract's Conflict.Ref.
func assertConflictOn(t *testing.T, what string, err error, want ...records.Ref) {
	t.Helper()
	assertConflict(t, what, err)
	var c *records.Conflict
	if errors.As(err, &c) && !slices.Contains(want, c.Ref) {
		t.Errorf("%s: conflict on %s, want one of %v", what, c.Ref, want)
	}
}

func assertUnknownKind(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, records.ErrUnknownKind) {
		t.Errorf("%s: err = %v, want ErrUnknownKind", what, err)
	}
}
