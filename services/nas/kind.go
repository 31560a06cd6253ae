package nas

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/password"
	"kradius.dev/services/store/records"
)

// The services a Schema may name.
const (
	// ServiceAccounts carries who may log in.
	ServiceAccounts = "accounts"
	// ServiceDIDs carries where calls go.
	ServiceDIDs = "dids"
)

// Schema is how the profile-neutral machinery carries a kind's records: the
// records service on the accounts and dids targets, the admin API,
// `kradius import` and `kradius get|list|delete`. They know a record only
// as the profile's protobuf message and what the Schema says of it.
type Schema struct {
	// Service is the target the edge asks for the kind's records:
	// ServiceAccounts or ServiceDIDs.
	Service string
	// Message is an empty record: the kind's values are of its type.
	Message proto.Message
	// Fold returns the key a user or a NAS gives as the store keeps it
	// (user names in lower case).
	Fold func(key string) string
	// Index validates a record about to be written and returns what the
	// store enforces of it: Key, Unique and Refs (the caller sets Kind and
	// Value). Its errors name the field, in the message's JSON names.
	Index func(m proto.Message) (records.Record, error)
	// Import builds a record from its fields in the import format, decoded
	// from YAML. Nil: the fields are the message's JSON names (protojson).
	// A kind with a write-only field, such as a password hashed on the
	// client, sets it.
	Import func(fields map[string]any, p password.Params) (proto.Message, error)
	// Redact clears the record's secrets before it leaves the service. Nil:
	// the kind has none.
	Redact func(m proto.Message)
	// Verify checks a credential against the record: nil if it proves the
	// identity, an error wrapping ErrWrongCredential if it does not or the
	// record cannot check that method. m is nil when there is no record:
	// Verify then does the work a wrong credential of a known key would
	// cost (Passwords.Pretend), so that the answer's latency does not tell
	// whether the key exists. Any other error means the check was not
	// made. Nil: the kind has no logins.
	Verify func(ctx context.Context, m proto.Message, c *recordsv1.Credential, p Passwords) error
	// Merge, when set, makes the kind state the edge keeps (FireBrick
	// registrations): Records.Merge folds an update into the stored record
	// (nil when there is none) as of now, in one transaction, and a nil
	// result deletes it. Nil: only the admin API writes the kind, and an
	// edge may not.
	Merge func(stored, update proto.Message, now time.Time) (proto.Message, error)
	// EdgeCache lets a distributed edge keep the kind's answers in memory
	// while it watches the kind (services/recordcache): for a kind read on
	// every request, rarely written, and without secrets (FireBrick
	// routes).
	EdgeCache bool
}

// Passwords checks passwords for a Schema's Verify, through the service's
// verifier (its cache, and the bound on argon2 runs).
type Passwords interface {
	// Verify reports whether pw is the password of a hash made by
	// password.Hash. Its errors wrap password.ErrOverloaded when the check
	// got no run in time, and password.ErrMalformed for a hash it cannot
	// read.
	Verify(ctx context.Context, encoded, pw string) (bool, error)
	// Pretend checks pw against a decoy of the cost of the service's
	// hashes, for a login that has no hash to check, and has no verdict.
	// Its error is one that means the check was not made (overload, the
	// context's): a known key's answer would not have come then either.
	Pretend(ctx context.Context, pw string) error
}

// ErrWrongCredential is a credential that does not prove the identity.
var ErrWrongCredential = errors.New("wrong credential")

// Records is the records service as the profiles see it: in-process in
// -target=all, the RecordService of the accounts and dids targets
// otherwise. Kinds are "<profile>.<kind>". Errors wrap records.ErrNotFound
// for a record that does not exist and ErrWrongCredential for a credential
// that does not match; any other error means the answer is unknown, and the
// request gets no reply.
type Records interface {
	// Get reads a record, its secrets cleared.
	Get(ctx context.Context, kind, key string) (proto.Message, error)
	// Verify checks a credential against a record and returns the record,
	// its secrets cleared.
	Verify(ctx context.Context, kind, key string, c *recordsv1.Credential) (proto.Message, error)
	// GetFirst reads the first of keys that exists (in one round trip),
	// and returns its key as the store keeps it (folded), for
	// longest-prefix lookups.
	GetFirst(ctx context.Context, kind string, keys []string) (string, proto.Message, error)
	// Merge folds update into the record of a kind with Schema.Merge (see
	// there); the key is as given. A kind without Merge is refused
	// (records.ErrForbidden).
	Merge(ctx context.Context, kind, key string, update proto.Message) error
	// ListAll reads every record of kind, secrets cleared, for a profile
	// that keeps a small kind in memory (a table of carriers).
	ListAll(ctx context.Context, kind string) ([]proto.Message, error)
	// Watch calls changed once the watch is live and then after each write
	// that may have changed a record of kind, until ctx ends (nil) or the
	// watch breaks (its error: a change may have been missed). A caller
	// keeping the kind reads it again on each call.
	Watch(ctx context.Context, kind string, changed func()) error
}

// DecodeFields fills m from a record's fields in the import format, decoded
// from YAML: the message's JSON field names, as protojson reads them, an
// unknown field refused.
func DecodeFields(fields map[string]any, m proto.Message) error {
	b, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	return protojson.Unmarshal(b, m)
}
