package fbstore_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/nas/faxback/fbstore"
	recembedded "kradius.dev/services/store/records/embedded"
)

func openEmbedded(t *testing.T) *fbstore.Store {
	t.Helper()
	rs, err := recembedded.Open(filepath.Join(t.TempDir(), "records.db"), fbstore.Kinds)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s := fbstore.New(rs, fbdata.Options{})
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// A migration copies what another store wrote: the store's own fields come
// across as they were, not as a new write would set them.
func TestRestoreKeepsWhatItIsGiven(t *testing.T) {
	s := openEmbedded(t)
	ctx := t.Context()
	when := time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)
	line := uint32(2)
	b := fbdata.Batch{
		Accounts: []fbdata.Account{{
			// Longer than the 16 bytes PutAccount allows without LongNames:
			// Restore does not validate.
			Name: "a-name-of-twenty-bytes", UUID: "05a32765-c400-4993-90d8-35289f96988a", Type: 4,
			MACAddress: "00908F1D37F0", LastModified: when,
		}},
		DIDs:          []fbdata.DID{{Number: "5035550100", Account: "A-NAME-OF-TWENTY-BYTES", LineNum: &line}},
		CalledNumbers: []fbdata.CalledNumber{{Number: "5035550199", VoiceError: true, Updated: when}},
	}
	if err := s.Restore(ctx, b); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	a, err := s.AccountBy(ctx, fbdata.IndexMAC, "00:90:8f:1d:37:f0")
	if err != nil {
		t.Fatalf("AccountBy: %v", err)
	}
	if a.UUID != b.Accounts[0].UUID || !a.LastModified.Equal(when) {
		t.Errorf("restored account = %+v, want UUID %s and LastModified %v kept", a, b.Accounts[0].UUID, when)
	}
	dids, err := s.DIDsForAccount(ctx, "a-name-of-twenty-bytes")
	if err != nil || len(dids) != 1 || dids[0].LineNum == nil || *dids[0].LineNum != line {
		t.Errorf("DIDsForAccount = %+v, %v; want the restored DID", dids, err)
	}
	c, err := s.GetCalledNumber(ctx, "5035550199")
	if err != nil || !c.Updated.Equal(when) || !c.VoiceError {
		t.Errorf("GetCalledNumber = %+v, %v; want Updated %v kept", c, err, when)
	}
}

func TestRestoreChecksReferences(t *testing.T) {
	s := openEmbedded(t)
	err := s.Restore(t.Context(), fbdata.Batch{DIDs: []fbdata.DID{{Number: "100", Account: "ghost"}}})
	if !errors.Is(err, fbdata.ErrConflict) {
		t.Errorf("Restore of a DID of a missing account = %v, want ErrConflict", err)
	}
	if _, err := s.GetDID(t.Context(), "100"); !errors.Is(err, fbdata.ErrNotFound) {
		t.Errorf("GetDID after the refused Restore = %v, want ErrNotFound", err)
	}
}

func TestRestoreRefusesAnEmptyKey(t *testing.T) {
	s := openEmbedded(t)
	err := s.Restore(t.Context(), fbdata.Batch{CalledNumbers: []fbdata.CalledNumber{{FaxVerified: true}}})
	if !errors.Is(err, fbdata.ErrInvalid) || errors.Is(err, fbdata.ErrConflict) {
		t.Errorf("Restore of a called number without a number = %v, want ErrInvalid", err)
	}
}
