// Package password hashes PAP passwords with argon2id and verifies them, with
// an optional in-memory cache (Verifier) so the login rate is not bounded by
// argon2's deliberate cost.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters. They are written into every
// encoded hash, so changing them affects new hashes only.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
}

// DefaultParams is the OWASP Password Storage Cheat Sheet's argon2id
// configuration (19 MiB, 2 passes, 1 thread).
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1}

// ErrMalformed means an encoded hash is not an argon2id PHC string this
// package can verify.
var ErrMalformed = errors.New("malformed password hash")

const (
	saltLen = 16
	keyLen  = 32

	// The limits below apply to decoding as well as hashing: an encoded hash
	// comes from provisioning, and one with absurd costs must not be able to
	// stall or exhaust the server on every login.
	maxMemory  = 1 << 20 // KiB, i.e. 1 GiB
	maxTime    = 64
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// b64 is the PHC string encoding: standard alphabet, no padding.
var b64 = base64.RawStdEncoding

// Validate reports why p cannot be used, or nil. The same limits apply when
// Verify decodes a hash, so anything Hash accepts, Verify accepts.
func (p Params) Validate() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("t=%d: time must be 1 to %d", p.Time, maxTime)
	case p.Threads < 1:
		return fmt.Errorf("p=%d: threads must be at least 1", p.Threads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		// argon2 silently raises memory below 8 KiB per thread; refusing it
		// keeps the encoded m equal to the memory actually used.
		return fmt.Errorf("m=%d: memory must be %d to %d KiB with %d threads", p.Memory, 8*uint32(p.Threads), maxMemory, p.Threads)
	}
	return nil
}

// Hash returns the PHC string of pw under p with a fresh random salt, e.g.
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func Hash(pw string, p Params) (string, error) {
	if err := p.Validate(); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: read salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether pw matches encoded, using the parameters, salt and
// key length recorded in encoded. The error is non-nil only when encoded
// cannot be verified at all (wrapping ErrMalformed); a wrong password is
// (false, nil).
func Verify(encoded, pw string) (bool, error) {
	h, err := decode(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(pw), h.salt, h.params.Time, h.params.Memory, h.params.Threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// ParseParams returns the parameters encoded was made with, or an error
// wrapping ErrMalformed if Verify could not use it. Provisioning calls it to
// reject a bad passwordHash before it is stored.
func ParseParams(encoded string) (Params, error) {
	h, err := decode(encoded)
	if err != nil {
		return Params{}, err
	}
	return h.params, nil
}

type decoded struct {
	params    Params
	salt, key []byte
}

// decode parses a PHC string. Errors name the faulty part but never echo the
// salt or key, since messages end up in logs.
func decode(encoded string) (decoded, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return decoded{}, fmt.Errorf("%w: want $argon2id$v=19$m=,t=,p=$salt$key, got %d $-separated fields", ErrMalformed, len(parts)-1)
	}
	if parts[1] != "argon2id" {
		return decoded{}, fmt.Errorf("%w: algorithm %q is not supported, only argon2id", ErrMalformed, parts[1])
	}
	if want := "v=" + strconv.Itoa(argon2.Version); parts[2] != want {
		return decoded{}, fmt.Errorf("%w: version %q is not supported, only %s", ErrMalformed, parts[2], want)
	}
	p, err := decodeParams(parts[3])
	if err != nil {
		return decoded{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return decoded{}, fmt.Errorf("%w: salt is not unpadded base64: %w", ErrMalformed, err)
	}
	if len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return decoded{}, fmt.Errorf("%w: salt is %d bytes, want %d to %d", ErrMalformed, len(salt), minSaltLen, maxSaltLen)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return decoded{}, fmt.Errorf("%w: key is not unpadded base64: %w", ErrMalformed, err)
	}
	if len(key) < minKeyLen || len(key) > maxKeyLen {
		return decoded{}, fmt.Errorf("%w: key is %d bytes, want %d to %d", ErrMalformed, len(key), minKeyLen, maxKeyLen)
	}
	return decoded{params: p, salt: salt, key: key}, nil
}

// decodeParams accepts m, t and p exactly once each, in any order.
func decodeParams(s string) (Params, error) {
	var p Params
	var seen [3]bool
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return Params{}, fmt.Errorf("parameters %q: want m=,t=,p=", s)
	}
	for _, f := range fields {
		name, value, ok := strings.Cut(f, "=")
		if !ok {
			return Params{}, fmt.Errorf("parameter %q: want name=value", f)
		}
		var i, bits int
		switch name {
		case "m":
			i, bits = 0, 32
		case "t":
			i, bits = 1, 32
		case "p":
			i, bits = 2, 8
		default:
			return Params{}, fmt.Errorf("parameter %q is not supported", name)
		}
		if seen[i] {
			return Params{}, fmt.Errorf("parameter %q is repeated", name)
		}
		seen[i] = true
		// PHC decimals have no leading zeros; ParseUint would accept them,
		// letting two spellings of one hash exist.
		if len(value) > 1 && value[0] == '0' {
			return Params{}, fmt.Errorf("parameter %s=%q: leading zero", name, value)
		}
		n, err := strconv.ParseUint(value, 10, bits)
		if err != nil {
			return Params{}, fmt.Errorf("parameter %s=%q: %w", name, value, err)
		}
		switch i {
		case 0:
			p.Memory = uint32(n)
		case 1:
			p.Time = uint32(n)
		case 2:
			p.Threads = uint8(n)
		}
	}
	if err := p.Validate(); err != nil {
		return Params{}, err
	}
	return p, nil
}
