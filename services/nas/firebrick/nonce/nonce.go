// Package nonce issues and checks the Digest-Nonce values kradius puts in
// an Access-Challenge. They are stateless: each carries its expiry and an
// HMAC under a key every edge shares, so the answer to a challenge may
// reach any edge pod, and no edge remembers what it issued.
package nonce

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

var (
	// ErrStale is a nonce this key issued that has expired: the phone
	// should be challenged again with Digest-Stale, not rejected.
	ErrStale = errors.New("stale nonce")
	// ErrForged is a nonce this key did not issue.
	ErrForged = errors.New("forged nonce")
)

const (
	// MinKeyBytes is the shortest key accepted: a key is a secret, and a
	// short one could be guessed from the nonces it signs.
	MinKeyBytes = 32
	randBytes   = 12
	macBytes    = 16 // HMAC-SHA-256, truncated: 128 bits are plenty for a nonce's life
	rawBytes    = 8 + randBytes + macBytes
)

// b64 is URL-safe without padding: a nonce goes into a quoted SIP header.
var b64 = base64.RawURLEncoding

// Signer issues and checks nonces under one key.
type Signer struct {
	key []byte
	ttl time.Duration
}

// New is a Signer whose nonces live ttl, under key (at least MinKeyBytes).
func New(key []byte, ttl time.Duration) (*Signer, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("nonce key: %d bytes, at least %d", len(key), MinKeyBytes)
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("nonce lifetime %s: must be positive", ttl)
	}
	return &Signer{key: append([]byte(nil), key...), ttl: ttl}, nil
}

// Issue returns a new nonce, valid until now plus the lifetime.
func (s *Signer) Issue(now time.Time) (string, error) {
	var raw [rawBytes]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(now.Add(s.ttl).Unix()))
	if _, err := rand.Read(raw[8 : 8+randBytes]); err != nil {
		return "", fmt.Errorf("nonce: %w", err)
	}
	copy(raw[8+randBytes:], s.mac(raw[:8+randBytes]))
	return b64.EncodeToString(raw[:]), nil
}

// Check says whether nonce was issued under this key and is still live at
// now: nil, ErrStale or ErrForged.
func (s *Signer) Check(nonce string, now time.Time) error {
	raw, err := b64.DecodeString(nonce)
	if err != nil || len(raw) != rawBytes {
		return ErrForged
	}
	if !hmac.Equal(raw[8+randBytes:], s.mac(raw[:8+randBytes])) {
		return ErrForged
	}
	if now.Unix() >= int64(binary.BigEndian.Uint64(raw[:8])) {
		return ErrStale
	}
	return nil
}

func (s *Signer) mac(b []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(b)
	return m.Sum(nil)[:macBytes]
}
