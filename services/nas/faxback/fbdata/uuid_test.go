package fbdata

import (
	"fmt"
	"regexp"
	"testing"
)

func TestParseUUID(t *testing.T) {
	want := [16]byte{0x05, 0xa3, 0x27, 0x65, 0xc4, 0x00, 0x49, 0x93, 0x90, 0xd8, 0x35, 0x28, 0x9f, 0x96, 0x98, 0x8a}
	tests := []struct {
		name, in string
		err      string // empty: parses to want
	}{
		{"binary is for the wire only", string(want[:]), fmt.Sprintf("%q is not a UUID: want 0x and 32 hex digits, or 8-4-4-4-12 hex digits; got 16 bytes", want[:])},
		{"hex, the seed's spelling", "0x05A32765C400499390D835289F96988A", ""},
		{"hex, lower case", "0x05a32765c400499390d835289f96988a", ""},
		{"hex, upper-case X", "0X05A32765C400499390D835289F96988A", ""},
		{"dashed, the seed's spelling", "05A32765-C400-4993-90D8-35289F96988A", ""},
		{"dashed, lower case", "05a32765-c400-4993-90d8-35289f96988a", ""},
		{"empty", "", `"" is not a UUID: want 0x and 32 hex digits, or 8-4-4-4-12 hex digits; got 0 bytes`},
		{"hex without 0x", "0005A32765C400499390D835289F96988A", `"0005A32765C400499390D835289F96988A" is not a UUID: a 34-character UUID starts with 0x`},
		{"hex with a non-digit", "0x05A32765C400499390D835289F96988G", `"0x05A32765C400499390D835289F96988G" is not a UUID: 'G' is not a hex digit`},
		{"dashes misplaced", "05A32765C-400-4993-90D8-35289F96988A", `"05A32765C-400-4993-90D8-35289F96988A" is not a UUID: want 8-4-4-4-12 hex digits`},
		{"dashed with braces", "{05A32765-C400-4993-90D8-35289F9698}", `"{05A32765-C400-4993-90D8-35289F9698}" is not a UUID: want 8-4-4-4-12 hex digits`},
		{"dashed with a space", "05A32765-C400-4993-90D8-35289F96988 ", `"05A32765-C400-4993-90D8-35289F96988 " is not a UUID: ' ' is not a hex digit`},
		{"dashed with a sign", "+5A32765-C400-4993-90D8-35289F96988A", `"+5A32765-C400-4993-90D8-35289F96988A" is not a UUID: '+' is not a hex digit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseUUID(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Errorf("ParseUUID(%q) = %x, %v; want error %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != want {
				t.Errorf("ParseUUID(%q) = %x, %v; want %x", tt.in, got, err, want)
			}
		})
	}
}

func TestFormatUUID(t *testing.T) {
	u := [16]byte{0x05, 0xa3, 0x27, 0x65, 0xc4, 0x00, 0x49, 0x93, 0x90, 0xd8, 0x35, 0x28, 0x9f, 0x96, 0x98, 0x8a}
	if got, want := FormatUUID(u), "05a32765-c400-4993-90d8-35289f96988a"; got != want {
		t.Errorf("FormatUUID = %q, want %q", got, want)
	}
}

var v4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewUUID(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		u := NewUUID()
		if !v4.MatchString(u) {
			t.Fatalf("NewUUID() = %q, want a canonical version 4 UUID", u)
		}
		if seen[u] {
			t.Fatalf("NewUUID() repeated %q", u)
		}
		seen[u] = true
		if parsed, err := ParseUUID(u); err != nil || FormatUUID(parsed) != u {
			t.Fatalf("NewUUID() = %q does not round-trip: %v", u, err)
		}
	}
}
