package recordstest

import (
	"testing"

	"kradius.dev/services/store/records"
)

var checkTests = []test{
	{"UniqueConflict", testUniqueConflict},
	{"UniqueConflictInOneTxn", testUniqueConflictInOneTxn},
	{"UniqueFreedInOneTxn", testUniqueFreedInOneTxn},
	{"RefToMissing", testRefToMissing},
	{"RefToSameTxn", testRefToSameTxn},
	{"DeleteReferenced", testDeleteReferenced},
	{"DeleteReferrerAndTarget", testDeleteReferrerAndTarget},
}

func testUniqueConflict(t *testing.T, s records.Store) {
	mustPut(t, s, account("a", "a", map[string]string{"uuid": "u1", "mac": "m1"}))
	err := update(t, s,
		account("witness", "w", map[string]string{"uuid": "u9"}),
		did("100", "a"),
		account("b", "b", map[string]string{"uuid": "u2", "mac": "m1"}),
	)
	assertConflictOn(t, "b takes a's mac", err, acct("b"))
	assertAbsent(t, s, accounts, "witness")
	assertAbsent(t, s, accounts, "b")
	assertAbsent(t, s, dids, "100")
	assertByAbsent(t, s, accounts, "uuid", "u9")
	assertByAbsent(t, s, accounts, "uuid", "u2")
	assertBy(t, s, accounts, "mac", "m1", "a")
	assertReferrers(t, s, dids, acct("a"))

	// A replace that takes another's value fails too, and keeps the old.
	mustPut(t, s, account("b", "b", map[string]string{"mac": "m2"}))
	assertConflictOn(t, "b replaced with a's uuid", update(t, s, account("b", "b2", map[string]string{"uuid": "u1"})), acct("b"))
	assertValue(t, s, accounts, "b", "b")
	assertBy(t, s, accounts, "mac", "m2", "b")
	assertBy(t, s, accounts, "uuid", "u1", "a")
}

func testUniqueConflictInOneTxn(t *testing.T, s records.Store) {
	err := update(t, s,
		account("a", "a", map[string]string{"mac": "m1"}),
		account("b", "b", map[string]string{"mac": "m1"}),
	)
	// Either claimant is the one whose write failed.
	assertConflictOn(t, "a and b both claim m1", err, acct("a"), acct("b"))
	assertAbsent(t, s, accounts, "a")
	assertAbsent(t, s, accounts, "b")
	assertByAbsent(t, s, accounts, "mac", "m1")
}

func testUniqueFreedInOneTxn(t *testing.T, s records.Store) {
	mustPut(t, s,
		account("a", "a", map[string]string{"mac": "m1"}),
		account("b", "b", map[string]string{"mac": "m2"}),
		account("c", "c", map[string]string{"uuid": "u3"}),
	)
	// a and b swap MACs; c gives up u3 after d has claimed it.
	mustPut(t, s,
		account("a", "a", map[string]string{"mac": "m2"}),
		account("d", "d", map[string]string{"uuid": "u3"}),
		account("b", "b", map[string]string{"mac": "m1"}),
		account("c", "c", nil),
	)
	assertBy(t, s, accounts, "mac", "m1", "b")
	assertBy(t, s, accounts, "mac", "m2", "a")
	assertBy(t, s, accounts, "uuid", "u3", "d")

	// A value freed by a delete in the transaction is free too.
	err := s.Update(t.Context(), func(tx records.Txn) error {
		if err := tx.Put(account("e", "e", map[string]string{"uuid": "u3"})); err != nil {
			return err
		}
		return tx.Delete(accounts, "d")
	})
	if err != nil {
		t.Fatalf("Update(e takes u3, delete d): %v", err)
	}
	assertBy(t, s, accounts, "uuid", "u3", "e")
}

func testRefToMissing(t *testing.T, s records.Store) {
	err := update(t, s, account("witness", "w", map[string]string{"mac": "m1"}), did("100", "nobody"))
	assertConflictOn(t, "did of a missing account", err, records.Ref{Kind: dids, Key: "100"})
	assertAbsent(t, s, dids, "100")
	assertAbsent(t, s, accounts, "witness")
	assertByAbsent(t, s, accounts, "mac", "m1")
	assertReferrers(t, s, dids, acct("nobody"))

	// Deleted in the same transaction counts as missing.
	mustPut(t, s, account("a", "a", nil))
	err = s.Update(t.Context(), func(tx records.Txn) error {
		if err := tx.Put(did("100", "a")); err != nil {
			return err
		}
		return tx.Delete(accounts, "a")
	})
	// The referrer comes first, so it is the first write found wanting.
	assertConflictOn(t, "did of an account deleted in the transaction", err, records.Ref{Kind: dids, Key: "100"})
	assertValue(t, s, accounts, "a", "a")
	assertAbsent(t, s, dids, "100")
}

func testRefToSameTxn(t *testing.T, s records.Store) {
	// The reference comes before its target: the check is at commit.
	mustPut(t, s,
		did("100", "a"),
		account("group", "g", nil, acct("a"), acct("group")),
		account("a", "a", nil),
	)
	assertReferrers(t, s, dids, acct("a"), "100")
	assertReferrers(t, s, accounts, acct("a"), "group")
}

func testDeleteReferenced(t *testing.T, s records.Store) {
	mustPut(t, s, account("a", "a", nil), did("100", "a"))
	assertConflictOn(t, "delete a, did 100 names it", deleteAll(t, s, acct("a")), acct("a"))
	assertValue(t, s, accounts, "a", "a")
	assertReferrers(t, s, dids, acct("a"), "100")

	// Pointing the DID elsewhere frees a.
	mustPut(t, s, account("b", "b", nil), did("100", "b"))
	mustDelete(t, s, acct("a"))
	assertReferrers(t, s, dids, acct("b"), "100")
}

func testDeleteReferrerAndTarget(t *testing.T, s records.Store) {
	mustPut(t, s, account("a", "a", nil), did("100", "a"), did("101", "a"))
	// The target goes first: the check is at commit.
	mustDelete(t, s, acct("a"), records.Ref{Kind: dids, Key: "100"}, records.Ref{Kind: dids, Key: "101"})
	assertAbsent(t, s, accounts, "a")
	assertAbsent(t, s, dids, "100")
	assertReferrers(t, s, dids, acct("a"))
}
