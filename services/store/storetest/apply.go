package storetest

import (
	"testing"
	"time"

	"kradius.dev/services/store"
)

var applyTests = []test{
	{"ApplyWritesEverything", testApplyWritesEverything},
	{"ApplyInvalidWritesNothing", testApplyInvalidWritesNothing},
	{"ApplyConflictWritesNothing", testApplyConflictWritesNothing},
	{"ApplyDIDForStoredAccount", testApplyDIDForStoredAccount},
	{"ApplyMovesDID", testApplyMovesDID},
	{"ApplyRefersForward", testApplyRefersForward},
	{"ApplyLaterRecordWins", testApplyLaterRecordWins},
	{"ApplySwapsIndexValues", testApplySwapsIndexValues},
}

func testApplyWritesEverything(t *testing.T, s store.Store, _ store.Options) {
	b := store.Batch{
		Accounts: []store.Account{account("one"), account("Two"), group("lb", "one", "TWO")},
		DIDs: []store.DID{
			{Number: "100", Account: "ONE"},
			{Number: "200", Account: "two", Disabled: true, LineNum: lineNum(1)},
		},
	}
	before := time.Now()
	if err := s.Apply(t.Context(), b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	after := time.Now()
	for _, want := range b.Accounts {
		got := mustGetAccount(t, s, want.Name)
		sameAccount(t, "GetAccount("+want.Name+")", got, want)
		assertRecent(t, "applied account's LastModified", got.LastModified, before, after)
	}
	for _, want := range b.DIDs {
		got, err := s.GetDID(t.Context(), want.Number)
		if err != nil {
			t.Fatalf("GetDID(%q): %v", want.Number, err)
		}
		sameDID(t, "GetDID("+want.Number+")", got, want)
	}
	assertDIDs(t, s, "one", "100")
	assertDIDs(t, s, "two", "200")
}

func testApplyInvalidWritesNothing(t *testing.T, s store.Store, _ store.Options) {
	tests := []struct {
		name string
		b    store.Batch
	}{
		{"invalid account", store.Batch{
			Accounts: []store.Account{account("good"), {Name: "bad", Type: 3}},
			DIDs:     []store.DID{{Number: "100", Account: "good"}},
		}},
		{"invalid DID", store.Batch{
			Accounts: []store.Account{account("good")},
			DIDs:     []store.DID{{Number: "100", Account: "good"}, {Number: "", Account: "good"}},
		}},
	}
	for _, tt := range tests {
		assertError(t, "Apply("+tt.name+")", s.Apply(t.Context(), tt.b), store.ErrInvalid)
		assertAccountAbsent(t, s, "good")
		assertDIDAbsent(t, s, "100")
	}
}

func testApplyConflictWritesNothing(t *testing.T, s store.Store, _ store.Options) {
	holder := account("holder")
	holder.MACAddress = "00908F1D37F0"
	mustPutAccount(t, s, holder)
	sameMAC := account("twin")
	sameMAC.MACAddress = "00:90:8f:1d:37:f0"
	tests := []struct {
		name string
		b    store.Batch
	}{
		{"DID for a missing account", store.Batch{
			Accounts: []store.Account{account("real")},
			DIDs:     []store.DID{{Number: "100", Account: "real"}, {Number: "200", Account: "ghost"}},
		}},
		{"member missing", store.Batch{
			Accounts: []store.Account{account("real"), group("lb", "real", "ghost")},
			DIDs:     []store.DID{{Number: "100", Account: "real"}},
		}},
		{"MAC held by a stored account", store.Batch{
			Accounts: []store.Account{account("real"), sameMAC},
			DIDs:     []store.DID{{Number: "100", Account: "real"}},
		}},
		{"MAC claimed twice in the batch", store.Batch{
			Accounts: []store.Account{
				account("real"),
				ata("ata1", "", "00908F1D37F1", "", ""),
				ata("ata2", "", "00-90-8F-1D-37-F1", "", ""),
			},
			DIDs: []store.DID{{Number: "100", Account: "real"}},
		}},
	}
	for _, tt := range tests {
		assertError(t, "Apply("+tt.name+")", s.Apply(t.Context(), tt.b), store.ErrConflict)
		for _, name := range []string{"real", "lb", "twin", "ata1", "ata2"} {
			assertAccountAbsent(t, s, name)
		}
		assertDIDAbsent(t, s, "100")
		assertDIDAbsent(t, s, "200")
		assertDIDs(t, s, "real")
		assertAccountByAbsent(t, s, store.IndexMAC, "00908F1D37F1")
	}
	if got := mustAccountBy(t, s, store.IndexMAC, "00908F1D37F0"); got.Name != "holder" {
		t.Errorf("after the refused batches, the MAC finds %q, want holder", got.Name)
	}
}

func testApplyDIDForStoredAccount(t *testing.T, s store.Store, _ store.Options) {
	mustPutAccount(t, s, account("stored"))
	if err := s.Apply(t.Context(), store.Batch{DIDs: []store.DID{{Number: "100", Account: "Stored"}}}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	assertDIDs(t, s, "stored", "100")
}

func testApplyMovesDID(t *testing.T, s store.Store, _ store.Options) {
	mustPutAccount(t, s, account("from"))
	mustPutDID(t, s, store.DID{Number: "100", Account: "from"})
	b := store.Batch{
		Accounts: []store.Account{account("to")},
		DIDs:     []store.DID{{Number: "100", Account: "to"}},
	}
	if err := s.Apply(t.Context(), b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	assertDIDs(t, s, "from")
	assertDIDs(t, s, "to", "100")
}

func testApplyRefersForward(t *testing.T, s store.Store, _ store.Options) {
	// A group before its members, and a failover account named before it is
	// defined: a provisioning file need not be sorted.
	primary := account("primary")
	primary.RcvFailoverAccount, primary.RcvFailoverMode = "lb", "load-balance-group-member"
	b := store.Batch{Accounts: []store.Account{primary, group("lb", "m1", "m2"), account("m1"), account("m2")}}
	if err := s.Apply(t.Context(), b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	mustGetAccount(t, s, "lb")
	mustGetAccount(t, s, "primary")
}

func testApplyLaterRecordWins(t *testing.T, s store.Store, _ store.Options) {
	first := ata("ata", "", "00908F1D37F0", "SN-1", "")
	first.Type = 0
	second := ata("ATA", "", "00908F1D37F1", "SN-1", "")
	b := store.Batch{
		// The earlier group names a member the batch never creates; only
		// the later version counts.
		Accounts: []store.Account{group("lb", "ghost"), first, second, group("lb", "ata")},
		DIDs:     []store.DID{{Number: "100", Account: "ata"}, {Number: "100", Account: "ata", Disabled: true}},
	}
	if err := s.Apply(t.Context(), b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	got := mustGetAccount(t, s, "ata")
	sameAccount(t, "GetAccount(ata)", got, store.Account{
		Name: "ATA", UUID: got.UUID, PasswordHash: second.PasswordHash, Type: 4, LoginGroup: second.LoginGroup,
		MACAddress: "00908F1D37F1", SerialNumber: "SN-1",
	})
	assertAccountByAbsent(t, s, store.IndexMAC, "00908F1D37F0")
	mustAccountBy(t, s, store.IndexMAC, "00908F1D37F1")
	if d, err := s.GetDID(t.Context(), "100"); err != nil || !d.Disabled {
		t.Errorf("GetDID(100) = %+v, %v; want the later, disabled record", d, err)
	}
}

func testApplySwapsIndexValues(t *testing.T, s store.Store, _ store.Options) {
	mustPutAccount(t, s, ata("a", uuid1, "00908F1D37F0", "SN-A", "a@example.org"))
	mustPutAccount(t, s, ata("b", uuid2, "00908F1D37F1", "SN-B", "b@example.org"))
	// Two ATAs trade places, and the accounts their UUIDs and addresses: the
	// batch is judged by the state it leaves, in which nothing is shared.
	b := store.Batch{Accounts: []store.Account{
		ata("a", uuid2, "00908F1D37F1", "SN-B", "b@example.org"),
		ata("b", uuid1, "00908F1D37F0", "SN-A", "a@example.org"),
	}}
	if err := s.Apply(t.Context(), b); err != nil {
		t.Fatalf("Apply swapping index values: %v", err)
	}
	for _, lookup := range []struct {
		idx         store.Index
		value, want string
	}{
		{store.IndexUUID, uuid1, "b"},
		{store.IndexUUID, uuid2, "a"},
		{store.IndexMAC, "00908F1D37F0", "b"},
		{store.IndexMAC, "00908F1D37F1", "a"},
		{store.IndexSerial, "SN-A", "b"},
		{store.IndexSenderEmail, "b@example.org", "a"},
	} {
		if got := mustAccountBy(t, s, lookup.idx, lookup.value); got.Name != lookup.want {
			t.Errorf("AccountBy(%s, %q) = %q, want %q", lookup.idx, lookup.value, got.Name, lookup.want)
		}
	}
}
