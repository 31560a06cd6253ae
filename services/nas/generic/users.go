package generic

import (
	"context"
	"crypto/md5" //nolint:gosec // RFC 1994 CHAP is MD5; nothing here relies on MD5 resisting collisions.
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	genericv1 "kradius.dev/proto/kradius/generic/v1"
	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/password"
	"kradius.dev/services/store/records"
)

// KindUsers is the store name of the users kind.
const KindUsers = "generic.users"

// maxUserName is RFC 2865's longest User-Name.
const maxUserName = 253

var users = nas.Kind{
	Name: "users",
	Key:  "name",
	Schema: &nas.Schema{
		Service: nas.ServiceAccounts,
		Message: &genericv1.User{},
		Fold:    strings.ToLower,
		Index:   indexUser,
		Import:  importUser,
		Redact: func(m proto.Message) {
			u := m.(*genericv1.User)
			u.PasswordHash, u.ChapPassword = "", ""
		},
		Verify: verifyUser,
	},
}

func indexUser(m proto.Message) (records.Record, error) {
	u := m.(*genericv1.User)
	switch {
	case u.GetName() == "":
		return records.Record{}, errors.New("name: required")
	case len(u.GetName()) > maxUserName || !utf8.ValidString(u.GetName()):
		return records.Record{}, fmt.Errorf("name: %q is not a User-Name (UTF-8, at most %d octets)", u.GetName(), maxUserName)
	case u.GetPasswordHash() == "" && u.GetChapPassword() == "":
		return records.Record{}, fmt.Errorf("user %q: passwordHash or chapPassword: one is required, or the user cannot log in", u.GetName())
	case len(u.GetChapPassword()) > 128:
		// RFC 2865 User-Password carries at most 128 octets, so PAP could
		// never match a longer one.
		return records.Record{}, fmt.Errorf("user %q: chapPassword: longer than 128 octets", u.GetName())
	case len(u.GetReplyMessage()) > 253:
		return records.Record{}, fmt.Errorf("user %q: replyMessage: longer than one attribute (253 octets)", u.GetName())
	}
	if h := u.GetPasswordHash(); h != "" {
		if _, err := password.ParseParams(h); err != nil {
			return records.Record{}, fmt.Errorf("user %q: passwordHash: %w", u.GetName(), err)
		}
	}
	return records.Record{Key: strings.ToLower(u.GetName())}, nil
}

// importUser takes the import format's fields: the message's JSON names,
// and `password`, a clear password hashed here, on the importing client.
func importUser(fields map[string]any, p password.Params) (proto.Message, error) {
	clear, hasClear := fields["password"]
	delete(fields, "password")
	u := &genericv1.User{}
	if err := nas.DecodeFields(fields, u); err != nil {
		return nil, err
	}
	if !hasClear {
		return u, nil
	}
	pw, ok := clear.(string)
	switch {
	case !ok || pw == "":
		return nil, errors.New("password: must be a non-empty string")
	case u.GetPasswordHash() != "":
		return nil, errors.New("password and passwordHash: give one, not both")
	}
	var err error
	if u.PasswordHash, err = password.Hash(pw, p); err != nil {
		return nil, fmt.Errorf("password: %w", err)
	}
	return u, nil
}

// verifyUser checks PAP against the hash or the CHAP password, and CHAP
// against the CHAP password. The reasons stay in the error, for the
// service's log; the NAS only ever sees a Reject.
//
// PAP costs an argon2 run whatever the record: against the decoy for a
// name nobody has and for a user with only a CHAP password, so that a
// Reject's latency does not tell which names exist, nor how they are
// stored. CHAP is an MD5 whatever the record, and needs no decoy.
func verifyUser(ctx context.Context, m proto.Message, c *recordsv1.Credential, p nas.Passwords) error {
	u, _ := m.(*genericv1.User)
	switch c.GetMethod().(type) {
	case *recordsv1.Credential_Pap:
		pw := c.GetPap().GetPassword()
		if u.GetPasswordHash() == "" {
			if err := p.Pretend(ctx, pw); err != nil {
				return err
			}
			if u == nil {
				return fmt.Errorf("%w: no such user", nas.ErrWrongCredential)
			}
			if subtle.ConstantTimeCompare([]byte(pw), []byte(u.GetChapPassword())) == 1 {
				return nil
			}
			return nas.ErrWrongCredential
		}
		ok, err := p.Verify(ctx, u.GetPasswordHash(), pw)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		return nas.ErrWrongCredential
	case *recordsv1.Credential_Chap:
		if u.GetChapPassword() == "" {
			return fmt.Errorf("%w: user has no CHAP password", nas.ErrWrongCredential)
		}
		ch := c.GetChap()
		if ch.GetId() > 255 {
			return fmt.Errorf("%w: CHAP identifier %d", nas.ErrWrongCredential, ch.GetId())
		}
		if subtle.ConstantTimeCompare(CHAPResponse(byte(ch.GetId()), u.GetChapPassword(), ch.GetChallenge()), ch.GetResponse()) == 1 {
			return nil
		}
		return nas.ErrWrongCredential
	}
	return fmt.Errorf("%w: no credential", nas.ErrWrongCredential)
}

// CHAPResponse is RFC 1994's response: MD5(identifier, secret, challenge).
func CHAPResponse(id byte, secret string, challenge []byte) []byte {
	h := md5.New() //nolint:gosec // see the import
	h.Write([]byte{id})
	h.Write([]byte(secret))
	h.Write(challenge)
	return h.Sum(nil)
}
