package fbdata

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// ParseUUID reads a UUID in the two text formats a FaxBack port server in
// UUID mode may use (seed: "UUID Mode"):
//
//   - Hex string: "0x" and 32 hex digits, e.g. "0x05A32765C400499390D835289F96988A";
//   - Dash string: 8-4-4-4-12 hex digits, e.g. "05A32765-C400-4993-90D8-35289F96988A".
//
// Hex digits may be of either case. The third format, 16 raw bytes, exists
// only on the wire (the faxback profile reads it): in a file any 16-character
// string would silently pass for a UUID.
func ParseUUID(s string) ([16]byte, error) {
	var u [16]byte
	var digits string
	switch len(s) {
	case 34:
		if s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
			return u, fmt.Errorf("%q is not a UUID: a 34-character UUID starts with 0x", s)
		}
		digits = s[2:]
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return u, fmt.Errorf("%q is not a UUID: want 8-4-4-4-12 hex digits", s)
		}
		digits = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	default:
		return u, fmt.Errorf("%q is not a UUID: want 0x and 32 hex digits, or 8-4-4-4-12 hex digits; got %d bytes", s, len(s))
	}
	for i := range len(digits) {
		if !isHexDigit(digits[i]) {
			return u, fmt.Errorf("%q is not a UUID: %q is not a hex digit", s, digits[i])
		}
	}
	// Every byte is a hex digit and there are 32 of them, so this cannot fail.
	_, _ = hex.Decode(u[:], []byte(digits))
	return u, nil
}

// FormatUUID returns the canonical form of u, which the store keeps: lower
// case, dashed.
func FormatUUID(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return strings.Join([]string{h[:8], h[8:12], h[12:16], h[16:20], h[20:]}, "-")
}

// NewUUID returns a random (version 4) UUID in canonical form.
func NewUUID() string {
	var u [16]byte
	// crypto/rand.Read does not fail on supported platforms; it crashes the
	// program instead.
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return FormatUUID(u)
}

// canonicalUUID is FormatUUID(ParseUUID(s)), or s itself when it does not
// parse; Validate reports that case.
func canonicalUUID(s string) string {
	u, err := ParseUUID(s)
	if err != nil {
		return s
	}
	return FormatUUID(u)
}
