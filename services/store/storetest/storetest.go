// Package storetest is the conformance suite for store.Store backends. Every
// backend runs the same Run so that swapping bbolt for Redis cannot change what
// a NAS profile sees.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kradius.dev/services/store"
)

// Run checks a backend against the store contract. open must return a fresh,
// empty store for each call; Run closes it when the subtest ends, so open must
// not register its own Close.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	fresh := func(t *testing.T) store.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"AccountRoundTrip", testAccountRoundTrip},
		{"AccountLastModifiedIsTheStores", testLastModifiedIsTheStores},
		{"AccountCaseInsensitive", testAccountCaseInsensitive},
		{"AccountReplaceKeepsNewSpelling", testAccountReplaceKeepsNewSpelling},
		{"NotFound", testNotFound},
		{"InvalidAccount", testInvalidAccount},
		{"InvalidDID", testInvalidDID},
		{"DIDRoundTrip", testDIDRoundTrip},
		{"PutDIDWithoutAccount", testPutDIDWithoutAccount},
		{"DeleteAccountOwningDIDs", testDeleteAccountOwningDIDs},
		{"DIDsForAccount", testDIDsForAccount},
		{"DIDsForAccountNone", testDIDsForAccountNone},
		{"MoveDID", testMoveDID},
		{"DeleteDIDUpdatesList", testDeleteDIDUpdatesList},
		{"ApplyWritesEverything", testApplyWritesEverything},
		{"ApplyInvalidWritesNothing", testApplyInvalidWritesNothing},
		{"ApplyMissingAccountWritesNothing", testApplyMissingAccountWritesNothing},
		{"ApplyDIDForStoredAccount", testApplyDIDForStoredAccount},
		{"ApplyMovesDID", testApplyMovesDID},
		{"Concurrent", testConcurrent},
		{"CancelledContext", testCancelledContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, fresh(t))
		})
	}
}

// hash stands in for a PHC string: the store treats it as opaque text.
func hash(n int) string { return fmt.Sprintf("$argon2id$v=19$m=19456,t=2,p=1$salt%d$key%d", n, n) }

func account(name string) store.Account {
	return store.Account{Name: name, PasswordHash: hash(len(name)), Type: 4, LoginGroup: "group-" + name}
}

func mustPutAccount(t *testing.T, s store.Store, a store.Account) {
	t.Helper()
	if err := s.PutAccount(t.Context(), a); err != nil {
		t.Fatalf("PutAccount(%q): %v", a.Name, err)
	}
}

func mustPutDID(t *testing.T, s store.Store, d store.DID) {
	t.Helper()
	if err := s.PutDID(t.Context(), d); err != nil {
		t.Fatalf("PutDID(%q): %v", d.Number, err)
	}
}

func mustGetAccount(t *testing.T, s store.Store, name string) store.Account {
	t.Helper()
	a, err := s.GetAccount(t.Context(), name)
	if err != nil {
		t.Fatalf("GetAccount(%q): %v", name, err)
	}
	return a
}

func assertAccountAbsent(t *testing.T, s store.Store, name string) {
	t.Helper()
	if a, err := s.GetAccount(t.Context(), name); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAccount(%q) = %+v, %v; want ErrNotFound", name, a, err)
	}
}

func assertDIDAbsent(t *testing.T, s store.Store, number string) {
	t.Helper()
	if d, err := s.GetDID(t.Context(), number); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetDID(%q) = %+v, %v; want ErrNotFound", number, d, err)
	}
}

func assertDIDs(t *testing.T, s store.Store, name string, want ...string) {
	t.Helper()
	dids, err := s.DIDsForAccount(t.Context(), name)
	if err != nil {
		t.Fatalf("DIDsForAccount(%q): %v", name, err)
	}
	got := make([]string, 0, len(dids))
	for _, d := range dids {
		got = append(got, d.Number)
	}
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("DIDsForAccount(%q) numbers = %q, want %q", name, got, want)
	}
}

// sameAccount compares everything but LastModified, which the store owns.
func sameAccount(got, want store.Account) bool {
	got.LastModified, want.LastModified = time.Time{}, time.Time{}
	return got == want
}

