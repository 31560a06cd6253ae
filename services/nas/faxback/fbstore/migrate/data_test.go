package migrate

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/embedded"
)

func u32(n uint32) *uint32 { return &n }

// fixtureBatch is the data the fixtures hold: every relation today's
// layouts index (groups naming groups, failover, UUID, MAC, serial,
// e-mail) and every optional shape of a DID and a called number.
func fixtureBatch() fbdata.Batch {
	return fbdata.Batch{
		Accounts: []fbdata.Account{
			// Sorted before its members, so paging by name meets it first.
			{Name: "AGroup", UUID: "0b7e4d4c-2f7e-4c6b-9a51-1d2e3f405161", Type: 8, Members: []string{"Zeta", "bgroup"}},
			{Name: "bgroup", UUID: "1b7e4d4c-2f7e-4c6b-9a51-1d2e3f405162", Type: 9, Members: []string{"ALICE", "bob"}, RcvFailoverAccount: "carol"},
			{
				Name: "Alice", UUID: "2b7e4d4c-2f7e-4c6b-9a51-1d2e3f405163", PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
				Type: 1, LoginGroup: "*SALES", RuleGroup: "R1", CDRInfo: "cdr", Customer: "cust", Source: "src",
				RcvEmail: "alice@example.com", SndEmail: "Alice@Example.com", RcvFormat: "pdf",
				RcvCSID: "CSID", SndTSID: "TSID", SndANI: "15551230000", NoSaveCDR: true,
				SendDisabled: true, ReceiveTimeExpired: true, RcvFailoverAccount: "Carol", RcvFailoverMode: "always",
				CallAheadMode: "never", SendOnBehalfOf: true, UploadLogs: "after-errors",
				MACAddress: "00:90:8f:1d:37:f0", SerialNumber: "SN-0001", ProvisioningArg: "arg",
			},
			{Name: "bob", UUID: "3b7e4d4c-2f7e-4c6b-9a51-1d2e3f405164", Type: 0, SerialNumber: "sn-0002", MACAddress: "00908F1D37F1"},
			{Name: "carol", UUID: "4b7e4d4c-2f7e-4c6b-9a51-1d2e3f405165", Type: 4, SndEmail: "carol@example.com", RcvFailoverAccount: "CAROL"},
			{Name: "Zeta", Type: 5, ReceiveDisabled: true, SendTimeExpired: true},
		},
		DIDs: []fbdata.DID{
			{Number: "15550001000", Account: "ALICE", LineNum: u32(1), LineID: "line-1", QueueProfile: "<q/>", ANI: "15551230001"},
			{Number: "15550001001", Account: "alice", LineNum: u32(0)},
			{Number: "15550002000", Account: "bgroup", Disabled: true},
			{Number: "300", Account: "Zeta"},
		},
		CalledNumbers: []fbdata.CalledNumber{
			{Number: "15557770000", FaxVerified: true},
			{Number: "15557770001", VoiceError: true},
			{Number: "15557770002", FaxVerified: true, VoiceError: true},
		},
	}
}

// applier stands in for the new store: today's embedded store at a file of
// its own, restoring through Apply. Apply resets LastModified and Updated,
// which Restore keeps, so it also remembers what it was given: the test
// checks those times against the source.
type applier struct {
	st       *embedded.Store
	modified map[string]fbdata.Account // by folded name, as given to Restore
	called   map[string]fbdata.CalledNumber
}

func newApplier(t *testing.T) *applier {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "target.db"), fbdata.Options{LongNames: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &applier{st: st, modified: map[string]fbdata.Account{}, called: map[string]fbdata.CalledNumber{}}
}

func (a *applier) Restore(ctx context.Context, b fbdata.Batch) error {
	for _, acct := range b.Accounts {
		a.modified[fbdata.Fold(acct.Name)] = acct
	}
	for _, n := range b.CalledNumbers {
		a.called[n.Number] = n
	}
	return a.st.Apply(ctx, b)
}

type dump struct {
	Accounts      []fbdata.Account
	DIDs          []fbdata.DID
	CalledNumbers []fbdata.CalledNumber
}

// dumpStore reads everything, a page of 2 at a time so that paging is
// exercised, with the times the store sets cleared.
func dumpStore(t *testing.T, s fbdata.Store) dump {
	t.Helper()
	ctx := context.Background()
	var d dump
	for after := ""; ; {
		p, err := s.ListAccounts(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) == 0 {
			break
		}
		after = fbdata.Fold(p[len(p)-1].Name)
		for _, a := range p {
			a.LastModified = a.LastModified.UTC().Round(0)
			d.Accounts = append(d.Accounts, a)
		}
	}
	for after := ""; ; {
		p, err := s.ListDIDs(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) == 0 {
			break
		}
		after = p[len(p)-1].Number
		d.DIDs = append(d.DIDs, p...)
	}
	for after := ""; ; {
		p, err := s.ListCalledNumbers(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) == 0 {
			break
		}
		after = p[len(p)-1].Number
		for _, n := range p {
			n.Updated = n.Updated.UTC().Round(0)
			d.CalledNumbers = append(d.CalledNumbers, n)
		}
	}
	return d
}

// compare checks that target holds what source holds, record by record and
// field by field, and that Restore was given source's LastModified and
// Updated, which the applier's Apply does not keep.
func compare(t *testing.T, source dump, target *applier) {
	t.Helper()
	got := dumpStore(t, target.st)
	if len(source.Accounts) != len(fixtureBatch().Accounts) || len(source.DIDs) != len(fixtureBatch().DIDs) ||
		len(source.CalledNumbers) != len(fixtureBatch().CalledNumbers) {
		t.Fatalf("source holds %d accounts, %d DIDs, %d called numbers; the fixture has more",
			len(source.Accounts), len(source.DIDs), len(source.CalledNumbers))
	}
	for i, want := range source.Accounts {
		given := target.modified[fbdata.Fold(want.Name)]
		if !given.LastModified.Equal(want.LastModified) || want.LastModified.IsZero() {
			t.Errorf("account %q: Restore given LastModified %v, source has %v", want.Name, given.LastModified, want.LastModified)
		}
		if i >= len(got.Accounts) {
			t.Errorf("account %q missing from target", want.Name)
			continue
		}
		g := got.Accounts[i]
		g.LastModified = want.LastModified
		if !reflect.DeepEqual(g, want) {
			t.Errorf("account %d:\n got %+v\nwant %+v", i, g, want)
		}
	}
	if len(got.Accounts) != len(source.Accounts) {
		t.Errorf("target has %d accounts, source %d", len(got.Accounts), len(source.Accounts))
	}
	if !reflect.DeepEqual(got.DIDs, source.DIDs) {
		t.Errorf("DIDs:\n got %+v\nwant %+v", got.DIDs, source.DIDs)
	}
	if len(got.CalledNumbers) != len(source.CalledNumbers) {
		t.Fatalf("target has %d called numbers, source %d", len(got.CalledNumbers), len(source.CalledNumbers))
	}
	for i, want := range source.CalledNumbers {
		if given := target.called[want.Number]; !given.Updated.Equal(want.Updated) || want.Updated.IsZero() {
			t.Errorf("called number %q: Restore given Updated %v, source has %v", want.Number, given.Updated, want.Updated)
		}
		g := got.CalledNumbers[i]
		g.Updated = want.Updated
		if !reflect.DeepEqual(g, want) {
			t.Errorf("called number %d:\n got %+v\nwant %+v", i, g, want)
		}
	}
}
