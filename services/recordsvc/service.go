// Package recordsvc is the records service: it reads, verifies and writes
// the records of every profile kind that has a nas.Schema, on the
// profile-neutral records store, knowing each record only through its
// profile's message and Schema. The accounts and dids targets serve it to
// the edge (recordsrpc), the admin API writes through it, and -target=all
// calls it in-process.
package recordsvc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	recordsv1 "kradius.dev/proto/kradius/records/v1"
	"kradius.dev/services/nas"
	"kradius.dev/services/password"
	"kradius.dev/services/store/records"
)

// Kind is a profile's kind with a Schema, by its store name.
type Kind struct {
	// Name is "<profile>.<kind>", e.g. "generic.users".
	Name string
	// Unique are the kind's unique indexes, declared to the store.
	Unique []string
	nas.Schema
}

// Kinds are the kinds with a Schema of plugins, in registry order; a
// shared kind once, where it is first listed.
func Kinds(plugins []nas.Plugin) []Kind {
	var out []Kind
	seen := map[string]bool{}
	for _, p := range plugins {
		for _, k := range p.Kinds {
			if k.Schema == nil {
				continue
			}
			name := k.FullName(p.Name)
			if !seen[name] {
				seen[name] = true
				out = append(out, Kind{Name: name, Unique: k.Unique, Schema: *k.Schema})
			}
		}
	}
	return out
}

// StoreKinds declares kinds to a records backend.
func StoreKinds(kinds []Kind) []records.Kind {
	out := make([]records.Kind, len(kinds))
	for i, k := range kinds {
		out[i] = records.Kind{Name: k.Name, Unique: k.Unique}
	}
	return out
}

// Service is the records service. It is safe for concurrent use.
type Service struct {
	rs       records.Store
	kinds    map[string]Kind
	verifier *password.Verifier
	// decoy stands in for the hash of a login that has none, so that
	// refusing an unknown name takes as long as refusing a wrong password.
	decoy *password.Decoy
	now   func() time.Time
}

// New serves kinds from rs, which must declare them (StoreKinds); v checks
// password hashes, with its cache, and p are the parameters of the hashes
// the service writes (the configuration's password section): a login with
// no hash to check costs one verification under them. Parameters
// password.Params.Validate refuses are replaced by password.DefaultParams.
func New(rs records.Store, kinds []Kind, v *password.Verifier, p password.Params) *Service {
	s := &Service{rs: rs, kinds: map[string]Kind{}, verifier: v, decoy: password.DecoyFor(p), now: time.Now}
	for _, k := range kinds {
		s.kinds[k.Name] = k
	}
	return s
}

// Kind looks a kind up; the error wraps records.ErrUnknownKind.
func (s *Service) Kind(name string) (Kind, error) {
	k, ok := s.kinds[name]
	if !ok {
		return Kind{}, fmt.Errorf("%w %q: the kinds are %v", records.ErrUnknownKind, name, s.KindNames())
	}
	return k, nil
}