// assertRecent allows a second of slack either side so that backends storing
// whole seconds (Redis hashes, say) still conform.
func assertRecent(t *testing.T, what string, got, before, after time.Time) {
	t.Helper()
	if got.Before(before.Add(-time.Second)) || got.After(after.Add(time.Second)) {
		t.Errorf("%s LastModified = %v, want between %v and %v", what, got, before, after)
	}
}

func testAccountRoundTrip(t *testing.T, s store.Store) {
	want := store.Account{Name: "FaxUser", PasswordHash: hash(1), Type: 9, LoginGroup: "night-shift"}
	before := time.Now()
	mustPutAccount(t, s, want)
	after := time.Now()
	got := mustGetAccount(t, s, "FaxUser")
	if !sameAccount(got, want) {
		t.Errorf("GetAccount = %+v, want %+v", got, want)
	}
	assertRecent(t, "account", got.LastModified, before, after)
}

func testLastModifiedIsTheStores(t *testing.T, s store.Store) {
	a := account("old")
	a.LastModified = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	before := time.Now()
	mustPutAccount(t, s, a)
	after := time.Now()
	assertRecent(t, "account put with a 2001 timestamp", mustGetAccount(t, s, "old").LastModified, before, after)
}

func testAccountCaseInsensitive(t *testing.T, s store.Store) {
	mustPutAccount(t, s, account("aBC"))
	for _, lookup := range []string{"aBC", "Abc", "abc", "ABC"} {
		got := mustGetAccount(t, s, lookup)
		if got.Name != "aBC" {
			t.Errorf("GetAccount(%q).Name = %q, want the stored spelling %q", lookup, got.Name, "aBC")
		}
	}
}

func testAccountReplaceKeepsNewSpelling(t *testing.T, s store.Store) {
	mustPutAccount(t, s, store.Account{Name: "abc", PasswordHash: hash(1), Type: 0})
	mustPutAccount(t, s, store.Account{Name: "ABC", PasswordHash: hash(2), Type: 5})
	want := store.Account{Name: "ABC", PasswordHash: hash(2), Type: 5}
	if got := mustGetAccount(t, s, "abc"); !sameAccount(got, want) {
		t.Errorf("after replacing abc with ABC, GetAccount = %+v, want %+v", got, want)
	}
	if err := s.DeleteAccount(t.Context(), "aBc"); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	// One delete removing both spellings proves the second put replaced
	// rather than added.
	assertAccountAbsent(t, s, "abc")
	assertAccountAbsent(t, s, "ABC")
}

func testNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustPutAccount(t, s, account("present"))
	mustPutDID(t, s, store.DID{Number: "100", Account: "present", Enabled: true})
	tests := []struct {
		name string
		call func() error
	}{
		{"GetAccount", func() error { _, err := s.GetAccount(ctx, "absent"); return err }},
		{"GetDID", func() error { _, err := s.GetDID(ctx, "200"); return err }},
		{"DeleteAccount", func() error { return s.DeleteAccount(ctx, "absent") }},
		{"DeleteDID", func() error { return s.DeleteDID(ctx, "200") }},
		{"GetAccount empty name", func() error { _, err := s.GetAccount(ctx, ""); return err }},
		{"GetDID empty number", func() error { _, err := s.GetDID(ctx, ""); return err }},
		{"GetDID prefix of stored number", func() error { _, err := s.GetDID(ctx, "10"); return err }},
		{"GetAccount prefix of stored name", func() error { _, err := s.GetAccount(ctx, "pres"); return err }},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", tt.name, err)
		}
	}
}

func testInvalidAccount(t *testing.T, s store.Store) {
	tests := []struct {
		name string
		a    store.Account
	}{
		{"empty name", store.Account{Name: "", PasswordHash: hash(1)}},
		{"17-byte name", store.Account{Name: strings.Repeat("x", 17), PasswordHash: hash(1)}},
		{"type 3", store.Account{Name: "typed", PasswordHash: hash(1), Type: 3}},
		{"empty hash", store.Account{Name: "nohash"}},
		{"NUL in name", store.Account{Name: "a\x00b", PasswordHash: hash(1)}},
	}
	for _, tt := range tests {
		if err := s.PutAccount(t.Context(), tt.a); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutAccount(%s): err = %v, want ErrInvalid", tt.name, err)
		}
		if tt.a.Name != "" {
			assertAccountAbsent(t, s, tt.a.Name)
		}
	}
	// The boundary itself is valid.
	mustPutAccount(t, s, store.Account{Name: strings.Repeat("x", 16), PasswordHash: hash(1)})
}

