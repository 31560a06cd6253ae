package fbdatatest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"kradius.dev/services/nas/faxback/fbdata"
)

var concurrencyTests = []test{
	{"Concurrent", testConcurrent},
	{"CancelledContext", testCancelledContext},
}

func testConcurrent(t *testing.T, s fbdata.Store, _ fbdata.Options) {
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

func concurrentWorker(ctx context.Context, s fbdata.Store, w, rounds int) error {
	name := fmt.Sprintf("worker%d", w)
	mac := fmt.Sprintf("00908F1D37%02X", w)
	for i := range rounds {
		a := account(name)
		a.PasswordHash = hash(i)
		a.MACAddress = mac
		if err := s.PutAccount(ctx, a); err != nil {
			return fmt.Errorf("worker %d: PutAccount: %w", w, err)
		}
		number := fmt.Sprintf("%d%04d", w, i)
		if err := s.PutDID(ctx, fbdata.DID{Number: number, Account: name}); err != nil {
			return fmt.Errorf("worker %d: PutDID: %w", w, err)
		}
		if _, err := s.GetAccount(ctx, "SHARED"); err != nil {
			return fmt.Errorf("worker %d: GetAccount(shared): %w", w, err)
		}
		if got, err := s.GetAccount(ctx, name); err != nil || got.PasswordHash != hash(i) {
			return fmt.Errorf("worker %d: GetAccount(own) = %+v, %v; want hash %q", w, got, err, hash(i))
		}
		if got, err := s.AccountBy(ctx, fbdata.IndexMAC, mac); err != nil || got.Name != name {
			return fmt.Errorf("worker %d: AccountBy(mac) = %+v, %v; want %s", w, got, err, name)
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

func testCancelledContext(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	present := account("present")
	present.MACAddress = "00908F1D37F0"
	mustPutAccount(t, s, present)
	mustPutDID(t, s, fbdata.DID{Number: "100", Account: "present"})
	if err := s.RecordCalledNumber(t.Context(), "5035550100", fbdata.CallSuccess); err != nil {
		t.Fatalf("RecordCalledNumber: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name string
		call func() error
	}{
		{"GetAccount", func() error { _, err := s.GetAccount(ctx, "present"); return err }},
		{"AccountBy", func() error { _, err := s.AccountBy(ctx, fbdata.IndexMAC, "00908F1D37F0"); return err }},
		{"AccountBy an unparsable value", func() error { _, err := s.AccountBy(ctx, fbdata.IndexMAC, "x"); return err }},
		{"PutAccount", func() error { return s.PutAccount(ctx, account("new")) }},
		{"DeleteAccount", func() error { return s.DeleteAccount(ctx, "present") }},
		{"GetDID", func() error { _, err := s.GetDID(ctx, "100"); return err }},
		{"PutDID", func() error { return s.PutDID(ctx, fbdata.DID{Number: "200", Account: "present"}) }},
		{"DeleteDID", func() error { return s.DeleteDID(ctx, "100") }},
		{"DIDsForAccount", func() error { _, err := s.DIDsForAccount(ctx, "present"); return err }},
		{"Apply", func() error { return s.Apply(ctx, fbdata.Batch{Accounts: []fbdata.Account{account("new")}}) }},
		{"GetCalledNumber", func() error { _, err := s.GetCalledNumber(ctx, "5035550100"); return err }},
		{"RecordCalledNumber", func() error { return s.RecordCalledNumber(ctx, "5035550100", fbdata.CallVoiceError) }},
	}
	for _, tt := range tests {
		// Not also a not-found: a Reject for a request nobody waits for
		// would be a false answer if it ever reached the NAS.
		err := tt.call()
		if !errors.Is(err, context.Canceled) || errors.Is(err, fbdata.ErrNotFound) {
			t.Errorf("%s with a cancelled context: err = %v, want context.Canceled only", tt.name, err)
		}
	}
	// Nothing the cancelled calls tried may have happened.
	assertAccountAbsent(t, s, "new")
	assertDIDAbsent(t, s, "200")
	mustGetAccount(t, s, "present")
	assertDIDs(t, s, "present", "100")
	if c, err := s.GetCalledNumber(t.Context(), "5035550100"); err != nil || c.VoiceError {
		t.Errorf("GetCalledNumber = %+v, %v; want the voice error not recorded", c, err)
	}
}
