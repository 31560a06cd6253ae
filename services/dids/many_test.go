package dids

import (
	"errors"
	"reflect"
	"testing"

	"kradius.dev/services/nas/faxback/fbdata"
)

// TestGetMany: item for item what GetDID answers. The store here reads one
// at a time; the Redis one's batch read is held to the single reads by the
// store conformance suite.
func TestGetMany(t *testing.T) {
	s := newService(t)
	numbers := []string{"5551231234", "0000", "5551230000", "5551231234"}
	got, errs := s.GetMany(t.Context(), numbers)
	if len(got) != len(numbers) || len(errs) != len(numbers) {
		t.Fatalf("GetMany of %d: %d DIDs, %d errors", len(numbers), len(got), len(errs))
	}
	for i, n := range numbers {
		want, wantErr := s.GetDID(t.Context(), n)
		if !reflect.DeepEqual(got[i], want) || (errs[i] == nil) != (wantErr == nil) || errors.Is(errs[i], fbdata.ErrNotFound) != errors.Is(wantErr, fbdata.ErrNotFound) {
			t.Errorf("item %d (%q) = %+v, %v; GetDID %+v, %v", i, n, got[i], errs[i], want, wantErr)
		}
	}
}
