package password

import (
	"crypto/rand"
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
