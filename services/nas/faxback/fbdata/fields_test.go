package fbdata

import (
	"encoding/json"
	"testing"

	"kradius.dev/services/fieldtest"
)

// Both backends keep records as their JSON (bbolt values, Redis strings),
// so a field encoding/json does not carry would be lost on every write.
func TestRecordsKeepEveryFieldInJSON(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rec, out any
	}{
		{"Account", &Account{}, &Account{}},
		{"DID", &DID{}, &DID{}},
		{"CalledNumber", &CalledNumber{}, &CalledNumber{}},
	} {
		fieldtest.Fill(t, tc.rec)
		b, err := json.Marshal(tc.rec)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, tc.out); err != nil {
			t.Fatal(err)
		}
		fieldtest.RequireEqual(t, tc.name+" through JSON", tc.rec, tc.out, nil)
	}
}
