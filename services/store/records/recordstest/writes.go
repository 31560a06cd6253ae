package recordstest

import (
	"errors"
	"slices"
	"testing"

	"kradius.dev/services/store/records"
)

var writeTests = []test{
	{"PutReplaces", testPutReplaces},
	{"DeleteMissing", testDeleteMissing},
	{"DeleteFreesIndexesAndRefs", testDeleteFrees},
	{"PutInvalid", testPutInvalid},
	{"KeysWithNULAndColon", testKeysWithNULAndColon},
}

var txnTests = []test{
	{"TxnSeesOwnWrites", testTxnSeesOwnWrites},
	{"FnErrorWritesNothing", testFnErrorWritesNothing},
}

func testPutReplaces(t *testing.T, s records.Store) {
	mustPut(t, s, account("a", "", nil), account("b", "", nil))
	mustPut(t, s, account("x", "first", map[string]string{"uuid": "u1", "mac": "m1"}, acct("a")))
	mustPut(t, s, account("x", "second", map[string]string{"uuid": "u2"}, acct("b")))

	assertValue(t, s, accounts, "x", "second")
	assertBy(t, s, accounts, "uuid", "u2", "x")
	assertByAbsent(t, s, accounts, "uuid", "u1")
	assertByAbsent(t, s, accounts, "mac", "m1")
	assertReferrers(t, s, accounts, acct("a"))
	assertReferrers(t, s, accounts, acct("b"), "x")
	// a is no longer referenced, so it may go; b is.
	mustDelete(t, s, acct("a"))
	assertConflict(t, "delete b, still referenced", deleteAll(t, s, acct("b")))

	// The freed values are another record's to take.
	mustPut(t, s, account("y", "y", map[string]string{"uuid": "u1", "mac": "m1"}))
	assertBy(t, s, accounts, "uuid", "u1", "y")
	assertBy(t, s, accounts, "mac", "m1", "y")

	// Putting the same index value again on the same record is no conflict.
	mustPut(t, s, account("y", "y2", map[string]string{"uuid": "u1", "mac": "m1"}))
	assertValue(t, s, accounts, "y", "y2")
	assertBy(t, s, accounts, "mac", "m1", "y")
}

func testDeleteMissing(t *testing.T, s records.Store) {
	if err := deleteAll(t, s, acct("nobody")); err != nil {
		t.Errorf("deleting a missing record: %v, want nil", err)
	}
	mustPut(t, s, account("a", "a", nil))
	mustDelete(t, s, acct("a"))
	assertAbsent(t, s, accounts, "a")
	if err := deleteAll(t, s, acct("a")); err != nil {
		t.Errorf("deleting a deleted record: %v, want nil", err)
	}
}

func testDeleteFrees(t *testing.T, s records.Store) {
	mustPut(t, s, account("target", "t", nil))
	mustPut(t, s, account("a", "a", map[string]string{"mac": "m1"}, acct("target")))
	mustDelete(t, s, acct("a"))
	assertByAbsent(t, s, accounts, "mac", "m1")
	assertReferrers(t, s, accounts, acct("target"))
	mustDelete(t, s, acct("target"))

	// A record put again after a delete starts with only what it is given.
	mustPut(t, s, account("target", "t", nil))
	mustPut(t, s, account("b", "b", map[string]string{"mac": "m1"}))
	assertBy(t, s, accounts, "mac", "m1", "b")
	mustPut(t, s, account("a", "again", nil))
	assertReferrers(t, s, accounts, acct("target"))
	mustDelete(t, s, acct("target"))
}