func testInvalidDID(t *testing.T, s store.Store) {
	mustPutAccount(t, s, account("owner"))
	tests := []struct {
		name string
		d    store.DID
	}{
		{"empty number", store.DID{Number: "", Account: "owner"}},
		{"empty account", store.DID{Number: "300"}},
		{"254-byte number", store.DID{Number: strings.Repeat("9", 254), Account: "owner"}},
	}
	for _, tt := range tests {
		if err := s.PutDID(t.Context(), tt.d); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutDID(%s): err = %v, want ErrInvalid", tt.name, err)
		}
	}
	assertDIDAbsent(t, s, "300")
	assertDIDs(t, s, "owner")
}

func testDIDRoundTrip(t *testing.T, s store.Store) {
	mustPutAccount(t, s, account("owner"))
	for _, want := range []store.DID{
		{Number: "5551231234", Account: "owner", Enabled: true},
		{Number: "5559990000", Account: "OWNER", Enabled: false},
	} {
		mustPutDID(t, s, want)
		got, err := s.GetDID(t.Context(), want.Number)
		if err != nil {
			t.Fatalf("GetDID(%q): %v", want.Number, err)
		}
		if got != want {
			t.Errorf("GetDID(%q) = %+v, want %+v", want.Number, got, want)
		}
	}
}

func testPutDIDWithoutAccount(t *testing.T, s store.Store) {
	err := s.PutDID(t.Context(), store.DID{Number: "100", Account: "ghost", Enabled: true})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutDID for a missing account: err = %v, want ErrConflict", err)
	}
	assertDIDAbsent(t, s, "100")
}

func testDeleteAccountOwningDIDs(t *testing.T, s store.Store) {
	mustPutAccount(t, s, account("owner"))
	mustPutDID(t, s, store.DID{Number: "100", Account: "owner", Enabled: true})
	mustPutDID(t, s, store.DID{Number: "101", Account: "owner", Enabled: true})

	if err := s.DeleteAccount(t.Context(), "OWNER"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("DeleteAccount with DIDs: err = %v, want ErrConflict", err)
	}
	mustGetAccount(t, s, "owner")

	for _, n := range []string{"100", "101"} {
		if err := s.DeleteDID(t.Context(), n); err != nil {
			t.Fatalf("DeleteDID(%q): %v", n, err)
		}
		assertDIDAbsent(t, s, n)
	}
	if err := s.DeleteAccount(t.Context(), "OWNER"); err != nil {
		t.Fatalf("DeleteAccount after its DIDs are gone: %v", err)
	}
	assertAccountAbsent(t, s, "owner")
}

func testDIDsForAccount(t *testing.T, s store.Store) {
	mustPutAccount(t, s, account("alice"))
	mustPutAccount(t, s, account("alicE2"))
	mustPutAccount(t, s, account("bob"))
	// Out of order, and with a neighbour whose name starts with "alice", so a
	// careless prefix scan would leak alicE2's DIDs into alice's list.
	for _, d := range []store.DID{
		{Number: "300", Account: "alice", Enabled: true},
		{Number: "100", Account: "ALICE", Enabled: false},
		{Number: "200", Account: "bob", Enabled: true},
		{Number: "250", Account: "alicE2", Enabled: true},
		{Number: "1000", Account: "alice", Enabled: true},
	} {
		mustPutDID(t, s, d)
	}
	assertDIDs(t, s, "Alice", "100", "1000", "300")
	assertDIDs(t, s, "ALICE2", "250")
	assertDIDs(t, s, "bob", "200")

	dids, err := s.DIDsForAccount(t.Context(), "alice")
	if err != nil {
		t.Fatalf("DIDsForAccount: %v", err)
	}
	if want := (store.DID{Number: "100", Account: "ALICE", Enabled: false}); len(dids) == 0 || dids[0] != want {
		t.Errorf("DIDsForAccount(alice)[0] = %+v, want the full record %+v", dids, want)
	}
}

func testDIDsForAccountNone(t *testing.T, s store.Store) {
	mustPutAccount(t, s, account("lonely"))
	assertDIDs(t, s, "lonely")
	// An unknown account has no DIDs either; the caller learns about the
	// account itself from GetAccount.
	assertDIDs(t, s, "nobody")
}

