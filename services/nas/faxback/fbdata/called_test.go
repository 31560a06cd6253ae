package fbdata

import (
	"strings"
	"testing"
	"time"
)

func TestCalledNumberRecord(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("PST", -8*3600))
	tests := []struct {
		name    string
		results []CallResult
		want    CalledNumber // Number and Updated are checked apart
	}{
		{"success", []CallResult{CallSuccess}, CalledNumber{FaxVerified: true}},
		{"fax error still verifies the number", []CallResult{CallFaxError}, CalledNumber{FaxVerified: true}},
		{"voice error", []CallResult{CallVoiceError}, CalledNumber{VoiceError: true}},
		{"voice error is never cleared", []CallResult{CallVoiceError, CallSuccess, CallFaxError}, CalledNumber{FaxVerified: true, VoiceError: true}},
		{"a later voice error keeps the verification", []CallResult{CallSuccess, CallVoiceError}, CalledNumber{FaxVerified: true, VoiceError: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := CalledNumber{Number: "5035550100"}
			for _, r := range tt.results {
				var err error
				if c, err = c.Record(r, now); err != nil {
					t.Fatalf("Record(%d): %v", r, err)
				}
			}
			if c.FaxVerified != tt.want.FaxVerified || c.VoiceError != tt.want.VoiceError {
				t.Errorf("after %v: %+v, want FaxVerified %t, VoiceError %t", tt.results, c, tt.want.FaxVerified, tt.want.VoiceError)
			}
			if c.Number != "5035550100" || !c.Updated.Equal(now) || c.Updated.Location() != time.UTC {
				t.Errorf("after %v: number %q, updated %v; want the number kept and %v in UTC", tt.results, c.Number, c.Updated, now)
			}
		})
	}
}

func TestCalledNumberRecordInvalid(t *testing.T) {
	tests := []struct {
		name    string
		number  string
		result  CallResult
		field   string
		message string
	}{
		{"empty number", "", CallSuccess, "number", "invalid: number: must not be empty"},
		{"bad UTF-8", "\xff", CallSuccess, "number", "invalid: number: not valid UTF-8"},
		{"oversized", strings.Repeat("5", 248), CallSuccess, "number", "invalid: number: is 248 bytes, more than one attribute carries (247)"},
		{"result 3", "5035550100", 3, "result", "invalid: result: 3 is not an FB-Called-Number-Result (0, 1, 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := CalledNumber{Number: tt.number}.Record(tt.result, time.Now())
			checkFieldError(t, err, tt.field, tt.message)
			if c != (CalledNumber{}) {
				t.Errorf("Record returned %+v with an error, want the zero value", c)
			}
		})
	}
}

func TestCalledNumberValidate(t *testing.T) {
	for _, c := range []CalledNumber{
		{Number: "5035550100", FaxVerified: true},
		{Number: "5035550100", VoiceError: true},
		{Number: "5035550100", FaxVerified: true, VoiceError: true},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", c, err)
		}
	}
	tests := []struct {
		name    string
		c       CalledNumber
		field   string
		message string
	}{
		{"empty number", CalledNumber{FaxVerified: true}, "number", "invalid: number: must not be empty"},
		{"bad UTF-8", CalledNumber{Number: "\xff", FaxVerified: true}, "number", "invalid: number: not valid UTF-8"},
		{"oversized", CalledNumber{Number: strings.Repeat("5", 248), VoiceError: true}, "number", "invalid: number: is 248 bytes, more than one attribute carries (247)"},
		{"send on behalf of", CalledNumber{Number: "other;5035550100", FaxVerified: true}, "number",
			`invalid: number: "other;5035550100" holds a ';': a number is stored without the "account;" of a send on behalf of`},
		{"nothing known", CalledNumber{Number: "5035550100"}, "faxVerified",
			"invalid: faxVerified: neither faxVerified nor voiceError is set: such an entry says no more than an unknown number; delete the number instead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFieldError(t, tt.c.Validate(), tt.field, tt.message)
		})
	}
}
