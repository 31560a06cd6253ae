package fbdata

import (
	"strings"
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
	if err := c.validateNumber(); err != nil {
		return CalledNumber{}, err
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

// Validate reports the first problem with c as a record written whole (a
// provisioned entry), naming the field.
func (c CalledNumber) Validate() error {
	if err := c.validateNumber(); err != nil {
		return err
	}
	if strings.IndexByte(c.Number, ';') >= 0 {
		// Lookups drop a send-on-behalf-of "account;" first, so such an
		// entry would never be found.
		return invalid("number", "%q holds a ';': a number is stored without the \"account;\" of a send on behalf of", c.Number)
	}
	if !c.FaxVerified && !c.VoiceError {
		return invalid("faxVerified", "neither faxVerified nor voiceError is set: such an entry says no more than an unknown number; delete the number instead")
	}
	return nil
}

func (c CalledNumber) validateNumber() error {
	switch {
	case c.Number == "":
		return invalid("number", "must not be empty")
	case !utf8.ValidString(c.Number):
		return invalid("number", "not valid UTF-8")
	case len(c.Number) > MaxVendorAttributeBytes:
		// FB-Dial-Number is where the number comes from.
		return invalid("number", "is %d bytes, more than one attribute carries (%d)", len(c.Number), MaxVendorAttributeBytes)
	}
	return nil
}
