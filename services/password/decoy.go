package password

import (
	"crypto/rand"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// Decoy stands in for the stored hash of a login that has none to check, an
// unknown name or an account without a password. Verifying the password
// against it costs what verifying against a real hash of the same Params
// does, so that how long a Reject takes does not tell whether the name
// exists. Its verdict means nothing and must be ignored: the key is random,
// not derived from any password. It is safe for concurrent use.
type Decoy struct {
	prefix, key string
	salts       *Digester
}

// NewDecoy returns a Decoy costing what a hash made by Hash under p costs to
// verify.
func NewDecoy(p Params) (*Decoy, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("decoy hash: %w", err)
	}
	key := make([]byte, keyLen)
	// crypto/rand.Read does not fail on supported platforms; it crashes the
	// program instead.
	_, _ = rand.Read(key)
	return &Decoy{
		prefix: fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$", argon2.Version, p.Memory, p.Time, p.Threads),
		key:    "$" + b64.EncodeToString(key),
		salts:  NewDigester(),
	}, nil
}

// Hash is the decoy's encoded hash for name. Each name has a salt of its
// own, stable for the decoy's life, so that a Verifier caches decoy checks
// per name and password as it does real ones. With one salt for all, a
// password tried once would come back from the cache for every unknown name
// after it, and only a known name would make it wait for argon2.
func (d *Decoy) Hash(name string) string {
	sum := d.salts.Sum(name, "")
	return d.prefix + b64.EncodeToString(sum[:saltLen]) + d.key
}

// DecoyFor is NewDecoy(p), or, for parameters Validate refuses, a decoy of
// DefaultParams: for a service that has no error to return when it is made
// (configuration validation stops such parameters first), a decoy of the
// usual cost beats none.
func DecoyFor(p Params) *Decoy {
	d, err := NewDecoy(p)
	if err != nil {
		d, _ = NewDecoy(DefaultParams)
	}
	return d
}

// Pretend checks pw against the decoy's hash for name with verify (a
// Verifier's Verify, VerifyContext or Cached) and discards the verdict:
// the work a login with no hash to check must cost. name is the key as
// the store folds it, so that a name's spellings share one cache entry,
// as they share one stored hash. The error is verify's when the check was
// not made (ErrNotCached, ErrOverloaded, a context's): a known name's
// answer would not have come then either, and an unknown name's must not
// come sooner. A decoy verify calls malformed, which it is not, must not
// turn a Reject into no answer, and is no error.
func (d *Decoy) Pretend(verify func(encoded, pw string) (bool, error), name, pw string) error {
	if _, err := verify(d.Hash(name), pw); err != nil && !errors.Is(err, ErrMalformed) {
		return err
	}
	return nil
}
