package fbdatatest

import (
	"testing"

	"kradius.dev/services/nas/faxback/fbdata"
)

var indexTests = []test{
	{"AccountByEveryIndex", testAccountByEveryIndex},
	{"AccountByUnparsableValue", testAccountByUnparsableValue},
	{"AccountByUnknownIndex", testAccountByUnknownIndex},
	{"MACStoredCanonical", testMACStoredCanonical},
	{"IndexConflict", testIndexConflict},
	{"IndexFollowsReplace", testIndexFollowsReplace},
	{"IndexReleasedOnDelete", testIndexReleasedOnDelete},
}

// ata is an account with every indexed field set.
func ata(name, uuid, mac, serial, email string) fbdata.Account {
	a := account(name)
	a.UUID, a.MACAddress, a.SerialNumber, a.SndEmail = uuid, mac, serial, email
	return a
}

const (
	uuid1 = "05a32765-c400-4993-90d8-35289f96988a"
	uuid2 = "9b2f0c1e-6a4d-4f3b-8e2a-1c7d5e9f0a3b"
)

func testAccountByEveryIndex(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	want := ata("Ata", uuid1, "00908F1D37F0", "SN-27482734", "Fax@Example.org")
	mustPutAccount(t, s, want)
	mustPutAccount(t, s, ata("other", uuid2, "00908F1D37F1", "SN-1", "other@example.org"))
	for _, lookup := range []struct {
		idx   fbdata.Index
		value string
	}{
		{fbdata.IndexUUID, uuid1},
		{fbdata.IndexUUID, "0x05A32765C400499390D835289F96988A"},
		{fbdata.IndexUUID, "05A32765-C400-4993-90D8-35289F96988A"},
		{fbdata.IndexMAC, "00908F1D37F0"},
		{fbdata.IndexMAC, "00:90:8f:1d:37:f0"},
		{fbdata.IndexMAC, "00-90-8F-1D-37-F0"},
		{fbdata.IndexMAC, "0090.8f1d.37f0"},
		{fbdata.IndexSerial, "SN-27482734"},
		{fbdata.IndexSerial, "sn-27482734"},
		{fbdata.IndexSenderEmail, "Fax@Example.org"},
		{fbdata.IndexSenderEmail, "FAX@EXAMPLE.ORG"},
	} {
		got := mustAccountBy(t, s, lookup.idx, lookup.value)
		sameAccount(t, "AccountBy("+string(lookup.idx)+", "+lookup.value+")", got, want)
	}
}

func testAccountByUnparsableValue(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, ata("ata", uuid1, "00908F1D37F0", "SN-1", "fax@example.org"))
	// These are what a NAS sent; they find nothing, which is a Reject, not
	// a failure to answer.
	for _, lookup := range []struct {
		idx   fbdata.Index
		value string
	}{
		{fbdata.IndexUUID, "05a32765"},
		{fbdata.IndexUUID, ""},
		{fbdata.IndexMAC, "00908F1D37"},
		{fbdata.IndexMAC, "not a MAC at all"},
		{fbdata.IndexMAC, ""},
		{fbdata.IndexSerial, ""},
		{fbdata.IndexSenderEmail, ""},
	} {
		_, err := s.AccountBy(t.Context(), lookup.idx, lookup.value)
		assertError(t, "AccountBy("+string(lookup.idx)+", "+lookup.value+")", err, fbdata.ErrNotFound)
	}
}

func testAccountByUnknownIndex(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, account("ata"))
	// A profile asking for an index that does not exist is a bug: the NAS
	// must get no answer rather than a Reject.
	_, err := s.AccountBy(t.Context(), fbdata.Index("name"), "ata")
	assertError(t, "AccountBy(name)", err, fbdata.ErrInvalid)
}

func testMACStoredCanonical(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	a := account("ata")
	a.MACAddress = "00:90:8f:1d:37:f0"
	mustPutAccount(t, s, a)
	if got := mustGetAccount(t, s, "ata").MACAddress; got != "00908F1D37F0" {
		t.Errorf("MAC address given as %q is stored as %q, want 00908F1D37F0", a.MACAddress, got)
	}
}

