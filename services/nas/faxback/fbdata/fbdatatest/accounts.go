package fbdatatest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kradius.dev/services/nas/faxback/fbdata"
)

var accountTests = []test{
	{"AccountRoundTrip", testAccountRoundTrip},
	{"AccountWithoutPassword", testAccountWithoutPassword},
	{"AccountLastModifiedIsTheStores", testLastModifiedIsTheStores},
	{"AccountCaseInsensitive", testAccountCaseInsensitive},
	{"AccountReplaceKeepsNewSpelling", testAccountReplaceKeepsNewSpelling},
	{"NotFound", testNotFound},
	{"InvalidAccount", testInvalidAccount},
	{"NameLimits", testNameLimits},
	{"UUIDAssignedOnCreate", testUUIDAssignedOnCreate},
	{"UUIDKeptOnReplace", testUUIDKeptOnReplace},
	{"UUIDStoredCanonical", testUUIDStoredCanonical},
}

// fullAccount sets every field; its members and failover account are
// "member1", "member2" and "mailgw", which the caller creates.
func fullAccount() fbdata.Account {
	return fbdata.Account{
		Name: "FaxGroup", UUID: "05a32765-c400-4993-90d8-35289f96988a", PasswordHash: hash(1), Type: 9,
		LoginGroup: "*PRIORITY", RuleGroup: "SALES", CDRInfo: "cost centre 7", Customer: "ACME", Source: "crm",
		RcvEmail: "in@acme.example", SndEmail: "Out@Acme.example", RcvFormat: "pdf",
		RcvCSID: "+15035550100", SndTSID: "ACME FAX", SndANI: "5035550100",
		NoSaveCDR: true, SendDisabled: true, ReceiveDisabled: true, SendTimeExpired: true, ReceiveTimeExpired: true,
		RcvFailoverAccount: "MailGW", RcvFailoverMode: "always",
		QueueProfile: `<QPXml Rf="0" Dn="1" Ndn="1" Ea="" Ef="" Ln="en-US" Tz="Pacific*" />`, CallAheadMode: "never",
		SendOnBehalfOf: true, UploadLogs: "after-errors",
		MACAddress: "00908F1D37F0", SerialNumber: "SN-27482734", ProvisioningArg: "basecfg=remote-admin.ini",
		Members: []string{"Member2", "member1"},
	}
}

func testAccountRoundTrip(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	for _, name := range []string{"member1", "member2", "mailgw"} {
		mustPutAccount(t, s, account(name))
	}
	want := fullAccount()
	before := time.Now()
	mustPutAccount(t, s, want)
	after := time.Now()
	got := mustGetAccount(t, s, "faxgroup")
	sameAccount(t, "GetAccount", got, want)
	assertRecent(t, "LastModified", got.LastModified, before, after)
}

func testAccountWithoutPassword(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	// A load-balance group never logs in; an empty hash is how it says so.
	want := fbdata.Account{Name: "group", Type: 8}
	mustPutAccount(t, s, want)
	sameAccount(t, "GetAccount", mustGetAccount(t, s, "group"), want)
}

func testLastModifiedIsTheStores(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	a := account("old")
	a.LastModified = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	before := time.Now()
	mustPutAccount(t, s, a)
	after := time.Now()
	assertRecent(t, "account put with a 2001 timestamp: LastModified", mustGetAccount(t, s, "old").LastModified, before, after)
}

func testAccountCaseInsensitive(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, account("aBC"))
	for _, lookup := range []string{"aBC", "Abc", "abc", "ABC"} {
		got := mustGetAccount(t, s, lookup)
		if got.Name != "aBC" {
			t.Errorf("GetAccount(%q).Name = %q, want the stored spelling %q", lookup, got.Name, "aBC")
		}
	}
}

func testAccountReplaceKeepsNewSpelling(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, fbdata.Account{Name: "abc", PasswordHash: hash(1), Type: 0})
	mustPutAccount(t, s, fbdata.Account{Name: "ABC", PasswordHash: hash(2), Type: 5})
	want := fbdata.Account{Name: "ABC", PasswordHash: hash(2), Type: 5}
	sameAccount(t, "after replacing abc with ABC, GetAccount", mustGetAccount(t, s, "abc"), want)
	if err := s.DeleteAccount(t.Context(), "aBc"); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	// One delete removing both spellings proves the second put replaced
	// rather than added.
	assertAccountAbsent(t, s, "abc")
	assertAccountAbsent(t, s, "ABC")
}

func testNotFound(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	ctx := t.Context()
	present := account("present")
	present.MACAddress, present.SerialNumber = "00908F1D37F0", "27482734"
	mustPutAccount(t, s, present)
	mustPutDID(t, s, fbdata.DID{Number: "100", Account: "present"})
	if err := s.RecordCalledNumber(ctx, "5035550100", fbdata.CallSuccess); err != nil {
		t.Fatalf("RecordCalledNumber: %v", err)
	}
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
		{"AccountBy serial prefix", func() error { _, err := s.AccountBy(ctx, fbdata.IndexSerial, "2748"); return err }},
		{"AccountBy another MAC", func() error { _, err := s.AccountBy(ctx, fbdata.IndexMAC, "00908F1D37F1"); return err }},
		{"GetCalledNumber", func() error { _, err := s.GetCalledNumber(ctx, "5035550101"); return err }},
		{"GetCalledNumber empty", func() error { _, err := s.GetCalledNumber(ctx, ""); return err }},
	}
	for _, tt := range tests {
		assertError(t, tt.name, tt.call(), fbdata.ErrNotFound)
	}
}

