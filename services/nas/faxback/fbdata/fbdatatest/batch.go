package fbdatatest

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"kradius.dev/services/nas/faxback/fbdata"
)

// batchTests hold a fbdata.BatchReader to the single reads: item for item,
// the same answer.
var batchTests = []test{
	{"BatchGetAccounts", testBatchGetAccounts},
	{"BatchGetDIDs", testBatchGetDIDs},
	{"BatchGetNothing", testBatchGetNothing},
	{"BatchGetCancelled", testBatchGetCancelled},
}

func testBatchGetAccounts(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	br := fbdata.BatchReader(s)
	mustPutAccount(t, s, account("Alpha"))
	mustPutAccount(t, s, account("beta"))
	// Duplicates, case variants and unknown names between known ones.
	names := []string{"alpha", "missing", "BETA", "Alpha", "alpha", "ghost", "beta"}
	got, errs := br.GetAccounts(t.Context(), names)
	if len(got) != len(names) || len(errs) != len(names) {
		t.Fatalf("GetAccounts of %d names: %d accounts, %d errors", len(names), len(got), len(errs))
	}
	for i, name := range names {
		what := fmt.Sprintf("GetAccounts item %d (%q)", i, name)
		want, wantErr := s.GetAccount(t.Context(), name)
		if wantErr != nil {
			assertError(t, what, errs[i], fbdata.ErrNotFound)
			assertMentions(t, what, errs[i], name)
			continue
		}
		if errs[i] != nil {
			t.Errorf("%s: %v", what, errs[i])
			continue
		}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("%s = %+v, want GetAccount's %+v", what, got[i], want)
		}
	}
}

func testBatchGetDIDs(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	br := fbdata.BatchReader(s)
	mustPutAccount(t, s, account("owner"))
	mustPutDID(t, s, fbdata.DID{Number: "5551231234", Account: "owner"})
	mustPutDID(t, s, fbdata.DID{Number: "2222", Account: "OWNER", LineNum: lineNum(2), LineID: "fax line 2", Disabled: true})
	numbers := []string{"2222", "0000", "5551231234", "2222", "5551231235"}
	got, errs := br.GetDIDs(t.Context(), numbers)
	if len(got) != len(numbers) || len(errs) != len(numbers) {
		t.Fatalf("GetDIDs of %d numbers: %d DIDs, %d errors", len(numbers), len(got), len(errs))
	}
	for i, number := range numbers {
		what := fmt.Sprintf("GetDIDs item %d (%q)", i, number)
		want, wantErr := s.GetDID(t.Context(), number)
		if wantErr != nil {
			assertError(t, what, errs[i], fbdata.ErrNotFound)
			assertMentions(t, what, errs[i], number)
			continue
		}
		if errs[i] != nil {
			t.Errorf("%s: %v", what, errs[i])
			continue
		}
		sameDID(t, what, got[i], want)
	}
}

func testBatchGetNothing(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	br := fbdata.BatchReader(s)
	if got, errs := br.GetAccounts(t.Context(), nil); len(got) != 0 || len(errs) != 0 {
		t.Errorf("GetAccounts(nil) = %v, %v; want nothing", got, errs)
	}
	if got, errs := br.GetDIDs(t.Context(), []string{}); len(got) != 0 || len(errs) != 0 {
		t.Errorf("GetDIDs([]) = %v, %v; want nothing", got, errs)
	}
}

// testBatchGetCancelled: a failure of the whole read fails every item, and
// none as not found, which would turn into a Reject.
func testBatchGetCancelled(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	br := fbdata.BatchReader(s)
	mustPutAccount(t, s, account("present"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, errs := br.GetAccounts(ctx, []string{"present", "absent"})
	for i, err := range errs {
		if err == nil {
			t.Errorf("GetAccounts item %d with a cancelled context: no error", i)
		}
		assertError(t, fmt.Sprintf("GetAccounts item %d with a cancelled context", i), err, context.Canceled)
	}
	_, errs = br.GetDIDs(ctx, []string{"100"})
	for i, err := range errs {
		assertError(t, fmt.Sprintf("GetDIDs item %d with a cancelled context", i), err, context.Canceled)
	}
}
