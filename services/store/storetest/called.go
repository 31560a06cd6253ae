package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"kradius.dev/services/store"
)

var calledNumberTests = []test{
	{"CalledNumberResults", testCalledNumberResults},
	{"CalledNumberInvalid", testCalledNumberInvalid},
	{"CalledNumberConcurrent", testCalledNumberConcurrent},
}

func testCalledNumberResults(t *testing.T, s store.Store, _ store.Options) {
	tests := []struct {
		name                    string
		results                 []store.CallResult
		faxVerified, voiceError bool
	}{
		{"success", []store.CallResult{store.CallSuccess}, true, false},
		{"fax error", []store.CallResult{store.CallFaxError}, true, false},
		{"voice error", []store.CallResult{store.CallVoiceError}, false, true},
		{"voice error then successes", []store.CallResult{store.CallVoiceError, store.CallSuccess, store.CallFaxError}, true, true},
		{"success then voice error", []store.CallResult{store.CallSuccess, store.CallVoiceError}, true, true},
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

func testCalledNumberInvalid(t *testing.T, s store.Store, _ store.Options) {
	for _, tt := range []struct {
		name   string
		number string
		result store.CallResult
	}{
		{"empty number", "", store.CallSuccess},
		{"result 3", "5035550100", 3},
	} {
		err := s.RecordCalledNumber(t.Context(), tt.number, tt.result)
		assertError(t, "RecordCalledNumber("+tt.name+")", err, store.ErrInvalid)
	}
	_, err := s.GetCalledNumber(t.Context(), "5035550100")
	assertError(t, "GetCalledNumber after a refused result", err, store.ErrNotFound)
}

func testCalledNumberConcurrent(t *testing.T, s store.Store, _ store.Options) {
	// Stops for one number arrive at once from many port servers; a
	// read-modify-write that loses an update would lose the voice error.
	const workers, rounds = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				r := store.CallSuccess
				if w == 0 && i == rounds/2 {
					r = store.CallVoiceError
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
