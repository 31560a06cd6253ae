package recordstest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"kradius.dev/services/store/records"
)

var readTests = []test{
	{"GetMissing", testGetMissing},
	{"GetMany", testGetMany},
	{"ListPages", testListPages},
	{"KindsApart", testKindsApart},
	{"BytesExact", testBytesExact},
	{"UnknownKind", testUnknownKind},
}

func testGetMissing(t *testing.T, s records.Store) {
	assertAbsent(t, s, accounts, "nobody")
	mustPut(t, s, account("alice", "a", nil))
	assertValue(t, s, accounts, "alice", "a")
	// Keys are compared byte for byte: folding is the profile's business.
	assertAbsent(t, s, accounts, "Alice")
	assertAbsent(t, s, dids, "alice")
}

func testGetMany(t *testing.T, s records.Store) {
	mustPut(t, s, account("a", "va", nil), account("c", "vc", nil))
	keys := []string{"a", "b", "c", "a", "d"}
	values, errs := s.GetMany(t.Context(), accounts, keys)
	if len(values) != len(keys) || len(errs) != len(keys) {
		t.Fatalf("GetMany(%q) = %d values, %d errs; want %d of each", keys, len(values), len(errs), len(keys))
	}
	want := []string{"va", "", "vc", "va", ""}
	for i, k := range keys {
		if want[i] == "" {
			if !errors.Is(errs[i], records.ErrNotFound) || values[i] != nil {
				t.Errorf("GetMany %q = %q, %v; want nil, ErrNotFound", k, values[i], errs[i])
			}
			continue
		}
		if errs[i] != nil || !bytes.Equal(values[i], []byte(want[i])) {
			t.Errorf("GetMany %q = %q, %v; want %q", k, values[i], errs[i], want[i])
		}
	}
	values, errs = s.GetMany(t.Context(), accounts, nil)
	if len(values) != 0 || len(errs) != 0 {
		t.Errorf("GetMany(no keys) = %q, %v; want nothing", values, errs)
	}
}

func testListPages(t *testing.T, s records.Store) {
	var puts []records.Record
	var want []string
	// Written out of order; "10" sorts before "9" since keys are bytes.
	for i := 24; i >= 0; i-- {
		k := fmt.Sprint(i)
		puts = append(puts, account(k, "v"+k, nil))
		want = append(want, k)
	}
	// A key of another kind must not show among the accounts.
	puts = append(puts, records.Record{Kind: counters, Key: "12a", Value: []byte("c")})
	mustPut(t, s, puts...)
	slices.Sort(want)

	var got []string
	after := ""
	for page := 0; ; page++ {
		if page > len(want) {
			t.Fatalf("List does not end: %q so far", got)
		}
		entries, err := s.List(t.Context(), accounts, after, 7)
		if err != nil {
			t.Fatalf("List(after %q): %v", after, err)
		}
		if len(entries) > 7 {
			t.Fatalf("List(after %q, 7) returned %d entries", after, len(entries))
		}
		if len(entries) == 0 {
			break
		}
		for _, e := range entries {
			if string(e.Value) != "v"+e.Key {
				t.Errorf("List entry %q value = %q, want %q", e.Key, e.Value, "v"+e.Key)
			}
			got = append(got, e.Key)
		}
		after = entries[len(entries)-1].Key
	}
	if !slices.Equal(got, want) {
		t.Errorf("List pages = %q, want %q", got, want)
	}

	// after need not be a stored key.
	entries, err := s.List(t.Context(), accounts, "19a", 2)
	if err != nil {
		t.Fatalf("List(after 19a): %v", err)
	}
	if keys := entryKeys(entries); !slices.Equal(keys, []string{"2", "20"}) {
		t.Errorf("List(after 19a, 2) = %q, want [2 20]", keys)
	}
	if entries, err := s.List(t.Context(), dids, "", 10); err != nil || len(entries) != 0 {
		t.Errorf("List(empty kind) = %q, %v; want nothing", entryKeys(entries), err)
	}
	for _, limit := range []int{0, -1} {
		if entries, err := s.List(t.Context(), accounts, "", limit); err != nil || len(entries) != 0 {
			t.Errorf("List(limit %d) = %q, %v; want nothing and no error", limit, entryKeys(entries), err)
		}
	}
}

func entryKeys(es []records.Entry) []string {
	keys := make([]string, 0, len(es))
	for _, e := range es {
		keys = append(keys, e.Key)
	}
	return keys
}

