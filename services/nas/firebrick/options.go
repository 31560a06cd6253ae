package firebrick

import (
	"fmt"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"kradius.dev/services/nas"
	"kradius.dev/services/nas/firebrick/nonce"
)

// Challenge modes: who issues the digest challenge to an unauthenticated
// SIP request.
const (
	// ChallengeFireBrick answers with an empty Access-Challenge: the FB2700
	// fills in the challenge itself (seed, "Tip").
	ChallengeFireBrick = "firebrick"
	// ChallengeKradius answers with Digest-Realm and a Digest-Nonce signed
	// under the key every edge shares.
	ChallengeKradius = "kradius"
)

// Which attribute carries a REGISTER's number binding in the Accept.
const (
	// BindCalled is Called-Station-Id, as the seed's prose says.
	BindCalled = "called-station-id"
	// BindCalling is Calling-Station-Id, as the manual's table says.
	BindCalling = "calling-station-id"
)

// Options are a firebrick client's options (its `firebrick:` block). The
// zero values take the defaults documented on each.
type Options struct {
	// SIPAORAttribute is the number SIP-AOR travels as: 121 in every
	// FireBrick manual (the default), 122 in RFC 5090.
	SIPAORAttribute int `yaml:"sip_aor_attribute"`
	// Challenge is ChallengeFireBrick (the default) or ChallengeKradius.
	Challenge string `yaml:"challenge"`
	// Realm is the Digest-Realm of kradius's challenges.
	Realm string `yaml:"realm"`
	// NonceKeyFile holds the key nonces are signed under (at least 32
	// bytes), the same file on every edge: a Kubernetes Secret. Required
	// with ChallengeKradius.
	NonceKeyFile string `yaml:"nonce_key_file"`
	// NonceTTL is how long a nonce is accepted; default 5 minutes. An older
	// one gets a new challenge with Digest-Stale.
	NonceTTL time.Duration `yaml:"nonce_ttl"`
	// RegisterBinding is the attribute of a REGISTER Accept that binds the
	// user's number: BindCalled (the default, the seed's prose) or
	// BindCalling (the manual's table).
	RegisterBinding string `yaml:"register_binding"`
	// MaxRegistration caps the Session-Timeout of a REGISTER Accept;
	// default one hour. The Expires a phone asks for is granted up to it.
	MaxRegistration time.Duration `yaml:"max_registration"`

	// signer signs and checks nonces, with ChallengeKradius.
	signer *nonce.Signer
}

// Defaults of Options.
const (
	defaultNonceTTL        = 5 * time.Minute
	defaultMaxRegistration = time.Hour
)

func decodeOptions(block *yaml.Node) (any, error) {
	o := Options{}
	if err := nas.DecodeOptions(block, &o); err != nil {
		return nil, err
	}
	bad := func(key, format string, args ...any) error {
		return &nas.OptionError{Key: key, Reason: fmt.Sprintf(format, args...)}
	}
	switch o.SIPAORAttribute {
	case 0:
		o.SIPAORAttribute = 121
	case 121, 122:
	default:
		return nil, bad("sip_aor_attribute", "%d is not 121 (the FireBrick manuals) or 122 (RFC 5090)", o.SIPAORAttribute)
	}
	switch o.RegisterBinding {
	case "":
		o.RegisterBinding = BindCalled
	case BindCalled, BindCalling:
	default:
		return nil, bad("register_binding", "%q is not %s or %s", o.RegisterBinding, BindCalled, BindCalling)
	}
	if o.MaxRegistration == 0 {
		o.MaxRegistration = defaultMaxRegistration
	}
	if o.MaxRegistration < time.Second {
		return nil, bad("max_registration", "%s: at least 1s", o.MaxRegistration)
	}
	if o.NonceTTL == 0 {
		o.NonceTTL = defaultNonceTTL
	}
	switch o.Challenge {
	case "":
		o.Challenge = ChallengeFireBrick
	case ChallengeFireBrick:
	case ChallengeKradius:
		if o.Realm == "" {
			return nil, bad("realm", "required with challenge: %s", ChallengeKradius)
		}
		if o.NonceKeyFile == "" {
			return nil, bad("nonce_key_file", "required with challenge: %s: a file of at least %d bytes, the same on every edge", ChallengeKradius, nonce.MinKeyBytes)
		}
		key, err := os.ReadFile(o.NonceKeyFile)
		if err != nil {
			return nil, bad("nonce_key_file", "%v", err)
		}
		if o.signer, err = nonce.New(key, o.NonceTTL); err != nil {
			return nil, bad("nonce_key_file", "%v", err)
		}
	default:
		return nil, bad("challenge", "%q is not %s or %s", o.Challenge, ChallengeFireBrick, ChallengeKradius)
	}
	return o, nil
}
