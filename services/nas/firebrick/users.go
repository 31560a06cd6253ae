// Package firebrick is the FireBrick FB2700 profile (see README.md): SIP
// approval with digest authentication, carriers, registrations, call
// routing by RADIUS, and one CDR per call.
package firebrick

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	firebrickv1 "kradius.dev/proto/kradius/firebrick/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/nas/firebrick/digest"
	"kradius.dev/services/password"
	"kradius.dev/services/store/records"
)

// KindUsers is the store name of the SIP users kind.
const KindUsers = "firebrick.users"

// Users is the SIP users kind, carried by the accounts target: their HA1s
// are checked there and never leave it.
var Users = nas.Kind{
	Name: "users",
	Key:  "name",
	Schema: &nas.Schema{
		Service: nas.ServiceAccounts,
		Message: &firebrickv1.User{},
		Fold:    strings.ToLower,
		Index:   indexUser,
		Import:  importUser,
		Redact:  func(m proto.Message) { m.(*firebrickv1.User).Ha1 = nil },
		Verify:  verifyUser,
	},
}

func indexUser(m proto.Message) (records.Record, error) {
	u := m.(*firebrickv1.User)
	name := u.GetName()
	switch {
	case name == "":
		return records.Record{}, errors.New("name: required")
	case len(name) > 253 || !utf8.ValidString(name) || strings.ContainsAny(name, ": \t"):
		return records.Record{}, fmt.Errorf("name: %q is not a SIP user name (UTF-8, at most 253 octets, no ':' or blanks)", name)
	case len(u.GetHa1()) == 0:
		return records.Record{}, fmt.Errorf("user %q: ha1 or passwords: at least one realm, or the user cannot register", name)
	}
	for _, realm := range slices.Sorted(maps.Keys(u.GetHa1())) {
		if realm == "" {
			return records.Record{}, fmt.Errorf("user %q: ha1: an empty realm", name)
		}
		if !digest.ValidHA1(u.GetHa1()[realm]) {
			return records.Record{}, fmt.Errorf("user %q: ha1[%q]: not 32 hex digits", name, realm)
		}
	}
	for i, n := range u.GetDdi() {
		if n == "" || strings.Trim(strings.TrimPrefix(n, "+"), "0123456789") != "" {
			return records.Record{}, fmt.Errorf("user %q: ddi[%d]: %q is not a number (digits, a leading + allowed)", name, i, n)
		}
	}
	for i, m := range u.GetMethods() {
		if m == "" || strings.ToUpper(m) != m || strings.ContainsAny(m, " \t") {
			return records.Record{}, fmt.Errorf("user %q: methods[%d]: %q is not a SIP method in upper case", name, i, m)
		}
	}
	return records.Record{Key: strings.ToLower(name)}, nil
}

// importUser takes the message's JSON names and `passwords`, a map of
// realm to clear password hashed here, on the importing client, into ha1:
// a SIP password is never stored.
func importUser(fields map[string]any, _ password.Params) (proto.Message, error) {
	clear, has := fields["passwords"]
	delete(fields, "passwords")
	u := &firebrickv1.User{}
	if err := nas.DecodeFields(fields, u); err != nil {
		return nil, err
	}
	if !has {
		return u, nil
	}
	byRealm, ok := clear.(map[string]any)
	if !ok {
		return nil, errors.New("passwords: must map each realm to its password")
	}
	if u.Ha1 == nil {
		u.Ha1 = map[string]string{}
	}
	for _, realm := range slices.Sorted(maps.Keys(byRealm)) {
		pw, ok := byRealm[realm].(string)
		switch {
		case !ok || pw == "":
			return nil, fmt.Errorf("passwords[%q]: must be a non-empty string", realm)
		case u.Ha1[realm] != "":
			return nil, fmt.Errorf("passwords[%q] and ha1[%q]: give one, not both", realm, realm)
		}
		u.Ha1[realm] = digest.HA1(u.GetName(), realm, pw)
	}
	return u, nil
}

// verifyUser checks a digest response against the user's HA1 for its
// realm. A credential of another method, or a realm the user has no
// password for, does not prove the identity.
func verifyUser(_ context.Context, m proto.Message, c *recordsv1.Credential, _ nas.Passwords) error {
	d := c.GetDigest()
	if d == nil {
		return fmt.Errorf("%w: SIP users log in with a digest", nas.ErrWrongCredential)
	}
	u, ok := m.(*firebrickv1.User)
	if !ok {
		// A digest is an MD5 or two whatever the record: nothing to pretend.
		return fmt.Errorf("%w: no such user", nas.ErrWrongCredential)
	}
	ha1, ok := u.GetHa1()[d.GetRealm()]
	if !ok {
		return fmt.Errorf("%w: no password for realm %q", nas.ErrWrongCredential, d.GetRealm())
	}
	err := digest.Verify(ha1, digest.Request{
		Method: d.GetMethod(), URI: d.GetUri(), Nonce: d.GetNonce(), NonceCount: d.GetNonceCount(),
		CNonce: d.GetCnonce(), QOP: d.GetQop(), Algorithm: d.GetAlgorithm(), BodyHash: d.GetBodyHash(),
		Response: d.GetResponse(),
	})
	switch {
	case errors.Is(err, digest.ErrWrongResponse):
		return fmt.Errorf("%w: %w", nas.ErrWrongCredential, err)
	case err != nil:
		// Not a wrong password but a request that cannot be checked: the
		// profile answers it as bad input.
		return fmt.Errorf("%w: %w", records.ErrInvalid, err)
	}
	return nil
}
