package fbdata

import (
	"fmt"
	"strings"
)

// indexes lists every Index in the order backends check them, so that the
// first conflict reported is the same in every backend.
var indexes = []Index{IndexUUID, IndexMAC, IndexSerial, IndexSenderEmail}

// Field names the Account field idx reads, spelled as its JSON tag, or ""
// when idx is not an Index this package defines.
func (idx Index) Field() string {
	switch idx {
	case IndexUUID:
		return "uuid"
	case IndexMAC:
		return "macAddress"
	case IndexSerial:
		return "serialNumber"
	case IndexSenderEmail:
		return "sndEmail"
	}
	return ""
}

func (idx Index) value(a Account) string {
	switch idx {
	case IndexUUID:
		return a.UUID
	case IndexMAC:
		return a.MACAddress
	case IndexSerial:
		return a.SerialNumber
	case IndexSenderEmail:
		return a.SndEmail
	}
	return ""
}

// IndexKey returns the key value is found under in idx, so that every
// spelling of one UUID or MAC address, and every case of one serial number or
// e-mail address, finds the same account:
//
//   - uuid: canonical form (see ParseUUID and FormatUUID);
//   - mac: 12 upper-case hex digits, with ':', '-' and '.' removed, so
//     "00:90:8f:1d:37:f0" and "0090.8f1d.37f0" are "00908F1D37F0" as the
//     port server sends it;
//   - serial and sender-email: Fold.
//
// The error wraps ErrInvalid for an unknown index, an empty value, or a UUID
// or MAC address that does not parse.
func IndexKey(idx Index, value string) (string, error) {
	if idx.Field() == "" {
		return "", fmt.Errorf("%w: unknown index %q", ErrInvalid, idx)
	}
	if value == "" {
		return "", fmt.Errorf("%w: empty %s", ErrInvalid, idx)
	}
	switch idx {
	case IndexUUID:
		u, err := ParseUUID(value)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return FormatUUID(u), nil
	case IndexMAC:
		mac, err := normalizeMAC(value)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return mac, nil
	}
	return Fold(value), nil
}

// normalizeMAC drops the separators of the usual notations and checks that
// what remains is a 48-bit address.
func normalizeMAC(s string) (string, error) {
	mac := strings.Map(func(r rune) rune {
		if r == ':' || r == '-' || r == '.' {
			return -1
		}
		return r
	}, s)
	if len(mac) != 12 {
		return "", fmt.Errorf("MAC address %q: want 12 hex digits, got %d characters besides separators", s, len(mac))
	}
	for i := range len(mac) {
		if !isHexDigit(mac[i]) {
			return "", fmt.Errorf("MAC address %q: %q is not a hex digit", s, mac[i])
		}
	}
	return strings.ToUpper(mac), nil
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// IndexEntry is one key under which an account is found.
type IndexEntry struct {
	Index Index
	Key   string
}

// IndexEntries returns the keys a is found under, one per non-empty indexed
// field, in a fixed order (uuid, mac, serial, sender-email). A field whose
// value IndexKey rejects is skipped; Validate rejects such an account.
func (a Account) IndexEntries() []IndexEntry {
	var entries []IndexEntry
	for _, idx := range indexes {
		key, err := IndexKey(idx, idx.value(a))
		if err != nil {
			continue
		}
		entries = append(entries, IndexEntry{Index: idx, Key: key})
	}
	return entries
}