func testKindsApart(t *testing.T, s records.Store) {
	mustPut(t, s,
		account("k", "account", map[string]string{"uuid": "u1"}),
		records.Record{Kind: dids, Key: "k", Value: []byte("did"), Unique: map[string]string{"uuid": "u1"}},
		records.Record{Kind: counters, Key: "k", Value: []byte("counter")},
	)
	assertValue(t, s, accounts, "k", "account")
	assertValue(t, s, dids, "k", "did")
	assertValue(t, s, counters, "k", "counter")
	assertBy(t, s, accounts, "uuid", "u1", "k")
	assertBy(t, s, dids, "uuid", "u1", "k")

	mustDelete(t, s, records.Ref{Kind: dids, Key: "k"})
	assertValue(t, s, accounts, "k", "account")
	assertAbsent(t, s, dids, "k")
	assertByAbsent(t, s, dids, "uuid", "u1")
	assertBy(t, s, accounts, "uuid", "u1", "k")
}

func testBytesExact(t *testing.T, s records.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	large := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), 64<<10/18+1)[:64<<10]
	want := map[string][]byte{
		"Ä":         []byte("ünïcode ✓"),
		"ä":         all,
		"键/值:1":     large,
		"a":         []byte(""),
		"a b":       []byte(" "),
		"😀":         []byte("\n\r\t"),
		"trailing ": []byte("x"),
	}
	var puts []records.Record
	for k, v := range want {
		puts = append(puts, account(k, string(v), map[string]string{"mac": "mac of " + k}))
	}
	mustPut(t, s, puts...)

	for k, v := range want {
		got, err := s.Get(t.Context(), accounts, k)
		if err != nil || !bytes.Equal(got, v) {
			t.Errorf("Get(%q) = %d bytes, %v; want %d bytes exactly", k, len(got), err, len(v))
		}
		assertBy(t, s, accounts, "mac", "mac of "+k, k)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	})
	values, errs := s.GetMany(t.Context(), accounts, keys)
	entries, err := s.List(t.Context(), accounts, "", len(want)+1)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if got := entryKeys(entries); !slices.Equal(got, keys) {
		t.Errorf("List keys = %q, want %q (byte order)", got, keys)
	}

	// What was read stays as read after later writes: a backend must not
	// hand out memory it reuses.
	var overwrite []records.Record
	for _, k := range keys {
		overwrite = append(overwrite, account(k, strings.Repeat("z", 100), nil))
	}
	mustPut(t, s, overwrite...)
	for i, k := range keys {
		if errs[i] != nil || !bytes.Equal(values[i], want[k]) {
			t.Errorf("GetMany %q = %d bytes, %v; want %d bytes exactly", k, len(values[i]), errs[i], len(want[k]))
		}
	}
	for i, e := range entries {
		if !bytes.Equal(e.Value, want[keys[i]]) {
			t.Errorf("List entry %q = %d bytes, want %d bytes exactly", e.Key, len(e.Value), len(want[keys[i]]))
		}
	}
}

func testUnknownKind(t *testing.T, s records.Store) {
	ctx := t.Context()
	_, err := s.Get(ctx, unknown, "k")
	assertUnknownKind(t, "Get", err)
	_, errs := s.GetMany(ctx, unknown, []string{"k"})
	if len(errs) != 1 {
		t.Errorf("GetMany(one key) = %d errs, want 1", len(errs))
	} else {
		assertUnknownKind(t, "GetMany", errs[0])
	}
	_, err = s.By(ctx, unknown, "uuid", "u")
	assertUnknownKind(t, "By(unknown kind)", err)
	_, err = s.By(ctx, accounts, "serial", "u")
	assertUnknownKind(t, "By(undeclared index)", err)
	_, err = s.By(ctx, counters, "uuid", "u")
	assertUnknownKind(t, "By(another kind's index)", err)
	_, err = s.Referrers(ctx, unknown, acct("a"))
	assertUnknownKind(t, "Referrers(unknown kind)", err)
	_, err = s.Referrers(ctx, dids, records.Ref{Kind: unknown, Key: "a"})
	assertUnknownKind(t, "Referrers(unknown target kind)", err)
	_, err = s.List(ctx, unknown, "", 10)
	assertUnknownKind(t, "List", err)

	mustPut(t, s, account("a", "a", nil))
	for _, tc := range []struct {
		what string
		r    records.Record
	}{
		{"Put(unknown kind)", records.Record{Kind: unknown, Key: "k", Value: []byte("v")}},
		{"Put(undeclared index)", account("k", "v", map[string]string{"serial": "s"})},
		{"Put(reference to unknown kind)", account("k", "v", nil, records.Ref{Kind: unknown, Key: "a"})},
	} {
		err := update(t, s, account("witness", "w", nil), tc.r)
		assertUnknownKind(t, tc.what, err)
	}
	assertAbsent(t, s, accounts, "witness")
	assertAbsent(t, s, accounts, "k")
	err = deleteAll(t, s, acct("a"), records.Ref{Kind: unknown, Key: "k"})
	assertUnknownKind(t, "Delete(unknown kind)", err)
	assertValue(t, s, accounts, "a", "a")
}
