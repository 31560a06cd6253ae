package fbdatatest

import (
	"testing"
	"time"

	"kradius.dev/services/nas/faxback/fbdata"
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

func testApplyWritesEverything(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	b := fbdata.Batch{
		Accounts: []fbdata.Account{account("one"), account("Two"), group("lb", "one", "TWO")},
		DIDs: []fbdata.DID{
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

func testApplyInvalidWritesNothing(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	tests := []struct {
		name string
		b    fbdata.Batch
	}{
		{"invalid account", fbdata.Batch{
			Accounts: []fbdata.Account{account("good"), {Name: "bad", Type: 3}},
			DIDs:     []fbdata.DID{{Number: "100", Account: "good"}},
		}},
		{"invalid DID", fbdata.Batch{
			Accounts: []fbdata.Account{account("good")},
			DIDs:     []fbdata.DID{{Number: "100", Account: "good"}, {Number: "", Account: "good"}},
		}},
	}
	for _, tt := range tests {
		assertError(t, "Apply("+tt.name+")", s.Apply(t.Context(), tt.b), fbdata.ErrInvalid)
		assertAccountAbsent(t, s, "good")
		assertDIDAbsent(t, s, "100")
	}
}

func testApplyConflictWritesNothing(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	holder := account("holder")
	holder.MACAddress = "00908F1D37F0"
	mustPutAccount(t, s, holder)
	sameMAC := account("twin")
	sameMAC.MACAddress = "00:90:8f:1d:37:f0"
	tests := []struct {
		name string
		b    fbdata.Batch
	}{
		{"DID for a missing account", fbdata.Batch{
			Accounts: []fbdata.Account{account("real")},
			DIDs:     []fbdata.DID{{Number: "100", Account: "real"}, {Number: "200", Account: "ghost"}},
		}},
		{"member missing", fbdata.Batch{
			Accounts: []fbdata.Account{account("real"), group("lb", "real", "ghost")},
			DIDs:     []fbdata.DID{{Number: "100", Account: "real"}},
		}},
		{"MAC held by a stored account", fbdata.Batch{
			Accounts: []fbdata.Account{account("real"), sameMAC},
			DIDs:     []fbdata.DID{{Number: "100", Account: "real"}},
		}},
		{"MAC claimed twice in the batch", fbdata.Batch{
			Accounts: []fbdata.Account{
				account("real"),
				ata("ata1", "", "00908F1D37F1", "", ""),
				ata("ata2", "", "00-90-8F-1D-37-F1", "", ""),
			},
			DIDs: []fbdata.DID{{Number: "100", Account: "real"}},
		}},
	}
	for _, tt := range tests {
		assertError(t, "Apply("+tt.name+")", s.Apply(t.Context(), tt.b), fbdata.ErrConflict)
		for _, name := range []string{"real", "lb", "twin", "ata1", "ata2"} {
			assertAccountAbsent(t, s, name)
		}
		assertDIDAbsent(t, s, "100")
		assertDIDAbsent(t, s, "200")
		assertDIDs(t, s, "real")
		assertAccountByAbsent(t, s, fbdata.IndexMAC, "00908F1D37F1")
	}
	if got := mustAccountBy(t, s, fbdata.IndexMAC, "00908F1D37F0"); got.Name != "holder" {
		t.Errorf("after the refused batches, the MAC finds %q, want holder", got.Name)
	}
}

func testApplyDIDForStoredAccount(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, account("stored"))
	if err := s.Apply(t.Context(), fbdata.Batch{DIDs: []fbdata.DID{{Number: "100", Account: "Stored"}}}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	assertDIDs(t, s, "stored", "100")
}

func testApplyMovesDID(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, account("from"))
	mustPutDID(t, s, fbdata.DID{Number: "100", Account: "from"})
	b := fbdata.Batch{
		Accounts: []fbdata.Account{account("to")},
		DIDs:     []fbdata.DID{{Number: "100", Account: "to"}},
	}
	if err := s.Apply(t.Context(), b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	assertDIDs(t, s, "from")
	assertDIDs(t, s, "to", "100")
}

func testApplyRefersForward(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	// A group before its members, and a failover account named before it is
	// defined: a provisioning file need not be sorted.
	primary := account("primary")
	primary.RcvFailoverAccount, primary.RcvFailoverMode = "lb", "load-balance-group-member"
	b := fbdata.Batch{Accounts: []fbdata.Account{primary, group("lb", "m1", "m2"), account("m1"), account("m2")}}
	if err := s.Apply(t.Context(), b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	mustGetAccount(t, s, "lb")
	mustGetAccount(t, s, "primary")
}

func testApplyLaterRecordWins(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	first := ata("ata", "", "00908F1D37F0", "SN-1", "")
	first.Type = 0
	second := ata("ATA", "", "00908F1D37F1", "SN-1", "")
	b := fbdata.Batch{
		// The earlier group names a member the batch never creates; only
		// the later version counts.
		Accounts: []fbdata.Account{group("lb", "ghost"), first, second, group("lb", "ata")},
		DIDs:     []fbdata.DID{{Number: "100", Account: "ata"}, {Number: "100", Account: "ata", Disabled: true}},
	}
	if err := s.Apply(t.Context(), b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	got := mustGetAccount(t, s, "ata")
	sameAccount(t, "GetAccount(ata)", got, fbdata.Account{
		Name: "ATA", UUID: got.UUID, PasswordHash: second.PasswordHash, Type: 4, LoginGroup: second.LoginGroup,
		MACAddress: "00908F1D37F1", SerialNumber: "SN-1",
	})
	assertAccountByAbsent(t, s, fbdata.IndexMAC, "00908F1D37F0")
	mustAccountBy(t, s, fbdata.IndexMAC, "00908F1D37F1")
	if d, err := s.GetDID(t.Context(), "100"); err != nil || !d.Disabled {
		t.Errorf("GetDID(100) = %+v, %v; want the later, disabled record", d, err)
	}
}

func testApplySwapsIndexValues(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, ata("a", uuid1, "00908F1D37F0", "SN-A", "a@example.org"))
	mustPutAccount(t, s, ata("b", uuid2, "00908F1D37F1", "SN-B", "b@example.org"))
	// Two ATAs trade places, and the accounts their UUIDs and addresses: the
	// batch is judged by the state it leaves, in which nothing is shared.
	b := fbdata.Batch{Accounts: []fbdata.Account{
		ata("a", uuid2, "00908F1D37F1", "SN-B", "b@example.org"),
		ata("b", uuid1, "00908F1D37F0", "SN-A", "a@example.org"),
	}}
	if err := s.Apply(t.Context(), b); err != nil {
		t.Fatalf("Apply swapping index values: %v", err)
	}
	for _, lookup := range []struct {
		idx         fbdata.Index
		value, want string
	}{
		{fbdata.IndexUUID, uuid1, "b"},
		{fbdata.IndexUUID, uuid2, "a"},
		{fbdata.IndexMAC, "00908F1D37F0", "b"},
		{fbdata.IndexMAC, "00908F1D37F1", "a"},
		{fbdata.IndexSerial, "SN-A", "b"},
		{fbdata.IndexSenderEmail, "b@example.org", "a"},
	} {
		if got := mustAccountBy(t, s, lookup.idx, lookup.value); got.Name != lookup.want {
			t.Errorf("AccountBy(%s, %q) = %q, want %q", lookup.idx, lookup.value, got.Name, lookup.want)
		}
	}
}
