package nas

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

// ErrNoPassword means the request carries no User-Password.
var ErrNoPassword = errors.New("no User-Password")

// PAPPassword decodes User-Password (RFC 2865 §5.2).
//
// A request without Message-Authenticator cannot prove its secret, and a
// wrong secret decodes to noise. Rejecting noise would be a false
// Access-Reject, so noise — non-zero padding, invalid UTF-8 or control
// characters — is reported as a bad-authenticator drop instead.
func PAPPassword(p *radius.Packet) (string, error) {
	enc, ok := p.Attributes.Lookup(rfc2865.UserPassword_Type)
	if !ok {
		return "", ErrNoPassword
	}
	if len(enc) < 16 || len(enc) > 128 || len(enc)%16 != 0 {
		return "", &Drop{Reason: ReasonMalformed, Err: fmt.Errorf("User-Password is %d bytes, not a multiple of 16 in 16..128", len(enc))}
	}
	plain := make([]byte, len(enc))
	last := p.Authenticator[:]
	for i := 0; i < len(enc); i += 16 {
		h := md5.New()
		h.Write(p.Secret)
		h.Write(last)
		b := h.Sum(nil)
		for j := range 16 {
			plain[i+j] = enc[i+j] ^ b[j]
		}
		last = enc[i : i+16]
	}
	pw := plain
	if n := bytes.IndexByte(plain, 0); n >= 0 {
		pw = plain[:n]
		if bytes.ContainsFunc(plain[n:], func(r rune) bool { return r != 0 }) {
			return "", wrongSecret("non-zero padding")
		}
	}
	if !utf8.Valid(pw) {
		return "", wrongSecret("invalid UTF-8")
	}
	if bytes.ContainsFunc(pw, unicode.IsControl) {
		return "", wrongSecret("control characters")
	}
	return string(pw), nil
}

func wrongSecret(why string) error {
	return &Drop{Reason: ReasonBadAuthenticator, Err: fmt.Errorf("User-Password decodes to noise (%s): wrong shared secret?", why)}
}