// KindNames are the kinds served, sorted.
func (s *Service) KindNames() []string {
	names := make([]string, 0, len(s.kinds))
	for n := range s.kinds {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Get implements nas.Records.
func (s *Service) Get(ctx context.Context, kind, key string) (proto.Message, error) {
	k, m, err := s.read(ctx, kind, key)
	if err != nil {
		return nil, err
	}
	k.redact(m)
	return m, nil
}

// MaxFirstOf bounds the keys of one GetFirst.
const MaxFirstOf = 64

// GetFirst implements nas.Records.
func (s *Service) GetFirst(ctx context.Context, kind string, keys []string) (string, proto.Message, error) {
	k, err := s.Kind(kind)
	if err != nil {
		return "", nil, err
	}
	if len(keys) > MaxFirstOf {
		return "", nil, fmt.Errorf("%w: %d keys in one lookup, at most %d", records.ErrInvalid, len(keys), MaxFirstOf)
	}
	folded := make([]string, 0, len(keys))
	given := make([]string, 0, len(keys))
	for _, key := range keys {
		if f := k.Fold(key); f != "" {
			folded, given = append(folded, f), append(given, key)
		}
	}
	values, errs := s.rs.GetMany(ctx, kind, folded)
	for i, v := range values {
		switch {
		case errs[i] == nil:
			m, err := k.decode(v)
			if err != nil {
				return "", nil, fmt.Errorf("%s %q: %w", kind, given[i], err)
			}
			k.redact(m)
			return folded[i], m, nil
		case !errors.Is(errs[i], records.ErrNotFound):
			return "", nil, fmt.Errorf("%s %q: %w", kind, given[i], errs[i])
		}
	}
	return "", nil, fmt.Errorf("%w: %s: none of %d keys", records.ErrNotFound, kind, len(keys))
}

// Verify implements nas.Records.
func (s *Service) Verify(ctx context.Context, kind, key string, c *recordsv1.Credential) (proto.Message, error) {
	k, err := s.Kind(kind)
	if err != nil {
		return nil, err
	}
	if k.Verify == nil {
		return nil, fmt.Errorf("%w: kind %s has no logins", records.ErrInvalid, kind)
	}
	_, m, err := s.read(ctx, kind, key)
	if errors.Is(err, records.ErrNotFound) {
		// Once the NAS has given up nobody can time the answer.
		if ctx.Err() == nil {
			err = s.pretend(ctx, k, key, c, err)
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if err := k.Verify(ctx, m, c, passwords{s.verifier, s.decoy, k.Fold(key)}); err != nil {
		return nil, err
	}
	k.redact(m)
	return m, nil
}

// pretend has k's Verify do for key, which has no record, the work a wrong
// credential would cost, and returns notFound; or the error that kept it
// from doing so, since the answer to a key that exists would not have come
// then either.
func (s *Service) pretend(ctx context.Context, k Kind, key string, c *recordsv1.Credential, notFound error) error {
	err := k.Verify(ctx, nil, c, passwords{s.verifier, s.decoy, k.Fold(key)})
	if err == nil || errors.Is(err, nas.ErrWrongCredential) || errors.Is(err, records.ErrInvalid) {
		return notFound
	}
	return err
}

// passwords are the nas.Passwords of one login of key.
type passwords struct {
	verifier *password.Verifier
	decoy    *password.Decoy
	key      string
}

func (p passwords) Verify(ctx context.Context, encoded, pw string) (bool, error) {
	return p.verifier.VerifyContext(ctx, encoded, pw)
}

func (p passwords) Pretend(ctx context.Context, pw string) error {
	return p.decoy.Pretend(func(encoded, pw string) (bool, error) { return p.verifier.VerifyContext(ctx, encoded, pw) }, p.key, pw)
}

func (s *Service) read(ctx context.Context, kind, key string) (Kind, proto.Message, error) {
	k, err := s.Kind(kind)
	if err != nil {
		return Kind{}, nil, err
	}
	folded := k.Fold(key)
	if folded == "" {
		return Kind{}, nil, fmt.Errorf("%w: %s %q", records.ErrNotFound, kind, key)
	}
	v, err := s.rs.Get(ctx, kind, folded)
	if err != nil {
		return Kind{}, nil, fmt.Errorf("%s %q: %w", kind, key, err)
	}
	m, err := k.decode(v)
	if err != nil {
		return Kind{}, nil, fmt.Errorf("%s %q: %w", kind, key, err)
	}
	return k, m, nil
}

// Write is one record to write: its kind and message.
type Write struct {
	Kind  string
	Value proto.Message
}

// Put writes records, all or none. Errors wrap records.ErrInvalid for a
// record its Schema refuses, and records.ErrConflict for a broken unique
// index or reference.
func (s *Service) Put(ctx context.Context, writes []Write) error {
	return s.rs.Update(ctx, func(txn records.Txn) error {
		for _, w := range writes {
			if err := s.PutTxn(txn, w); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutTxn writes one record in txn, for a caller that writes other records in
// the same transaction (the import, with a chunk's FaxBack records).
func (s *Service) PutTxn(txn records.Txn, w Write) error {
	k, err := s.Kind(w.Kind)
	if err != nil {
		return err
	}
	if got, want := w.Value.ProtoReflect().Descriptor().FullName(), k.messageName(); got != want {
		return fmt.Errorf("%w: a %s record is a %s, not a %s", records.ErrInvalid, w.Kind, want, got)
	}
	rec, err := k.Index(w.Value)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", records.ErrInvalid, w.Kind, err)
	}
	opts := proto.MarshalOptions{Deterministic: true}
	if rec.Value, err = opts.Marshal(w.Value); err != nil {
		return fmt.Errorf("%s %q: %w", w.Kind, rec.Key, err)
	}
	rec.Kind = w.Kind
	return txn.Put(rec)
}

// Merge folds update into the record of kind at key, as the kind's
// Schema.Merge does as of now, in one transaction: the edge's writes of
// the state it keeps. A kind without Merge is records.ErrForbidden.
func (s *Service) Merge(ctx context.Context, kind, key string, update proto.Message) error {
	k, err := s.Kind(kind)
	if err != nil {
		return err
	}
	if k.Schema.Merge == nil {
		return fmt.Errorf("%w: %s is written only by the admin API", records.ErrForbidden, kind)
	}
	if got, want := update.ProtoReflect().Descriptor().FullName(), k.messageName(); got != want {
		return fmt.Errorf("%w: a %s record is a %s, not a %s", records.ErrInvalid, kind, want, got)
	}
	folded := k.Fold(key)
	if folded == "" {
		return fmt.Errorf("%w: %s: an empty key", records.ErrInvalid, kind)
	}
	return s.rs.Update(ctx, func(txn records.Txn) error {
		var stored proto.Message
		switch v, err := txn.Get(kind, folded); {
		case errors.Is(err, records.ErrNotFound):
		case err != nil:
			return err
		default:
			if stored, err = k.decode(v); err != nil {
				return fmt.Errorf("%s %q: %w", kind, key, err)
			}
		}
		merged, err := k.Schema.Merge(stored, update, s.now())
		if err != nil {
			return fmt.Errorf("%w: %s %q: %w", records.ErrInvalid, kind, key, err)
		}
		if merged == nil {
			return txn.Delete(kind, folded)
		}
		return s.PutTxn(txn, Write{Kind: kind, Value: merged})
	})
}

// listPage is how many records ListAll reads at a time.
const listPage = 1000

// ListAll implements nas.Records: every record of kind, secrets cleared.
func (s *Service) ListAll(ctx context.Context, kind string) ([]proto.Message, error) {
	var out []proto.Message
	after := ""
	for {
		page, err := s.List(ctx, kind, after, listPage)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			out = append(out, e.Value)
		}
		if len(page) < listPage {
			return out, nil
		}
		after = page[len(page)-1].Key
	}
}

// Watch implements nas.Records on the store's change feed.
func (s *Service) Watch(ctx context.Context, kind string, changed func()) error {
	if _, err := s.Kind(kind); err != nil {
		return err
	}
	err := s.rs.WatchChanges(ctx, func(c records.Change) {
		if c.All || slices.ContainsFunc(c.Refs, func(r records.Ref) bool { return r.Kind == kind }) {
			changed()
		}
	})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Delete removes a record; one that does not exist is records.ErrNotFound.
func (s *Service) Delete(ctx context.Context, kind, key string) error {
	k, err := s.Kind(kind)
	if err != nil {
		return err
	}
	folded := k.Fold(key)
	return s.rs.Update(ctx, func(txn records.Txn) error {
		if folded == "" {
			return fmt.Errorf("%w: %s %q", records.ErrNotFound, kind, key)
		}
		if _, err := txn.Get(kind, folded); err != nil {
			return fmt.Errorf("%s %q: %w", kind, key, err)
		}
		return txn.Delete(kind, folded)
	})
}

// Entry is a record listed: its store key and its message, secrets
// cleared.
type Entry struct {
	Key   string
	Value proto.Message
}

// List returns up to limit records of kind whose keys sort after after, in
// key order.
func (s *Service) List(ctx context.Context, kind, after string, limit int) ([]Entry, error) {
	k, err := s.Kind(kind)
	if err != nil {
		return nil, err
	}
	entries, err := s.rs.List(ctx, kind, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(entries))
	for i, e := range entries {
		m, err := k.decode(e.Value)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", kind, e.Key, err)
		}
		k.redact(m)
		out[i] = Entry{Key: e.Key, Value: m}
	}
	return out, nil
}

// ErrUndecodable is a stored value the kind's message cannot decode: a
// corrupt store, or one written by an incompatible version.
var ErrUndecodable = errors.New("stored record does not decode")

func (k Kind) decode(v []byte) (proto.Message, error) {
	m := k.Message.ProtoReflect().New().Interface()
	if err := proto.Unmarshal(v, m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUndecodable, err)
	}
	return m, nil
}

func (k Kind) redact(m proto.Message) {
	if k.Redact != nil {
		k.Redact(m)
	}
}

func (k Kind) messageName() protoreflect.FullName {
	return k.Message.ProtoReflect().Descriptor().FullName()
}