func testMoveDID(t *testing.T, s store.Store) {
	mustPutAccount(t, s, account("from"))
	mustPutAccount(t, s, account("to"))
	mustPutDID(t, s, store.DID{Number: "100", Account: "from", Enabled: true})
	mustPutDID(t, s, store.DID{Number: "100", Account: "TO", Enabled: false})

	assertDIDs(t, s, "from")
	assertDIDs(t, s, "to", "100")
	got, err := s.GetDID(t.Context(), "100")
	if err != nil {
		t.Fatalf("GetDID: %v", err)
	}
	if want := (store.DID{Number: "100", Account: "TO", Enabled: false}); got != want {
		t.Errorf("GetDID after move = %+v, want %+v", got, want)
	}
	// The old owner no longer blocks its own deletion.
	if err := s.DeleteAccount(t.Context(), "from"); err != nil {
		t.Errorf("DeleteAccount of the DID's previous owner: %v", err)
	}
}

func testDeleteDIDUpdatesList(t *testing.T, s store.Store) {
	mustPutAccount(t, s, account("owner"))
	mustPutDID(t, s, store.DID{Number: "100", Account: "owner", Enabled: true})
	mustPutDID(t, s, store.DID{Number: "200", Account: "owner", Enabled: true})
	if err := s.DeleteDID(t.Context(), "100"); err != nil {
		t.Fatalf("DeleteDID: %v", err)
	}
	assertDIDs(t, s, "owner", "200")
}

func testApplyWritesEverything(t *testing.T, s store.Store) {
	b := store.Batch{
		Accounts: []store.Account{account("one"), account("Two")},
		DIDs: []store.DID{
			{Number: "100", Account: "ONE", Enabled: true},
			{Number: "200", Account: "two", Enabled: false},
		},
	}
	before := time.Now()
	if err := s.Apply(t.Context(), b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	after := time.Now()
	for _, want := range b.Accounts {
		got := mustGetAccount(t, s, want.Name)
		if !sameAccount(got, want) {
			t.Errorf("GetAccount(%q) = %+v, want %+v", want.Name, got, want)
		}
		assertRecent(t, "applied account", got.LastModified, before, after)
	}
	for _, want := range b.DIDs {
		if got, err := s.GetDID(t.Context(), want.Number); err != nil || got != want {
			t.Errorf("GetDID(%q) = %+v, %v; want %+v", want.Number, got, err, want)
		}
	}
	assertDIDs(t, s, "one", "100")
	assertDIDs(t, s, "two", "200")
}

func testApplyInvalidWritesNothing(t *testing.T, s store.Store) {
	tests := []struct {
		name string
		b    store.Batch
	}{
		{"invalid account", store.Batch{
			Accounts: []store.Account{account("good"), {Name: "bad", PasswordHash: hash(1), Type: 3}},
			DIDs:     []store.DID{{Number: "100", Account: "good", Enabled: true}},
		}},
		{"invalid DID", store.Batch{
			Accounts: []store.Account{account("good")},
			DIDs:     []store.DID{{Number: "100", Account: "good", Enabled: true}, {Number: "", Account: "good"}},
		}},
	}
	for _, tt := range tests {
		if err := s.Apply(t.Context(), tt.b); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Apply(%s): err = %v, want ErrInvalid", tt.name, err)
		}
		assertAccountAbsent(t, s, "good")
		assertDIDAbsent(t, s, "100")
	}
}

func testApplyMissingAccountWritesNothing(t *testing.T, s store.Store) {
	b := store.Batch{
		Accounts: []store.Account{account("real")},
		DIDs: []store.DID{
			{Number: "100", Account: "real", Enabled: true},
			{Number: "200", Account: "ghost", Enabled: true},
		},
	}
	if err := s.Apply(t.Context(), b); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Apply with a DID for a missing account: err = %v, want ErrConflict", err)
	}
	assertAccountAbsent(t, s, "real")
	assertDIDAbsent(t, s, "100")
	assertDIDAbsent(t, s, "200")
	assertDIDs(t, s, "real")
}

