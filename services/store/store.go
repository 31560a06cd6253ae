// Package store defines kradius's serving data — accounts and DIDs — and the
// contract every backend (embedded bbolt, Redis) fulfils. The conformance suite
// in storetest holds each backend to exactly the same behaviour.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

var (
	// ErrNotFound means the account or DID does not exist. It is the only error
	// that may turn into an Access-Reject; every other error means "no answer".
	ErrNotFound = errors.New("not found")
	// ErrInvalid wraps a validation failure on write.
	ErrInvalid = errors.New("invalid")
	// ErrConflict means the write would break a relation, such as deleting an
	// account that still owns DIDs.
	ErrConflict = errors.New("conflict")
)

// MaxNameBytes is the FaxBack account-name limit (seed: 1 to 16 bytes).
const MaxNameBytes = 16

// Account is one FaxBack account.
type Account struct {
	// Name is the account name as provisioned; lookups fold case.
	Name string `json:"name"`
	// PasswordHash is a PHC-format salted hash (see package password). Never clear text.
	PasswordHash string `json:"passwordHash"`
	// Type is FB-Account-Type: 0, 1, 4, 5, 8, 9 or 10.
	Type uint32 `json:"type"`
	// LoginGroup is FB-Account-Login-Group; empty means the default group.
	LoginGroup string `json:"loginGroup,omitempty"`
	// LastModified is set by the store on every write.
	LastModified time.Time `json:"lastModified"`
}

// DID maps one dialled number to the account that receives its faxes.
type DID struct {
	Number  string `json:"number"`
	Account string `json:"account"`
	Enabled bool   `json:"enabled"`
}

// Batch is a set of writes applied atomically: all of it or none of it.
type Batch struct {
	Accounts []Account
	DIDs     []DID
}

// Store is the serving store. Implementations must be safe for concurrent use.
type Store interface {
	// GetAccount looks an account up by name, case-insensitively.
	GetAccount(ctx context.Context, name string) (Account, error)
	// PutAccount creates or replaces an account.
	PutAccount(ctx context.Context, a Account) error
	// DeleteAccount removes an account; ErrConflict if it still owns DIDs.
	DeleteAccount(ctx context.Context, name string) error
	// GetDID looks a DID up by number.
	GetDID(ctx context.Context, number string) (DID, error)
	// PutDID creates or replaces a DID; its account must exist (ErrConflict otherwise).
	PutDID(ctx context.Context, d DID) error
	// DeleteDID removes a DID.
	DeleteDID(ctx context.Context, number string) error
	// DIDsForAccount lists an account's DIDs, sorted by number.
	DIDsForAccount(ctx context.Context, name string) ([]DID, error)
	// Apply writes a batch atomically, validating every record first.
	Apply(ctx context.Context, b Batch) error
	// Close releases the backend.
	Close() error
}

// Fold returns the case-insensitive key of an account name.
func Fold(name string) string { return strings.ToLower(name) }

// validAccountTypes are the FB-Account-Type values the seed defines.
var validAccountTypes = map[uint32]bool{0: true, 1: true, 4: true, 5: true, 8: true, 9: true, 10: true}

// FieldError is a validation failure of one field. It wraps ErrInvalid, and
// keeps Field and Reason apart so that callers reporting on a whole file (see
// package provision) can put the record's position in front without parsing
// the message.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return ErrInvalid.Error() + ": " + e.Field + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Validate reports the first problem with a, naming the field.
func (a Account) Validate() error {
	switch {
	case a.Name == "":
		return invalid("name", "must not be empty")
	case len(a.Name) > MaxNameBytes:
		return invalid("name", "%q is %d bytes, the limit is %d", a.Name, len(a.Name), MaxNameBytes)
	case !utf8.ValidString(a.Name):
		return invalid("name", "not valid UTF-8")
	case strings.IndexByte(a.Name, 0) >= 0:
		// Backends build index keys as Fold(name) + "\x00" + number; a NUL in
		// the name would make two different (account, number) pairs collide.
		return invalid("name", "must not contain a NUL byte")
	case a.PasswordHash == "":
		return invalid("passwordHash", "must not be empty")
	case !validAccountTypes[a.Type]:
		return invalid("type", "%d is not an FB-Account-Type (0, 1, 4, 5, 8, 9, 10)", a.Type)
	}
	return nil
}

// Validate reports the first problem with d, naming the field.
func (d DID) Validate() error {
	switch {
	case d.Number == "":
		return invalid("number", "must not be empty")
	case len(d.Number) > 253:
		return invalid("number", "longer than a RADIUS attribute can carry")
	case d.Account == "":
		return invalid("account", "must not be empty")
	}
	return nil
}