func testIndexConflict(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, ata("Holder", uuid1, "00908F1D37F0", "SN-1", "fax@example.org"))
	tests := []struct {
		name      string
		a         fbdata.Account
		field     string
		valueWord string
	}{
		{"uuid", ata("taker", "0x05A32765C400499390D835289F96988A", "", "", ""), "uuid", uuid1},
		{"mac", ata("taker", "", "00-90-8f-1d-37-f0", "", ""), "macAddress", "00908F1D37F0"},
		{"serial", ata("taker", "", "", "sn-1", ""), "serialNumber", "sn-1"},
		{"e-mail", ata("taker", "", "", "", "FAX@example.org"), "sndEmail", "fax@example.org"},
	}
	for _, tt := range tests {
		for _, write := range []struct {
			name string
			call func() error
		}{
			{"PutAccount", func() error { return s.PutAccount(t.Context(), tt.a) }},
			{"Apply", func() error { return s.Apply(t.Context(), fbdata.Batch{Accounts: []fbdata.Account{tt.a}}) }},
		} {
			what := write.name + " taking another account's " + tt.name
			err := write.call()
			assertError(t, what, err, fbdata.ErrConflict)
			assertMentions(t, what, err, tt.field, tt.valueWord, "Holder")
			assertAccountAbsent(t, s, "taker")
		}
	}
	if got := mustAccountBy(t, s, fbdata.IndexMAC, "00908F1D37F0"); got.Name != "Holder" {
		t.Errorf("after the refused writes, the MAC finds %q, want Holder", got.Name)
	}
}

func testIndexFollowsReplace(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, ata("ata", uuid1, "00908F1D37F0", "SN-1", "fax@example.org"))
	// The ATA is swapped for another, and the sender address dropped.
	mustPutAccount(t, s, ata("ATA", "", "00908F1D37F1", "SN-2", ""))

	for _, lookup := range []struct {
		idx   fbdata.Index
		value string
	}{
		{fbdata.IndexMAC, "00908F1D37F0"},
		{fbdata.IndexSerial, "SN-1"},
		{fbdata.IndexSenderEmail, "fax@example.org"},
	} {
		assertAccountByAbsent(t, s, lookup.idx, lookup.value)
	}
	mustAccountBy(t, s, fbdata.IndexMAC, "00908F1D37F1")
	mustAccountBy(t, s, fbdata.IndexSerial, "SN-2")
	mustAccountBy(t, s, fbdata.IndexUUID, uuid1)

	// What the account gave up is free for another.
	mustPutAccount(t, s, ata("next", uuid2, "00908F1D37F0", "SN-1", "fax@example.org"))
	if got := mustAccountBy(t, s, fbdata.IndexSerial, "SN-1"); got.Name != "next" {
		t.Errorf("AccountBy(serial, SN-1) = %q, want next", got.Name)
	}
	// Writing an account again with its own values is no conflict.
	mustPutAccount(t, s, ata("Next", uuid2, "00:90:8F:1D:37:F0", "sn-1", "FAX@example.org"))
}

func testIndexReleasedOnDelete(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, ata("gone", uuid1, "00908F1D37F0", "SN-1", "fax@example.org"))
	if err := s.DeleteAccount(t.Context(), "GONE"); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	for _, lookup := range []struct {
		idx   fbdata.Index
		value string
	}{
		{fbdata.IndexUUID, uuid1},
		{fbdata.IndexMAC, "00908F1D37F0"},
		{fbdata.IndexSerial, "SN-1"},
		{fbdata.IndexSenderEmail, "fax@example.org"},
	} {
		assertAccountByAbsent(t, s, lookup.idx, lookup.value)
	}
	mustPutAccount(t, s, ata("new", uuid1, "00908F1D37F0", "SN-1", "fax@example.org"))
}
