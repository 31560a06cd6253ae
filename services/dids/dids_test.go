package dids

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore/legacy/embedded"
)

// newService returns a Service over a real bbolt store holding account
// FaxUser with DIDs 5551231234 and 5551230000 (disabled), and group lb.
func newService(t *testing.T) *Service {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "kradius.db"), fbdata.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	err = st.Apply(t.Context(), fbdata.Batch{
		Accounts: []fbdata.Account{{Name: "FaxUser", Type: 4}, {Name: "lb", Type: 8, Members: []string{"FaxUser"}}},
		DIDs: []fbdata.DID{
			{Number: "5551231234", Account: "faxuser"},
			{Number: "5551230000", Account: "FaxUser", Disabled: true},
		},
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return New(st)
}

// TestBackendErrorsAreNotNotFound: a store that fails must not look like an
// unknown DID, which the edge would answer with a Reject.
func TestBackendErrorsAreNotNotFound(t *testing.T) {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "kradius.db"), fbdata.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	s, ctx := New(st), t.Context()
	for name, call := range map[string]func() error{
		"GetDID":             func() error { _, err := s.GetDID(ctx, "5551231234"); return err },
		"GetMany":            func() error { _, errs := s.GetMany(ctx, []string{"5551231234"}); return errs[0] },
		"DIDsForAccount":     func() error { _, err := s.DIDsForAccount(ctx, "FaxUser"); return err },
		"CalledNumber":       func() error { _, err := s.CalledNumber(ctx, "5035550100"); return err },
		"RecordCalledNumber": func() error { return s.RecordCalledNumber(ctx, "5035550100", fbdata.CallSuccess) },
	} {
		if err := call(); err == nil || errors.Is(err, fbdata.ErrNotFound) {
			t.Errorf("%s on a closed store: %v, want an error that is not ErrNotFound", name, err)
		}
	}
}

func TestGetDID(t *testing.T) {
	s := newService(t)
	want := fbdata.DID{Number: "5551231234", Account: "faxuser"}
	if d, err := s.GetDID(t.Context(), "5551231234"); err != nil || !reflect.DeepEqual(d, want) {
		t.Errorf("GetDID = %+v, %v; want %+v", d, err, want)
	}
	if _, err := s.GetDID(t.Context(), "0000"); !errors.Is(err, fbdata.ErrNotFound) {
		t.Errorf("GetDID(0000) error = %v, want ErrNotFound", err)
	}
}

func TestDIDsForAccount(t *testing.T) {
	s := newService(t)
	dids, err := s.DIDsForAccount(t.Context(), "FAXUSER")
	want := []fbdata.DID{
		{Number: "5551230000", Account: "FaxUser", Disabled: true},
		{Number: "5551231234", Account: "faxuser"},
	}
	if err != nil || !reflect.DeepEqual(dids, want) {
		t.Errorf("DIDsForAccount(FAXUSER) = %+v, %v; want %+v", dids, err, want)
	}
	if dids, err := s.DIDsForAccount(t.Context(), "lb"); err != nil || len(dids) != 0 {
		t.Errorf("DIDsForAccount(lb) = %+v, %v; want none", dids, err)
	}
}

func TestCalledNumbers(t *testing.T) {
	s := newService(t)
	ctx := t.Context()
	if _, err := s.CalledNumber(ctx, "5035550100"); !errors.Is(err, fbdata.ErrNotFound) {
		t.Fatalf("CalledNumber before any call = %v, want ErrNotFound", err)
	}
	steps := []struct {
		result                  fbdata.CallResult
		faxVerified, voiceError bool
	}{
		{fbdata.CallVoiceError, false, true},
		{fbdata.CallSuccess, true, true},
	}
	for _, step := range steps {
		if err := s.RecordCalledNumber(ctx, "5035550100", step.result); err != nil {
			t.Fatalf("RecordCalledNumber(%d): %v", step.result, err)
		}
		c, err := s.CalledNumber(ctx, "5035550100")
		if err != nil || c.FaxVerified != step.faxVerified || c.VoiceError != step.voiceError {
			t.Errorf("after result %d: CalledNumber = %+v, %v; want FaxVerified %t, VoiceError %t",
				step.result, c, err, step.faxVerified, step.voiceError)
		}
	}
	if err := s.RecordCalledNumber(ctx, "5035550100", 7); !errors.Is(err, fbdata.ErrInvalid) {
		t.Errorf("RecordCalledNumber(7) = %v, want ErrInvalid", err)
	}
}