func testInvalidAccount(t *testing.T, s fbdata.Store, o fbdata.Options) {
	tests := []struct {
		name string
		a    fbdata.Account
	}{
		{"empty name", fbdata.Account{Name: ""}},
		{"65-character name", fbdata.Account{Name: strings.Repeat("x", 65)}},
		{"type 3", fbdata.Account{Name: "typed", Type: 3}},
		{"NUL in name", fbdata.Account{Name: "a\x00b"}},
		{"members of a type 4", fbdata.Account{Name: "notgroup", Type: 4, Members: []string{"x"}}},
		{"group lists itself", fbdata.Account{Name: "selfish", Type: 8, Members: []string{"SELFISH"}}},
		{"bad UUID", fbdata.Account{Name: "uuid", UUID: "05a32765"}},
		{"bad MAC", fbdata.Account{Name: "mac", MACAddress: "00:90:8f"}},
		{"lower-case login group", fbdata.Account{Name: "group", LoginGroup: "east"}},
		{"queue profile not XML", fbdata.Account{Name: "qp", QueueProfile: "<QPXml"}},
		{"unknown receive format", fbdata.Account{Name: "fmt", RcvFormat: "jpeg"}},
		{"sender e-mail without @", fbdata.Account{Name: "mail", SndEmail: "nobody"}},
	}
	if !o.LongNames {
		tests = append(tests, struct {
			name string
			a    fbdata.Account
		}{"17-byte name", fbdata.Account{Name: strings.Repeat("x", 17)}})
	}
	for _, tt := range tests {
		err := s.PutAccount(t.Context(), tt.a)
		assertError(t, "PutAccount("+tt.name+")", err, fbdata.ErrInvalid)
		if tt.a.Name != "" && !strings.Contains(tt.a.Name, "\x00") {
			assertAccountAbsent(t, s, tt.a.Name)
		}
	}
}

func testNameLimits(t *testing.T, s fbdata.Store, o fbdata.Options) {
	valid := []string{strings.Repeat("x", 16), "日本語日本"}
	invalid := []string{strings.Repeat("x", 65), strings.Repeat("😀", 64)}
	if o.LongNames {
		valid = append(valid, strings.Repeat("y", 17), strings.Repeat("é", 64), strings.Repeat("語", 64))
	} else {
		invalid = append(invalid, strings.Repeat("y", 17), "日本語日本語")
	}
	for i, name := range valid {
		number := fmt.Sprint(100 + i)
		mustPutAccount(t, s, account(name))
		mustPutDID(t, s, fbdata.DID{Number: number, Account: strings.ToUpper(name)})
		assertDIDs(t, s, name, number)
		if got := mustGetAccount(t, s, strings.ToUpper(name)); got.Name != name {
			t.Errorf("GetAccount(%q).Name = %q", name, got.Name)
		}
	}
	for _, name := range invalid {
		err := s.PutAccount(t.Context(), account(name))
		assertError(t, "PutAccount of a "+name+" name", err, fbdata.ErrInvalid)
		assertAccountAbsent(t, s, name)
	}
}

func testUUIDAssignedOnCreate(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, account("one"))
	if err := s.Apply(t.Context(), fbdata.Batch{Accounts: []fbdata.Account{account("two")}}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	one, two := mustGetAccount(t, s, "one"), mustGetAccount(t, s, "two")
	assertCanonicalUUID(t, "PutAccount", one.UUID)
	assertCanonicalUUID(t, "Apply", two.UUID)
	if one.UUID == two.UUID {
		t.Errorf("two accounts were given the same UUID %q", one.UUID)
	}
	for _, a := range []fbdata.Account{one, two} {
		if got := mustAccountBy(t, s, fbdata.IndexUUID, a.UUID); got.Name != a.Name {
			t.Errorf("AccountBy(uuid, %q) = %q, want %q", a.UUID, got.Name, a.Name)
		}
	}
}

func testUUIDKeptOnReplace(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	mustPutAccount(t, s, account("keep"))
	first := mustGetAccount(t, s, "keep").UUID

	replaced := account("KEEP")
	replaced.Type = 0
	mustPutAccount(t, s, replaced)
	if err := s.Apply(t.Context(), fbdata.Batch{Accounts: []fbdata.Account{replaced}}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := mustGetAccount(t, s, "keep"); got.UUID != first || got.Type != 0 {
		t.Errorf("after replacing without a UUID: UUID %q, type %d; want %q kept and type 0", got.UUID, got.Type, first)
	}
	mustAccountBy(t, s, fbdata.IndexUUID, first)

	// A replacement that names a UUID changes it, and the old one is gone.
	replaced.UUID = "05a32765-c400-4993-90d8-35289f96988a"
	mustPutAccount(t, s, replaced)
	mustAccountBy(t, s, fbdata.IndexUUID, replaced.UUID)
	assertAccountByAbsent(t, s, fbdata.IndexUUID, first)
}

func testUUIDStoredCanonical(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	const canonical = "05a32765-c400-4993-90d8-35289f96988a"
	for i, given := range []string{
		"0x05A32765C400499390D835289F96988A",
		"05A32765-C400-4993-90D8-35289F96988A",
	} {
		a := account("u")
		a.UUID = given
		put := func(ctx context.Context) error { return s.PutAccount(ctx, a) }
		if i == 1 {
			put = func(ctx context.Context) error { return s.Apply(ctx, fbdata.Batch{Accounts: []fbdata.Account{a}}) }
		}
		if err := put(t.Context()); err != nil {
			t.Fatalf("writing UUID %q: %v", given, err)
		}
		if got := mustGetAccount(t, s, "u").UUID; got != canonical {
			t.Errorf("UUID given as %q is stored as %q, want %q", given, got, canonical)
		}
	}
}
