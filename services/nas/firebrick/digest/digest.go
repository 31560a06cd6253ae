// Package digest checks HTTP Digest responses (RFC 2617, as SIP uses them
// and RFC 5090 carries them in RADIUS) against a stored HA1, so that the
// server never keeps a SIP password: HA1 is MD5(user:realm:password).
package digest

import (
	"crypto/md5" //nolint:gosec // RFC 2617 digest is MD5; nothing here relies on MD5 resisting collisions.
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrMalformed is a request whose attributes cannot be checked: a
	// field missing, or not of its form.
	ErrMalformed = errors.New("malformed digest")
	// ErrUnsupported is an algorithm or qop this package does not know.
	ErrUnsupported = errors.New("unsupported digest")
	// ErrWrongResponse is a well-formed response that does not match.
	ErrWrongResponse = errors.New("digest response does not match")
)

// Request is what a digest response is checked with: the Digest-*
// attributes of an Access-Request (RFC 5090).
type Request struct {
	Method     string // Digest-Method: the SIP method
	URI        string // Digest-URI
	Nonce      string // Digest-Nonce
	NonceCount string // Digest-Nonce-Count: 8 hex digits, with a qop
	CNonce     string // Digest-CNonce, with a qop
	QOP        string // Digest-Qop: "", "auth" or "auth-int"
	Algorithm  string // Digest-Algorithm: "", "MD5" or "MD5-sess"
	// BodyHash is Digest-Entity-Body-Hash, H(entity-body) in hex, for
	// qop auth-int.
	BodyHash string
	// Response is Digest-Response: 32 hex digits.
	Response string
}

// HA1 is MD5(user:realm:password) in lower-case hex, what a SIP user's
// password is stored as.
func HA1(user, realm, password string) string {
	sum := md5.Sum([]byte(user + ":" + realm + ":" + password)) //nolint:gosec // see the import
	return hex.EncodeToString(sum[:])
}

// ValidHA1 says whether ha1 is an HA1 as stored: 32 hex digits.
func ValidHA1(ha1 string) bool { return isHex(ha1, 32) }

// Verify checks r's response against ha1 (32 hex digits): nil if it
// matches, an error wrapping ErrWrongResponse if not, ErrMalformed or
// ErrUnsupported if it cannot be checked.
func Verify(ha1 string, r Request) error {
	if err := r.check(); err != nil {
		return err
	}
	if !ValidHA1(ha1) {
		return fmt.Errorf("%w: the stored HA1 is not 32 hex digits", ErrMalformed)
	}
	want := Response(strings.ToLower(ha1), r)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(r.Response))) != 1 {
		return ErrWrongResponse
	}
	return nil
}

// Response computes the expected response to r for ha1 (lower-case hex),
// for a request that passed its checks.
func Response(ha1 string, r Request) string {
	if strings.EqualFold(r.Algorithm, "MD5-sess") {
		ha1 = md5Hex(ha1, ":", r.Nonce, ":", r.CNonce)
	}
	var ha2 string
	if strings.EqualFold(r.QOP, "auth-int") {
		ha2 = md5Hex(r.Method, ":", r.URI, ":", strings.ToLower(r.BodyHash))
	} else {
		ha2 = md5Hex(r.Method, ":", r.URI)
	}
	if r.QOP == "" {
		return md5Hex(ha1, ":", r.Nonce, ":", ha2) // RFC 2069 compatibility
	}
	return md5Hex(ha1, ":", r.Nonce, ":", r.NonceCount, ":", r.CNonce, ":", strings.ToLower(r.QOP), ":", ha2)
}

// check says why r cannot be checked, naming the attribute.
func (r Request) check() error {
	missing := func(attr string) error { return fmt.Errorf("%w: %s missing", ErrMalformed, attr) }
	switch {
	case r.Method == "":
		return missing("Digest-Method")
	case r.URI == "":
		return missing("Digest-URI")
	case r.Nonce == "":
		return missing("Digest-Nonce")
	case !isHex(r.Response, 32):
		return fmt.Errorf("%w: Digest-Response %q is not 32 hex digits", ErrMalformed, r.Response)
	}
	switch {
	case r.Algorithm == "", strings.EqualFold(r.Algorithm, "MD5"):
	case strings.EqualFold(r.Algorithm, "MD5-sess"):
		if r.CNonce == "" {
			return missing("Digest-CNonce (MD5-sess)")
		}
	default:
		return fmt.Errorf("%w: Digest-Algorithm %q (MD5 and MD5-sess are)", ErrUnsupported, r.Algorithm)
	}
	switch {
	case r.QOP == "":
		return nil
	case strings.EqualFold(r.QOP, "auth"):
	case strings.EqualFold(r.QOP, "auth-int"):
		if !isHex(r.BodyHash, 32) {
			return fmt.Errorf("%w: Digest-Entity-Body-Hash %q is not 32 hex digits (qop auth-int)", ErrMalformed, r.BodyHash)
		}
	default:
		return fmt.Errorf("%w: Digest-Qop %q (auth and auth-int are)", ErrUnsupported, r.QOP)
	}
	switch {
	case r.CNonce == "":
		return missing("Digest-CNonce")
	case !isHex(r.NonceCount, 8):
		return fmt.Errorf("%w: Digest-Nonce-Count %q is not 8 hex digits", ErrMalformed, r.NonceCount)
	}
	return nil
}

func md5Hex(parts ...string) string {
	h := md5.New() //nolint:gosec // see the import
	for _, p := range parts {
		h.Write([]byte(p))
	}
	var sum [md5.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
