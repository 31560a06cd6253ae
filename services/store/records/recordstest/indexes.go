package recordstest

import (
	"testing"

	"kradius.dev/services/store/records"
)

var indexTests = []test{
	{"ByEachIndex", testByEachIndex},
}

var refTests = []test{
	{"Referrers", testReferrers},
}

func testByEachIndex(t *testing.T, s records.Store) {
	mustPut(t, s,
		account("a", "va", map[string]string{"uuid": "u1", "mac": "m1"}),
		account("b", "vb", map[string]string{"mac": "m2"}),
	)
	for _, tc := range []struct{ index, value, key, val string }{
		{"uuid", "u1", "a", "va"},
		{"mac", "m1", "a", "va"},
		{"mac", "m2", "b", "vb"},
	} {
		e, err := s.By(t.Context(), accounts, tc.index, tc.value)
		if err != nil || e.Key != tc.key || string(e.Value) != tc.val {
			t.Errorf("By(%s, %q) = %q %q, %v; want %q %q", tc.index, tc.value, e.Key, e.Value, err, tc.key, tc.val)
		}
	}
	assertByAbsent(t, s, accounts, "uuid", "m1")
	assertByAbsent(t, s, accounts, "mac", "M1")
	assertByAbsent(t, s, accounts, "uuid", "")
	assertByAbsent(t, s, dids, "uuid", "u1")
}

func testReferrers(t *testing.T, s records.Store) {
	mustPut(t, s, account("a", "a", nil), account("b", "b", nil))
	// Written out of order; "1000" sorts before "300".
	mustPut(t, s,
		did("300", "a"), did("1000", "a"), did("20", "b"), did("2", "a"),
		account("group", "g", nil, acct("a"), acct("b")),
		account("failover", "f", nil, acct("a")),
	)
	assertReferrers(t, s, dids, acct("a"), "1000", "2", "300")
	assertReferrers(t, s, dids, acct("b"), "20")
	assertReferrers(t, s, accounts, acct("a"), "failover", "group")
	assertReferrers(t, s, accounts, acct("b"), "group")
	assertReferrers(t, s, dids, acct("nobody"))
	assertReferrers(t, s, counters, acct("a"))
	// A DID's key is no account's key.
	assertReferrers(t, s, dids, records.Ref{Kind: dids, Key: "a"})

	// Moving a DID moves it between the lists.
	mustPut(t, s, did("300", "b"), account("group", "g", nil, acct("b")))
	assertReferrers(t, s, dids, acct("a"), "1000", "2")
	assertReferrers(t, s, dids, acct("b"), "20", "300")
	assertReferrers(t, s, accounts, acct("a"), "failover")

	mustDelete(t, s, records.Ref{Kind: dids, Key: "2"})
	assertReferrers(t, s, dids, acct("a"), "1000")
}
