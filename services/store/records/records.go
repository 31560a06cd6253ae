// Package records is the profile-neutral store contract: records by kind,
// which the store keeps without knowing their fields. A profile declares its
// kinds (which unique indexes each has), encodes its records (its protobuf
// messages) itself, and hands the store, with each record, the values of its
// unique indexes and the records it references; the store enforces
// uniqueness and references atomically and reports every change.
//
// The backends are embedded (bbolt) and redis; the conformance suite in
// recordstest holds both to the same behaviour. services/store/README.md,
// "Next: records by kind", says how the FaxBack model moves onto it.
package records

import (
	"context"
	"errors"
	"fmt"
)

var (
	// ErrNotFound: no record of that kind has that key (or index value).
	ErrNotFound = errors.New("not found")
	// ErrConflict: a write would give two records of a kind one value of a
	// unique index, reference a record that does not exist, or delete a
	// record another still references. Nothing of the transaction is
	// written.
	ErrConflict = errors.New("conflict")
	// ErrUnknownKind: a kind, or an index of a kind, that was not declared.
	ErrUnknownKind = errors.New("unknown kind")
	// ErrInvalid: a record the store cannot keep as given: an empty key,
	// or an index named with an empty value. Txn.Put returns it at once,
	// so that a profile's bug is not mistaken for a conflict.
	ErrInvalid = errors.New("invalid argument")
	// ErrForbidden: a write the caller may not make, such as an edge
	// writing a kind that only the admin API writes.
	ErrForbidden = errors.New("forbidden")
)

// Kind declares one kind of record to the store.
type Kind struct {
	// Name is unique across profiles: "<profile>.<kind>", e.g.
	// "faxback.accounts". Letters, digits, '.', '-' and '_'.
	Name string
	// Unique names the kind's unique indexes, e.g. "uuid", "mac".
	Unique []string
}

// Ref names one record.
type Ref struct {
	Kind string
	Key  string
}

func (r Ref) String() string { return r.Kind + "/" + r.Key }

// Record is a record as the store keeps it.
type Record struct {
	Kind string
	// Key names the record within its kind, as the profile folded it: the
	// store compares keys byte for byte. It must not be empty
	// (ErrInvalid); any other bytes, NUL and ':' among them, are allowed.
	Key string
	// Value is the encoded record, opaque to the store.
	Value []byte
	// Unique are the record's values of its kind's unique indexes, by
	// index; an index the record has no value for is absent, since an
	// empty value is ErrInvalid. Values are compared byte for byte, so the
	// profile normalises them.
	Unique map[string]string
	// Refs are the records this one references. Each must exist when the
	// transaction commits, and keeps its target from being deleted.
	Refs []Ref
}

// Entry is a record read back: its key and value.
type Entry struct {
	Key   string
	Value []byte
}

// Txn is one transaction's view of the store: reads see the transaction's
// own writes. Its methods may only be called from the function Update runs.
type Txn interface {
	// Get reads a record, ErrNotFound if it does not exist.
	Get(kind, key string) ([]byte, error)
	// Put creates or replaces a record, with its index values and
	// references replacing the old ones; an empty key or index value is
	// an error wrapping ErrInvalid.
	Put(r Record) error
	// Delete removes a record; deleting one that does not exist is not an
	// error, changes nothing and is not reported in the change feed.
	Delete(kind, key string) error
}

// Change is one notice of the change feed: the records a committed
// transaction wrote or deleted. All says every cached record is suspect: it
// is a watch's first notice, and after that comes only when the feed may
// have missed notices (a slow reader).
type Change struct {
	Refs []Ref
	All  bool
}

// Store is a records backend. It is safe for concurrent use.
type Store interface {
	// Get reads one record, ErrNotFound if it does not exist.
	Get(ctx context.Context, kind, key string) ([]byte, error)
	// GetMany reads records of one kind in one round trip: values[i] is
	// keys[i]'s, nil where errs[i] is set (ErrNotFound or another error).
	GetMany(ctx context.Context, kind string, keys []string) (values [][]byte, errs []error)
	// By finds the record of kind whose index has value.
	By(ctx context.Context, kind, index, value string) (Entry, error)
	// Referrers lists the keys of the records of kind that reference
	// target, in key order.
	Referrers(ctx context.Context, kind string, target Ref) ([]string, error)
	// List returns up to limit records of kind whose keys sort after after
	// ("" for the first page), in key order; none, and no error, when
	// limit <= 0.
	List(ctx context.Context, kind, after string, limit int) ([]Entry, error)
	// Update runs fn in a transaction and commits what it wrote, all or
	// nothing, checking every unique index and reference at commit. fn may
	// run more than once (a backend retries it when a concurrent write
	// changed what it read), so it must not have effects of its own. An
	// error from fn, or a check that fails (ErrConflict), writes nothing.
	// A transaction that writes nothing (only reads, or deletes of records
	// that do not exist) commits no notice.
	Update(ctx context.Context, fn func(Txn) error) error
	// WatchChanges calls fn for each committed change, in commit order,
	// until ctx ends or the feed breaks (then it returns an error, and a
	// caller caching records starts over). Its first notice, once the feed
	// is live, is Change{All: true}: a caller that caches starts clean on
	// it, knowing every later change reaches it.
	WatchChanges(ctx context.Context, fn func(Change)) error
	// Close releases the backend.
	Close() error
}

// Conflict is the error of a failed check: what and why.
type Conflict struct {
	// Ref is the record whose write failed the check: for a unique index,
	// the record claiming the value held; for a reference, the referring
	// record; for a delete, the record deleted.
	Ref    Ref
	Reason string
}

func (e *Conflict) Error() string {
	return fmt.Sprintf("%s: %s: %s", ErrConflict, e.Ref, e.Reason)
}

// Unwrap makes errors.Is(err, ErrConflict) hold.
func (e *Conflict) Unwrap() error { return ErrConflict }
