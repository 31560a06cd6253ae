package store

import (
	"time"
	"unicode/utf8"
)

// Record returns c after one FB-Called-Number-Result for c.Number, at now.
// Every backend applies results through it, so the rules below hold alike:
//
//   - Success and FaxError set FaxVerified: a fax device answered, even if
//     the fax then failed;
//   - VoiceError sets VoiceError, which nothing clears, since the number may
//     be a shared voice/fax line (seed: "Fax ATA Call-Ahead").
//
// An empty or oversized number, or a result the seed does not define, is a
// *FieldError.
func (c CalledNumber) Record(r CallResult, now time.Time) (CalledNumber, error) {
	switch {
	case c.Number == "":
		return CalledNumber{}, invalid("number", "must not be empty")
	case !utf8.ValidString(c.Number):
		return CalledNumber{}, invalid("number", "not valid UTF-8")
	case len(c.Number) > MaxVendorAttributeBytes:
		// FB-Dial-Number is where the number comes from.
		return CalledNumber{}, invalid("number", "is %d bytes, more than one attribute carries (%d)", len(c.Number), MaxVendorAttributeBytes)
	}
	switch r {
	case CallSuccess, CallFaxError:
		c.FaxVerified = true
	case CallVoiceError:
		c.VoiceError = true
	default:
		return CalledNumber{}, invalid("result", "%d is not an FB-Called-Number-Result (0, 1, 2)", r)
	}
	c.Updated = now.UTC()
	return c, nil
}
