package fbdatatest

import (
	"strings"
	"testing"

	"kradius.dev/services/nas/faxback/fbdata"
)

var didTests = []test{
	{"InvalidDID", testInvalidDID},
	{"DIDRoundTrip", testDIDRoundTrip},
	{"PutDIDWithoutAccount", testPutDIDWithoutAccount},
	{"DeleteAccountOwningDIDs", testDeleteAccountOwningDIDs},
	{"DIDsForAccount", testDIDsForAccount},
	{"DIDsForAccountNone", testDIDsForAccountNone},
	{"MoveDID", testMoveDID},
	{"DeleteDIDUpdatesList", testDeleteDIDUpdatesList},
}

func testInvalidDID(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, account("owner"))
	tests := []struct {
		name string
		d    fbdata.DID
	}{
		{"empty number", fbdata.DID{Number: "", Account: "owner"}},
		{"empty account", fbdata.DID{Number: "300"}},
		{"65-byte number", fbdata.DID{Number: strings.Repeat("9", 65), Account: "owner"}},
		{"queue profile not XML", fbdata.DID{Number: "300", Account: "owner", QueueProfile: "Op=1"}},
		{"non-ASCII ANI", fbdata.DID{Number: "300", Account: "owner", ANI: "５５５"}},
	}
	for _, tt := range tests {
		assertError(t, "PutDID("+tt.name+")", s.PutDID(t.Context(), tt.d), fbdata.ErrInvalid)
	}
	assertDIDAbsent(t, s, "300")
	assertDIDs(t, s, "owner")
}

func testDIDRoundTrip(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, account("owner"))
	for _, want := range []fbdata.DID{
		{Number: "5551231234", Account: "owner"},
		{Number: "5559990000", Account: "OWNER", Disabled: true},
		{Number: "2222", Account: "owner", LineNum: lineNum(0), LineID: "fax line 1"},
		{Number: "2223", Account: "owner", LineNum: lineNum(2), LineID: "fax line 2",
			QueueProfile: `<QPXml Op="1" Rf="0" Dn="1" Ndn="1" Ea="" Ef="" />`, ANI: "5035550102"},
	} {
		mustPutDID(t, s, want)
		got, err := s.GetDID(t.Context(), want.Number)
		if err != nil {
			t.Fatalf("GetDID(%q): %v", want.Number, err)
		}
		sameDID(t, "GetDID("+want.Number+")", got, want)
	}
}

func testPutDIDWithoutAccount(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	err := s.PutDID(t.Context(), fbdata.DID{Number: "100", Account: "ghost"})
	assertError(t, "PutDID for a missing account", err, fbdata.ErrConflict)
	assertDIDAbsent(t, s, "100")
}

func testDeleteAccountOwningDIDs(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, account("owner"))
	mustPutDID(t, s, fbdata.DID{Number: "100", Account: "owner"})
	mustPutDID(t, s, fbdata.DID{Number: "101", Account: "owner"})

	err := s.DeleteAccount(t.Context(), "OWNER")
	assertError(t, "DeleteAccount with DIDs", err, fbdata.ErrConflict)
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

func testDIDsForAccount(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, account("alice"))
	mustPutAccount(t, s, account("alicE2"))
	mustPutAccount(t, s, account("bob"))
	// Out of order, and with a neighbour whose name starts with "alice", so a
	// careless prefix scan would leak alicE2's DIDs into alice's list.
	for _, d := range []fbdata.DID{
		{Number: "300", Account: "alice"},
		{Number: "100", Account: "ALICE", Disabled: true, LineNum: lineNum(1), LineID: "L1"},
		{Number: "200", Account: "bob"},
		{Number: "250", Account: "alicE2"},
		{Number: "1000", Account: "alice"},
	} {
		mustPutDID(t, s, d)
	}
	assertDIDs(t, s, "Alice", "100", "1000", "300")
	assertDIDs(t, s, "ALICE2", "250")
	assertDIDs(t, s, "bob", "200")

	dids, err := s.DIDsForAccount(t.Context(), "alice")
	if err != nil || len(dids) == 0 {
		t.Fatalf("DIDsForAccount = %v, %v", dids, err)
	}
	sameDID(t, "DIDsForAccount(alice)[0]", dids[0], fbdata.DID{Number: "100", Account: "ALICE", Disabled: true, LineNum: lineNum(1), LineID: "L1"})
}

func testDIDsForAccountNone(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, account("lonely"))
	assertDIDs(t, s, "lonely")
	// An unknown account has no DIDs either; the caller learns about the
	// account itself from GetAccount.
	assertDIDs(t, s, "nobody")
}

func testMoveDID(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, account("from"))
	mustPutAccount(t, s, account("to"))
	mustPutDID(t, s, fbdata.DID{Number: "100", Account: "from"})
	mustPutDID(t, s, fbdata.DID{Number: "100", Account: "TO", Disabled: true})

	assertDIDs(t, s, "from")
	assertDIDs(t, s, "to", "100")
	got, err := s.GetDID(t.Context(), "100")
	if err != nil {
		t.Fatalf("GetDID: %v", err)
	}
	sameDID(t, "GetDID after move", got, fbdata.DID{Number: "100", Account: "TO", Disabled: true})
	// The old owner no longer blocks its own deletion.
	if err := s.DeleteAccount(t.Context(), "from"); err != nil {
		t.Errorf("DeleteAccount of the DID's previous owner: %v", err)
	}
}

func testDeleteDIDUpdatesList(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, account("owner"))
	mustPutDID(t, s, fbdata.DID{Number: "100", Account: "owner"})
	mustPutDID(t, s, fbdata.DID{Number: "200", Account: "owner"})
	if err := s.DeleteDID(t.Context(), "100"); err != nil {
		t.Fatalf("DeleteDID: %v", err)
	}
	assertDIDs(t, s, "owner", "200")
}
