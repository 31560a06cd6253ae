package loadgen

import (
	"crypto/hmac"
	"crypto/md5"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math/rand/v2"

	"layeh.com/radius"
)

// encoder turns a template into the bytes of one request. Each socket has
// its own, used under the socket's lock, so nothing here is shared.
type encoder struct {
	secret []byte
	rng    *rand.ChaCha8 // Request Authenticators; seeded from crypto/rand, so unpredictable as RFC 2865 asks
	key    []byte        // secret followed by 16 bytes: the MD5 input that hides User-Password
	out    []byte        // the request being built; capacity for the secret after it
	mac    hash.Hash     // HMAC-MD5 under the secret, for Message-Authenticator
	sum    [md5.Size]byte
}

func newEncoder(secret []byte, maxLen int) *encoder {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // crypto/rand.Read never fails on Linux (Go ≥ 1.24 panics instead)
	return &encoder{
		secret: secret,
		rng:    rand.NewChaCha8(seed),
		key:    append(append([]byte{}, secret...), make([]byte, 16)...),
		out:    make([]byte, 0, maxLen+len(secret)),
		mac:    hmac.New(md5.New, secret),
	}
}

// encode builds t with Identifier id and, if t has them, Acct-Session-Id
// session and a Message-Authenticator. The result aliases e.out and is
// valid until the next call.
func (e *encoder) encode(t *template, id byte, session uint64) []byte {
	p := append(e.out[:0], t.raw...)
	p[1] = id
	if t.sessOff > 0 {
		putSessionID(p[t.sessOff:t.sessOff+sessionIDLen], session)
	}
	if radius.Code(p[0]) == radius.CodeAccountingRequest {
		// RFC 2866 §3: MD5 over the packet with a zero authenticator (the
		// template's), then the secret. Appending the secret within out's
		// capacity keeps this allocation-free.
		sum := md5.Sum(append(p, e.secret...))
		copy(p[4:20], sum[:])
		return p
	}
	_, _ = e.rng.Read(p[4:20]) // ChaCha8.Read never fails
	if t.pwOff > 0 {
		e.hidePassword(p[t.pwOff:t.pwOff+len(t.pw)], t.pw, p[4:20])
	}
	if t.maOff > 0 {
		// RFC 3579 §3.2: HMAC-MD5 over the whole request, Request
		// Authenticator included, with the value zero, as the template has it.
		e.mac.Reset()
		e.mac.Write(p)
		copy(p[t.maOff:t.maOff+messageAuthenticatorLen], e.mac.Sum(e.sum[:0]))
	}
	return p
}

// hidePassword is RFC 2865 §5.2: c(1) = p(1) xor MD5(S + RA),
// c(i) = p(i) xor MD5(S + c(i-1)).
func (e *encoder) hidePassword(dst, clear, authenticator []byte) {
	prev := authenticator
	for i := 0; i < len(clear); i += 16 {
		copy(e.key[len(e.secret):], prev)
		b := md5.Sum(e.key)
		for j := range 16 {
			dst[i+j] = clear[i+j] ^ b[j]
		}
		prev = dst[i : i+16]
	}
}

// putSessionID writes session as 16 hex digits.
func putSessionID(dst []byte, session uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], session)
	hex.Encode(dst, b[:])
}
