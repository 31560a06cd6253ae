package faxback

import (
	"encoding/hex"
	"strings"

	"kradius.dev/services/nas/faxback/fbdata"
)

// UUIDFormat is how a port server in UUID mode writes FB-Account-UUID
// (seed: "UUID Mode"). The empty format means UUID mode is off.
type UUIDFormat string

const (
	UUIDOff    UUIDFormat = ""
	UUIDBinary UUIDFormat = "binary" // 16 raw bytes
	UUIDHex    UUIDFormat = "hex"    // "0x05A32765C400499390D835289F96988A"
	UUIDDash   UUIDFormat = "dash"   // "05A32765-C400-4993-90D8-35289F96988A"
)

// encodeUUID writes a stored (canonical) UUID in the client's format, upper
// case as the seed prints it.
func encodeUUID(canonical string, f UUIDFormat) ([]byte, error) {
	u, err := fbdata.ParseUUID(canonical)
	if err != nil {
		return nil, err
	}
	switch f {
	case UUIDBinary:
		return u[:], nil
	case UUIDHex:
		return []byte("0x" + strings.ToUpper(hex.EncodeToString(u[:]))), nil
	default:
		return []byte(strings.ToUpper(fbdata.FormatUUID(u))), nil
	}
}

// decodeUUID reads FB-Account-UUID in any of the three formats, whatever the
// client's configured one, since the value says which it is: 16 bytes are
// binary, the text forms are 34 and 36 bytes long. (Only the wire carries
// binary UUIDs; files and the store take the text forms.)
func decodeUUID(b []byte) (string, error) {
	if len(b) == 16 {
		return fbdata.FormatUUID([16]byte(b)), nil
	}
	u, err := fbdata.ParseUUID(string(b))
	if err != nil {
		return "", err
	}
	return fbdata.FormatUUID(u), nil
}