func testApplyDIDForStoredAccount(t *testing.T, s store.Store) {
	mustPutAccount(t, s, account("stored"))
	if err := s.Apply(t.Context(), store.Batch{DIDs: []store.DID{{Number: "100", Account: "Stored", Enabled: true}}}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	assertDIDs(t, s, "stored", "100")
}

func testApplyMovesDID(t *testing.T, s store.Store) {
	mustPutAccount(t, s, account("from"))
	mustPutDID(t, s, store.DID{Number: "100", Account: "from", Enabled: true})
	b := store.Batch{
		Accounts: []store.Account{account("to")},
		DIDs:     []store.DID{{Number: "100", Account: "to", Enabled: true}},
	}
	if err := s.Apply(t.Context(), b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	assertDIDs(t, s, "from")
	assertDIDs(t, s, "to", "100")
}

func testConcurrent(t *testing.T, s store.Store) {
	const workers, rounds = 8, 25
	mustPutAccount(t, s, account("shared"))
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			errs <- concurrentWorker(t.Context(), s, w, rounds)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	var all []string
	for w := range workers {
		name := fmt.Sprintf("worker%d", w)
		mustGetAccount(t, s, name)
		dids, err := s.DIDsForAccount(t.Context(), name)
		if err != nil {
			t.Fatalf("DIDsForAccount(%q): %v", name, err)
		}
		if len(dids) != rounds {
			t.Errorf("DIDsForAccount(%q) has %d DIDs, want %d", name, len(dids), rounds)
		}
		for _, d := range dids {
			all = append(all, d.Number)
		}
	}
	slices.Sort(all)
	if distinct := slices.Compact(all); len(distinct) != workers*rounds {
		t.Errorf("got %d distinct DIDs, want %d", len(distinct), workers*rounds)
	}
}

func concurrentWorker(ctx context.Context, s store.Store, w, rounds int) error {
	name := fmt.Sprintf("worker%d", w)
	for i := range rounds {
		a := account(name)
		a.PasswordHash = hash(i)
		if err := s.PutAccount(ctx, a); err != nil {
			return fmt.Errorf("worker %d: PutAccount: %w", w, err)
		}
		number := fmt.Sprintf("%d%04d", w, i)
		if err := s.PutDID(ctx, store.DID{Number: number, Account: name, Enabled: true}); err != nil {
			return fmt.Errorf("worker %d: PutDID: %w", w, err)
		}
		if _, err := s.GetAccount(ctx, "SHARED"); err != nil {
			return fmt.Errorf("worker %d: GetAccount(shared): %w", w, err)
		}
		if got, err := s.GetAccount(ctx, name); err != nil || got.PasswordHash != hash(i) {
			return fmt.Errorf("worker %d: GetAccount(own) = %+v, %v; want hash %q", w, got, err, hash(i))
		}
		if _, err := s.GetDID(ctx, number); err != nil {
			return fmt.Errorf("worker %d: GetDID: %w", w, err)
		}
		if _, err := s.DIDsForAccount(ctx, name); err != nil {
			return fmt.Errorf("worker %d: DIDsForAccount: %w", w, err)
		}
	}
	return nil
}

func testCancelledContext(t *testing.T, s store.Store) {
	mustPutAccount(t, s, account("present"))
	mustPutDID(t, s, store.DID{Number: "100", Account: "present", Enabled: true})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name string
		call func() error
	}{
		{"GetAccount", func() error { _, err := s.GetAccount(ctx, "present"); return err }},
		{"PutAccount", func() error { return s.PutAccount(ctx, account("new")) }},
		{"DeleteAccount", func() error { return s.DeleteAccount(ctx, "present") }},
		{"GetDID", func() error { _, err := s.GetDID(ctx, "100"); return err }},
		{"PutDID", func() error { return s.PutDID(ctx, store.DID{Number: "200", Account: "present"}) }},
		{"DeleteDID", func() error { return s.DeleteDID(ctx, "100") }},
		{"DIDsForAccount", func() error { _, err := s.DIDsForAccount(ctx, "present"); return err }},
		{"Apply", func() error { return s.Apply(ctx, store.Batch{Accounts: []store.Account{account("new")}}) }},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: err = %v, want context.Canceled", tt.name, err)
		}
	}
	// Nothing the cancelled calls tried may have happened.
	assertAccountAbsent(t, s, "new")
	assertDIDAbsent(t, s, "200")
	mustGetAccount(t, s, "present")
	assertDIDs(t, s, "present", "100")
}