func testTxnSeesOwnWrites(t *testing.T, s records.Store) {
	mustPut(t, s, account("old", "stored", nil), account("gone", "stored", nil))
	err := s.Update(t.Context(), func(tx records.Txn) error {
		if v, err := tx.Get(accounts, "old"); err != nil || string(v) != "stored" {
			return errors.New("stored record not read: " + string(v) + errText(err))
		}
		if _, err := tx.Get(accounts, "new"); !errors.Is(err, records.ErrNotFound) {
			return errors.New("missing record not ErrNotFound:" + errText(err))
		}
		if err := tx.Put(account("new", "created", nil)); err != nil {
			return err
		}
		if err := tx.Put(account("old", "replaced", nil)); err != nil {
			return err
		}
		if err := tx.Delete(accounts, "gone"); err != nil {
			return err
		}
		if v, err := tx.Get(accounts, "new"); err != nil || string(v) != "created" {
			return errors.New("own put not read: " + string(v) + errText(err))
		}
		if v, err := tx.Get(accounts, "old"); err != nil || string(v) != "replaced" {
			return errors.New("own replace not read: " + string(v) + errText(err))
		}
		if _, err := tx.Get(accounts, "gone"); !errors.Is(err, records.ErrNotFound) {
			return errors.New("own delete not seen:" + errText(err))
		}
		// Deleted and created again in the same transaction.
		if err := tx.Delete(accounts, "new"); err != nil {
			return err
		}
		if _, err := tx.Get(accounts, "new"); !errors.Is(err, records.ErrNotFound) {
			return errors.New("own delete of own put not seen:" + errText(err))
		}
		return tx.Put(account("new", "created again", nil))
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	assertValue(t, s, accounts, "new", "created again")
	assertValue(t, s, accounts, "old", "replaced")
	assertAbsent(t, s, accounts, "gone")
}

func errText(err error) string {
	if err == nil {
		return " <nil>"
	}
	return " " + err.Error()
}

var errFromFn = errors.New("the function gave up")

func testFnErrorWritesNothing(t *testing.T, s records.Store) {
	mustPut(t, s, account("kept", "before", map[string]string{"mac": "m1"}), account("doomed", "d", nil))
	err := s.Update(t.Context(), func(tx records.Txn) error {
		for _, r := range []records.Record{
			account("kept", "after", map[string]string{"mac": "m2"}),
			account("new", "n", map[string]string{"uuid": "u1"}, acct("kept")),
			did("100", "kept"),
		} {
			if err := tx.Put(r); err != nil {
				return err
			}
		}
		if err := tx.Delete(accounts, "doomed"); err != nil {
			return err
		}
		return errFromFn
	})
	if !errors.Is(err, errFromFn) {
		t.Fatalf("Update = %v, want the function's error", err)
	}
	assertValue(t, s, accounts, "kept", "before")
	assertBy(t, s, accounts, "mac", "m1", "kept")
	assertByAbsent(t, s, accounts, "mac", "m2")
	assertAbsent(t, s, accounts, "new")
	assertByAbsent(t, s, accounts, "uuid", "u1")
	assertAbsent(t, s, dids, "100")
	assertValue(t, s, accounts, "doomed", "d")
	assertReferrers(t, s, dids, acct("kept"))
	assertReferrers(t, s, accounts, acct("kept"))
	mustDelete(t, s, acct("kept"))
}

func testPutInvalid(t *testing.T, s records.Store) {
	for what, r := range map[string]records.Record{
		"empty key":         account("", "v", nil),
		"empty index value": account("a", "v", map[string]string{"uuid": "u1", "mac": ""}),
	} {
		err := update(t, s, account("witness", "w", nil), r)
		if !errors.Is(err, records.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", what, err)
		}
		if errors.Is(err, records.ErrConflict) || errors.Is(err, records.ErrNotFound) {
			t.Errorf("%s: err = %v wraps a store check's error as well", what, err)
		}
	}
	assertAbsent(t, s, accounts, "witness")
	assertAbsent(t, s, accounts, "a")
	assertByAbsent(t, s, accounts, "uuid", "u1")
}

// NUL and ':' are what a backend is likeliest to join its own keys with, so
// keys that hold them, or are prefixes of each other across them, must stay
// apart.
func testKeysWithNULAndColon(t *testing.T, s records.Store) {
	keys := []string{"a", "a\x00", "a\x00b", "a:b", "a:", ":", "\x00", "\x00\x00", "a\x00\x01b"}
	var puts []records.Record
	for _, k := range keys {
		puts = append(puts, account(k, "v"+k, map[string]string{"mac": "m" + k}, acct(keys[0])))
		puts = append(puts, records.Record{Kind: dids, Key: k, Value: []byte("d" + k), Unique: map[string]string{"uuid": k}, Refs: []records.Ref{acct(k)}})
	}
	mustPut(t, s, puts...)
	for _, k := range keys {
		assertValue(t, s, accounts, k, "v"+k)
		assertValue(t, s, dids, k, "d"+k)
		assertBy(t, s, accounts, "mac", "m"+k, k)
		assertBy(t, s, dids, "uuid", k, k)
		assertReferrers(t, s, dids, acct(k), k)
	}
	sorted := slices.Sorted(slices.Values(keys))
	assertReferrers(t, s, accounts, acct(keys[0]), sorted...)
	entries, err := s.List(t.Context(), accounts, "", len(keys)+1)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if got := entryKeys(entries); !slices.Equal(got, sorted) {
		t.Errorf("List keys = %q, want %q", got, sorted)
	}
	if entries, err := s.List(t.Context(), accounts, "a\x00", 1); err != nil || !slices.Equal(entryKeys(entries), []string{"a\x00\x01b"}) {
		t.Errorf("List(after a\\x00, 1) = %q, %v; want [a\\x00\\x01b]", entryKeys(entries), err)
	}

	mustDelete(t, s, records.Ref{Kind: dids, Key: "a\x00"}, acct("a\x00"))
	assertAbsent(t, s, accounts, "a\x00")
	assertByAbsent(t, s, accounts, "mac", "ma\x00")
	assertValue(t, s, accounts, "a", "va")
	assertValue(t, s, accounts, "a\x00b", "va\x00b")
	assertBy(t, s, dids, "uuid", "a\x00b", "a\x00b")
	assertReferrers(t, s, dids, acct("a"), "a")
	assertReferrers(t, s, dids, acct("a\x00b"), "a\x00b")
}
