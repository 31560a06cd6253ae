package fbdatatest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"kradius.dev/services/nas/faxback/fbdata"
)

var calledNumberTests = []test{
	{"CalledNumberResults", testCalledNumberResults},
	{"CalledNumberInvalid", testCalledNumberInvalid},
	{"CalledNumberConcurrent", testCalledNumberConcurrent},
	{"DeleteCalledNumber", testDeleteCalledNumber},
	{"ApplyCalledNumbers", testApplyCalledNumbers},
	{"ApplyInvalidCalledNumber", testApplyInvalidCalledNumber},
}

func testCalledNumberResults(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	tests := []struct {
		name                    string
		results                 []fbdata.CallResult
		faxVerified, voiceError bool
	}{
		{"success", []fbdata.CallResult{fbdata.CallSuccess}, true, false},
		{"fax error", []fbdata.CallResult{fbdata.CallFaxError}, true, false},
		{"voice error", []fbdata.CallResult{fbdata.CallVoiceError}, false, true},
		{"voice error then successes", []fbdata.CallResult{fbdata.CallVoiceError, fbdata.CallSuccess, fbdata.CallFaxError}, true, true},
		{"success then voice error", []fbdata.CallResult{fbdata.CallSuccess, fbdata.CallVoiceError}, true, true},
	}
	for i, tt := range tests {
		number := fmt.Sprintf("50355501%02d", i)
		before := time.Now()
		for _, r := range tt.results {
			if err := s.RecordCalledNumber(t.Context(), number, r); err != nil {
				t.Fatalf("%s: RecordCalledNumber(%d): %v", tt.name, r, err)
			}
		}
		after := time.Now()
		got, err := s.GetCalledNumber(t.Context(), number)
		if err != nil {
			t.Fatalf("%s: GetCalledNumber: %v", tt.name, err)
		}
		if got.Number != number || got.FaxVerified != tt.faxVerified || got.VoiceError != tt.voiceError {
			t.Errorf("%s: GetCalledNumber = %+v, want number %s, FaxVerified %t, VoiceError %t",
				tt.name, got, number, tt.faxVerified, tt.voiceError)
		}
		assertRecent(t, tt.name+": Updated", got.Updated, before, after)
	}
}

func testCalledNumberInvalid(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	for _, tt := range []struct {
		name   string
		number string
		result fbdata.CallResult
	}{
		{"empty number", "", fbdata.CallSuccess},
		{"result 3", "5035550100", 3},
	} {
		err := s.RecordCalledNumber(t.Context(), tt.number, tt.result)
		assertError(t, "RecordCalledNumber("+tt.name+")", err, fbdata.ErrInvalid)
	}
	_, err := s.GetCalledNumber(t.Context(), "5035550100")
	assertError(t, "GetCalledNumber after a refused result", err, fbdata.ErrNotFound)
}

func testCalledNumberConcurrent(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	// Stops for one number arrive at once from many port servers; a
	// read-modify-write that loses an update would lose the voice error.
	const workers, rounds = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				r := fbdata.CallSuccess
				if w == 0 && i == rounds/2 {
					r = fbdata.CallVoiceError
				}
				if err := s.RecordCalledNumber(t.Context(), "5035550100", r); err != nil {
					errs <- fmt.Errorf("worker %d: %w", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.GetCalledNumber(t.Context(), "5035550100")
	if err != nil || !got.FaxVerified || !got.VoiceError {
		t.Errorf("GetCalledNumber = %+v, %v; want FaxVerified and VoiceError", got, err)
	}
}

func assertCalledNumberAbsent(t *testing.T, s fbdata.Store, number string) {
	t.Helper()
	if c, err := s.GetCalledNumber(t.Context(), number); !errors.Is(err, fbdata.ErrNotFound) {
		t.Errorf("GetCalledNumber(%q) = %+v, %v; want ErrNotFound", number, c, err)
	}
}

// assertCalledNumber checks the flags of a stored entry; Updated is the
// store's.
func assertCalledNumber(t *testing.T, s fbdata.Store, want fbdata.CalledNumber) fbdata.CalledNumber {
	t.Helper()
	got, err := s.GetCalledNumber(t.Context(), want.Number)
	if err != nil {
		t.Fatalf("GetCalledNumber(%q): %v", want.Number, err)
	}
	if got.Number != want.Number || got.FaxVerified != want.FaxVerified || got.VoiceError != want.VoiceError {
		t.Errorf("GetCalledNumber(%q) = %+v, want FaxVerified %t, VoiceError %t", want.Number, got, want.FaxVerified, want.VoiceError)
	}
	return got
}

func testDeleteCalledNumber(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	ctx := t.Context()
	for _, n := range []string{"5035550100", "5035550101"} {
		if err := s.RecordCalledNumber(ctx, n, fbdata.CallVoiceError); err != nil {
			t.Fatalf("RecordCalledNumber(%q): %v", n, err)
		}
	}
	if err := s.DeleteCalledNumber(ctx, "5035550100"); err != nil {
		t.Fatalf("DeleteCalledNumber: %v", err)
	}
	assertCalledNumberAbsent(t, s, "5035550100")
	assertCalledNumber(t, s, fbdata.CalledNumber{Number: "5035550101", VoiceError: true})
	assertError(t, "DeleteCalledNumber again", s.DeleteCalledNumber(ctx, "5035550100"), fbdata.ErrNotFound)
	assertError(t, "DeleteCalledNumber of an unknown number", s.DeleteCalledNumber(ctx, "5035550199"), fbdata.ErrNotFound)
	// Forgotten means forgotten: the next result starts a new entry, and
	// the old voice error is gone with the rest.
	if err := s.RecordCalledNumber(ctx, "5035550100", fbdata.CallSuccess); err != nil {
		t.Fatalf("RecordCalledNumber after the delete: %v", err)
	}
	assertCalledNumber(t, s, fbdata.CalledNumber{Number: "5035550100", FaxVerified: true})
}

func testApplyCalledNumbers(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	ctx := t.Context()
	// What the Stops recorded is replaced whole, a sticky voice error
	// included: a provisioned entry is the operator's word.
	if err := s.RecordCalledNumber(ctx, "5035550100", fbdata.CallVoiceError); err != nil {
		t.Fatalf("RecordCalledNumber: %v", err)
	}
	for _, tt := range []struct {
		name string
		b    fbdata.Batch
	}{
		{"called numbers alone", fbdata.Batch{CalledNumbers: []fbdata.CalledNumber{
			{Number: "5035550100", FaxVerified: true},
			{Number: "5035550101", VoiceError: true},
			{Number: "5035550102", FaxVerified: true, VoiceError: true, Updated: time.Unix(0, 0)},
		}}},
		{"with accounts and DIDs", fbdata.Batch{
			Accounts:      []fbdata.Account{account("owner")},
			DIDs:          []fbdata.DID{{Number: "100", Account: "owner"}},
			CalledNumbers: []fbdata.CalledNumber{{Number: "5035550103", FaxVerified: true}},
		}},
		{"later record wins", fbdata.Batch{CalledNumbers: []fbdata.CalledNumber{
			{Number: "5035550104", VoiceError: true},
			{Number: "5035550104", FaxVerified: true},
		}}},
	} {
		before := time.Now()
		if err := s.Apply(ctx, tt.b); err != nil {
			t.Fatalf("Apply(%s): %v", tt.name, err)
		}
		after := time.Now()
		last := map[string]fbdata.CalledNumber{}
		for _, c := range tt.b.CalledNumbers {
			last[c.Number] = c
		}
		for _, want := range last {
			got := assertCalledNumber(t, s, want)
			// The store owns Updated, as it owns an account's LastModified.
			assertRecent(t, tt.name+": Updated of "+want.Number, got.Updated, before, after)
		}
	}
	mustGetAccount(t, s, "owner")
	assertDIDs(t, s, "owner", "100")
	// Applied entries answer like recorded ones, and take results on top.
	if err := s.RecordCalledNumber(ctx, "5035550101", fbdata.CallSuccess); err != nil {
		t.Fatalf("RecordCalledNumber after Apply: %v", err)
	}
	assertCalledNumber(t, s, fbdata.CalledNumber{Number: "5035550101", FaxVerified: true, VoiceError: true})
}

func testApplyInvalidCalledNumber(t *testing.T, s fbdata.Store, _ fbdata.Options) {
	ctx := t.Context()
	for _, tt := range []struct {
		name     string
		b        fbdata.Batch
		want     error
		mentions []string
	}{
		{"empty number", fbdata.Batch{
			Accounts:      []fbdata.Account{account("good")},
			DIDs:          []fbdata.DID{{Number: "100", Account: "good"}},
			CalledNumbers: []fbdata.CalledNumber{{Number: "5035550100", FaxVerified: true}, {FaxVerified: true}},
		}, fbdata.ErrInvalid, []string{`calledNumbers[1] (number "")`, "number"}},
		{"neither flag", fbdata.Batch{CalledNumbers: []fbdata.CalledNumber{{Number: "5035550100", FaxVerified: true}, {Number: "5035550101"}}},
			fbdata.ErrInvalid, []string{`calledNumbers[1] (number "5035550101")`, "faxVerified"}},
		{"send on behalf of", fbdata.Batch{CalledNumbers: []fbdata.CalledNumber{{Number: "good;5035550100", VoiceError: true}}},
			fbdata.ErrInvalid, []string{`calledNumbers[0] (number "good;5035550100")`}},
		{"a DID of a missing account", fbdata.Batch{
			DIDs:          []fbdata.DID{{Number: "100", Account: "ghost"}},
			CalledNumbers: []fbdata.CalledNumber{{Number: "5035550100", FaxVerified: true}},
		}, fbdata.ErrConflict, []string{"dids[0]", "ghost"}},
	} {
		err := s.Apply(ctx, tt.b)
		assertError(t, "Apply("+tt.name+")", err, tt.want)
		assertMentions(t, "Apply("+tt.name+")", err, tt.mentions...)
		assertAccountAbsent(t, s, "good")
		assertDIDAbsent(t, s, "100")
		assertCalledNumberAbsent(t, s, "5035550100")
		assertCalledNumberAbsent(t, s, "5035550101")
		if got, err := s.ListCalledNumbers(ctx, "", 10); err != nil || len(got) != 0 {
			t.Errorf("after Apply(%s): ListCalledNumbers = %+v, %v; want none", tt.name, got, err)
		}
	}
}
