package fbstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	faxbackv1 "kradius.dev/proto/kradius/faxback/v1"
	"kradius.dev/services/nas/faxback/fbdata"
	"kradius.dev/services/store/readcache"
	"kradius.dev/services/store/records"
)

// The kinds of the FaxBack profile.
const (
	KindAccounts      = "faxback.accounts"
	KindDIDs          = "faxback.dids"
	KindCalledNumbers = "faxback.called-numbers"
)

// Kinds declares the FaxBack kinds to a records backend. The accounts'
// unique indexes are named as fbdata.Index spells them, and hold
// fbdata.IndexKey's values.
var Kinds = []records.Kind{
	{Name: KindAccounts, Unique: []string{
		string(fbdata.IndexUUID), string(fbdata.IndexMAC), string(fbdata.IndexSerial), string(fbdata.IndexSenderEmail),
	}},
	{Name: KindDIDs},
	{Name: KindCalledNumbers},
}

// Store is fbdata.Store on a records.Store.
type Store struct {
	rs   records.Store
	opts fbdata.Options
	// accounts and dids keep decoded records by key, when CacheReads said
	// this Store is its data's only writer; nil otherwise.
	accounts *readcache.Cache[fbdata.Account]
	dids     *readcache.Cache[fbdata.DID]
}

// Records is the backend under s, which other profiles' kinds may share.
func (s *Store) Records() records.Store { return s.rs }

// readCacheSize bounds each read cache: a million accounts and DIDs decoded
// take some hundreds of MB, which is what an all-in-one node has.
const readCacheSize = 1 << 20

// CacheReads keeps the accounts and DIDs read, decoded, so that a login or
// a route takes neither a read transaction nor a decode. Only for a backend
// that this Store alone writes (the embedded file, which bbolt locks to one
// process): every write through s clears the caches, and no other write
// could.
func (s *Store) CacheReads() *Store {
	s.accounts = readcache.New[fbdata.Account](readCacheSize)
	s.dids = readcache.New[fbdata.DID](readCacheSize)
	return s
}

// update runs fn in a transaction of the backend, and clears the read
// caches once it returns, committed or not: clearing is cheap, and a rule
// without exceptions is easy to keep. Called numbers are not cached, so
// their writes go to the backend directly.
func (s *Store) update(ctx context.Context, fn func(records.Txn) error) error {
	err := s.rs.Update(ctx, fn)
	if s.accounts != nil {
		s.accounts.Invalidate()
		s.dids.Invalidate()
	}
	return err
}

var (
	_ fbdata.Store         = (*Store)(nil)
	_ fbdata.BatchReader   = (*Store)(nil)
	_ fbdata.ChangeWatcher = (*Store)(nil)
)

// New returns the FaxBack store on rs, which must have been opened with
// Kinds. The Store owns rs: Close closes it.
func New(rs records.Store, o fbdata.Options) *Store { return &Store{rs: rs, opts: o} }

// Close closes the records backend.
func (s *Store) Close() error { return s.rs.Close() }

func accountRef(name string) records.Ref {
	return records.Ref{Kind: KindAccounts, Key: fbdata.Fold(name)}
}

func accountRecord(a fbdata.Account) (records.Record, error) {
	v, err := proto.Marshal(AccountToProto(a))
	if err != nil {
		return records.Record{}, fmt.Errorf("encode account: %w", err)
	}
	r := records.Record{Kind: KindAccounts, Key: fbdata.Fold(a.Name), Value: v}
	if entries := a.IndexEntries(); len(entries) > 0 {
		r.Unique = make(map[string]string, len(entries))
		for _, e := range entries {
			r.Unique[string(e.Index)] = e.Key
		}
	}
	for _, m := range a.Members {
		r.Refs = append(r.Refs, accountRef(m))
	}
	if a.RcvFailoverAccount != "" {
		r.Refs = append(r.Refs, accountRef(a.RcvFailoverAccount))
	}
	return r, nil
}

func didRecord(d fbdata.DID) (records.Record, error) {
	v, err := proto.Marshal(DIDToProto(d))
	if err != nil {
		return records.Record{}, fmt.Errorf("encode DID: %w", err)
	}
	return records.Record{Kind: KindDIDs, Key: d.Number, Value: v, Refs: []records.Ref{accountRef(d.Account)}}, nil
}

func calledNumberRecord(c fbdata.CalledNumber) (records.Record, error) {
	v, err := proto.Marshal(CalledNumberToProto(c))
	if err != nil {
		return records.Record{}, fmt.Errorf("encode called number: %w", err)
	}
	return records.Record{Kind: KindCalledNumbers, Key: c.Number, Value: v}, nil
}

func decodeAccount(v []byte) (fbdata.Account, error) {
	var p faxbackv1.Account
	if err := proto.Unmarshal(v, &p); err != nil {
		return fbdata.Account{}, fmt.Errorf("decode account: %w", err)
	}
	return AccountFromProto(&p), nil
}

func decodeDID(v []byte) (fbdata.DID, error) {
	var p faxbackv1.DID
	if err := proto.Unmarshal(v, &p); err != nil {
		return fbdata.DID{}, fmt.Errorf("decode DID: %w", err)
	}
	return DIDFromProto(&p), nil
}

func decodeCalledNumber(v []byte) (fbdata.CalledNumber, error) {
	var p faxbackv1.CalledNumber
	if err := proto.Unmarshal(v, &p); err != nil {
		return fbdata.CalledNumber{}, fmt.Errorf("decode called number: %w", err)
	}
	return CalledNumberFromProto(&p), nil
}

// mapErr turns the records' sentinels into the store's, which the callers
// test for (an ErrNotFound, and only that, becomes an Access-Reject).
func mapErr(err error) error {
	var c *records.Conflict
	switch {
	case err == nil:
		return nil
	case errors.As(err, &c):
		return fmt.Errorf("%w: %s: %s", fbdata.ErrConflict, c.Ref, c.Reason)
	case errors.Is(err, records.ErrConflict):
		return fmt.Errorf("%w: %s", fbdata.ErrConflict, err.Error())
	case errors.Is(err, records.ErrNotFound):
		return fbdata.ErrNotFound
	case errors.Is(err, records.ErrInvalid), errors.Is(err, records.ErrUnknownKind):
		// Only Restore, which does not validate, can hand the backend an
		// empty key.
		return fmt.Errorf("%w: %v", fbdata.ErrInvalid, err)
	}
	return err
}

// GetAccount implements fbdata.Store.
func (s *Store) GetAccount(ctx context.Context, name string) (fbdata.Account, error) {
	key := fbdata.Fold(name)
	var gen uint64
	if s.accounts != nil {
		if err := ctx.Err(); err != nil {
			return fbdata.Account{}, fmt.Errorf("get account %q: %w", name, err)
		}
		if a, ok := s.accounts.Load(key); ok {
			a.Members = slices.Clone(a.Members) // callers may change what they get
			return a, nil
		}
		gen = s.accounts.Generation()
	}
	v, err := s.rs.Get(ctx, KindAccounts, key)
	if err == nil {
		var a fbdata.Account
		if a, err = decodeAccount(v); err == nil {
			if s.accounts != nil {
				s.accounts.Store(gen, key, a)
				a.Members = slices.Clone(a.Members)
			}
			return a, nil
		}
	}
	return fbdata.Account{}, fmt.Errorf("get account %q: %w", name, mapErr(err))
}

// AccountBy implements fbdata.Store.
func (s *Store) AccountBy(ctx context.Context, idx fbdata.Index, value string) (fbdata.Account, error) {
	if idx.Field() == "" {
		return fbdata.Account{}, fmt.Errorf("get account by %s: %w: unknown index", idx, fbdata.ErrInvalid)
	}
	key, keyErr := fbdata.IndexKey(idx, value)
	if keyErr != nil {
		// What a NAS sent finds nothing (a Reject), unless the caller gave
		// up first: that is no answer.
		if err := ctx.Err(); err != nil {
			return fbdata.Account{}, fmt.Errorf("get account by %s: %w", idx, err)
		}
		return fbdata.Account{}, fmt.Errorf("get account by %s: %w (%v)", idx, fbdata.ErrNotFound, keyErr)
	}
	e, err := s.rs.By(ctx, KindAccounts, string(idx), key)
	if err == nil {
		var a fbdata.Account
		if a, err = decodeAccount(e.Value); err == nil {
			return a, nil
		}
	}
	return fbdata.Account{}, fmt.Errorf("get account by %s %q: %w", idx, value, mapErr(err))
}

// putAccount writes a inside t, keeping the stored UUID when a has none
// and giving a new account newUUID (made outside, since fn may run again).
func putAccount(t records.Txn, a fbdata.Account, newUUID string, now time.Time) error {
	if a.UUID == "" {
		v, err := t.Get(KindAccounts, fbdata.Fold(a.Name))
		switch {
		case errors.Is(err, records.ErrNotFound):
			a.UUID = newUUID
		case err != nil:
			return err
		default:
			stored, err := decodeAccount(v)
			if err != nil {
				return err
			}
			a.UUID = stored.UUID
			if a.UUID == "" {
				a.UUID = newUUID
			}
		}
	}
	a.LastModified = now
	r, err := accountRecord(a)
	if err != nil {
		return err
	}
	return t.Put(r)
}

// PutAccount implements fbdata.Store.
func (s *Store) PutAccount(ctx context.Context, a fbdata.Account) error {
	if err := a.Validate(s.opts); err != nil {
		return fmt.Errorf("put account %q: %w", a.Name, err)
	}
	a = a.Canonical()
	newUUID := fbdata.NewUUID()
	err := s.update(ctx, func(t records.Txn) error {
		return putAccount(t, a, newUUID, time.Now())
	})
	if err != nil {
		return fmt.Errorf("put account %q: %w", a.Name, s.explainAccountConflict(ctx, a, err))
	}
	return nil
}

// explainAccountConflict names the account holding one of a's index
// values, by its field and provisioned name, when that is why err is a
// conflict: the records backend knows only keys and index names.
func (s *Store) explainAccountConflict(ctx context.Context, a fbdata.Account, err error) error {
	if errors.Is(err, records.ErrConflict) {
		if held := s.indexHeld(ctx, a, nil); held != nil {
			return held
		}
	}
	return mapErr(err)
}

// indexHeld reports an index value of a that another stored account holds,
// or nil. Holders in rewritten are skipped: the failed write replaced them,
// so what they held was not the conflict.
func (s *Store) indexHeld(ctx context.Context, a fbdata.Account, rewritten map[string]bool) error {
	self := fbdata.Fold(a.Name)
	for _, e := range a.IndexEntries() {
		held, err := s.rs.By(ctx, KindAccounts, string(e.Index), e.Key)
		if err != nil || held.Key == self || rewritten[held.Key] {
			continue
		}
		holder := held.Key
		if h, err := decodeAccount(held.Value); err == nil {
			holder = h.Name
		}
		return fmt.Errorf("%w: %s %q is held by account %q", fbdata.ErrConflict, e.Index.Field(), e.Key, holder)
	}
	return nil
}

// DeleteAccount implements fbdata.Store.
func (s *Store) DeleteAccount(ctx context.Context, name string) error {
	key := fbdata.Fold(name)
	err := s.update(ctx, func(t records.Txn) error {
		if _, err := t.Get(KindAccounts, key); err != nil {
			return err
		}
		return t.Delete(KindAccounts, key)
	})
	if err != nil {
		return fmt.Errorf("delete account %q: %w", name, s.explainReferrers(ctx, key, err))
	}
	return nil
}

// explainReferrers names what still refers to the account key when that is
// why its delete failed.
func (s *Store) explainReferrers(ctx context.Context, key string, err error) error {
	if !errors.Is(err, records.ErrConflict) {
		return mapErr(err)
	}
	target := records.Ref{Kind: KindAccounts, Key: key}
	if dids, lookupErr := s.rs.Referrers(ctx, KindDIDs, target); lookupErr == nil && len(dids) > 0 {
		return fmt.Errorf("%w: account still owns DID %q", fbdata.ErrConflict, dids[0])
	}
	if accts, lookupErr := s.rs.Referrers(ctx, KindAccounts, target); lookupErr == nil {
		for _, k := range accts {
			if k == key {
				continue // failing over to itself does not hold it
			}
			name := k
			if v, err := s.rs.Get(ctx, KindAccounts, k); err == nil {
				if a, err := decodeAccount(v); err == nil {
					name = a.Name
				}
			}
			return fmt.Errorf("%w: account %q names it as a member or rcvFailoverAccount", fbdata.ErrConflict, name)
		}
	}
	return mapErr(err)
}

// GetDID implements fbdata.Store.
func (s *Store) GetDID(ctx context.Context, number string) (fbdata.DID, error) {
	var gen uint64
	if s.dids != nil {
		if err := ctx.Err(); err != nil {
			return fbdata.DID{}, fmt.Errorf("get DID %q: %w", number, err)
		}
		if d, ok := s.dids.Load(number); ok {
			return d.Clone(), nil
		}
		gen = s.dids.Generation()
	}
	v, err := s.rs.Get(ctx, KindDIDs, number)
	if err == nil {
		var d fbdata.DID
		if d, err = decodeDID(v); err == nil {
			if s.dids != nil {
				s.dids.Store(gen, number, d)
				d = d.Clone()
			}
			return d, nil
		}
	}
	return fbdata.DID{}, fmt.Errorf("get DID %q: %w", number, mapErr(err))
}

// PutDID implements fbdata.Store.
func (s *Store) PutDID(ctx context.Context, d fbdata.DID) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("put DID %q: %w", d.Number, err)
	}
	r, err := didRecord(d)
	if err == nil {
		err = s.update(ctx, func(t records.Txn) error { return t.Put(r) })
	}
	if err != nil {
		return fmt.Errorf("put DID %q: %w", d.Number, mapErr(err))
	}
	return nil
}

// DeleteDID implements fbdata.Store.
func (s *Store) DeleteDID(ctx context.Context, number string) error {
	return s.deleteExisting(ctx, KindDIDs, number, "delete DID")
}

// deleteExisting deletes a record that must exist: the store's deletes
// answer ErrNotFound where the records' succeed.
func (s *Store) deleteExisting(ctx context.Context, kind, key, what string) error {
	err := s.update(ctx, func(t records.Txn) error {
		if _, err := t.Get(kind, key); err != nil {
			return err
		}
		return t.Delete(kind, key)
	})
	if err != nil {
		return fmt.Errorf("%s %q: %w", what, key, mapErr(err))
	}
	return nil
}

// DIDsForAccount implements fbdata.Store.
func (s *Store) DIDsForAccount(ctx context.Context, name string) ([]fbdata.DID, error) {
	keys, err := s.rs.Referrers(ctx, KindDIDs, accountRef(name))
	if err != nil {
		return nil, fmt.Errorf("list DIDs of account %q: %w", name, mapErr(err))
	}
	dids := make([]fbdata.DID, 0, len(keys))
	if len(keys) == 0 {
		return dids, nil
	}
	values, errs := s.rs.GetMany(ctx, KindDIDs, keys)
	for i, v := range values {
		if errors.Is(errs[i], records.ErrNotFound) {
			continue // deleted since Referrers
		}
		if errs[i] != nil {
			return nil, fmt.Errorf("list DIDs of account %q: %w", name, mapErr(errs[i]))
		}
		d, err := decodeDID(v)
		if err != nil {
			return nil, fmt.Errorf("list DIDs of account %q: %w", name, err)
		}
		dids = append(dids, d)
	}
	// Referrers answers in key order already; sorting keeps the contract
	// whatever a backend's collation.
	slices.SortFunc(dids, func(a, b fbdata.DID) int { return strings.Compare(a.Number, b.Number) })
	return dids, nil
}

// GetAccounts implements fbdata.BatchReader in one GetMany.
func (s *Store) GetAccounts(ctx context.Context, names []string) ([]fbdata.Account, []error) {
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = fbdata.Fold(n)
	}
	out := make([]fbdata.Account, len(names))
	outErrs := make([]error, len(names))
	getMany(ctx, s.rs, KindAccounts, keys, s.accounts, out, outErrs, decodeAccount, func(a fbdata.Account) fbdata.Account {
		a.Members = slices.Clone(a.Members) // callers may change what they get
		return a
	})
	for i, err := range outErrs {
		if err != nil {
			outErrs[i] = fmt.Errorf("get account %q: %w", names[i], mapErr(err))
		}
	}
	return out, outErrs
}

// getMany reads keys of kind into out, from the read cache where it holds
// them (cache may be nil) and in one GetMany for the rest, which it keeps.
// copyOut gives the caller a copy it may change.
func getMany[T any](ctx context.Context, rs records.Store, kind string, keys []string, cache *readcache.Cache[T], out []T, errs []error, decode func([]byte) (T, error), copyOut func(T) T) {
	var gen uint64
	missing := keys
	var at []int // where each of missing goes in out
	if cache != nil {
		if err := ctx.Err(); err != nil {
			for i := range errs {
				errs[i] = err
			}
			return
		}
		missing = nil
		for i, k := range keys {
			if v, ok := cache.Load(k); ok {
				out[i] = copyOut(v)
				continue
			}
			missing = append(missing, k)
			at = append(at, i)
		}
		if len(missing) == 0 {
			return
		}
		gen = cache.Generation()
	}
	values, gerrs := rs.GetMany(ctx, kind, missing)
	for j, k := range missing {
		i := j
		if at != nil {
			i = at[j]
		}
		err := gerrs[j]
		var v T
		if err == nil {
			v, err = decode(values[j])
		}
		if err != nil {
			errs[i] = err
			continue
		}
		if cache != nil {
			cache.Store(gen, k, v)
			v = copyOut(v)
		}
		out[i] = v
	}
}

// GetDIDs implements fbdata.BatchReader in one GetMany.
func (s *Store) GetDIDs(ctx context.Context, numbers []string) ([]fbdata.DID, []error) {
	out := make([]fbdata.DID, len(numbers))
	outErrs := make([]error, len(numbers))
	getMany(ctx, s.rs, KindDIDs, numbers, s.dids, out, outErrs, decodeDID, fbdata.DID.Clone)
	for i, err := range outErrs {
		if err != nil {
			outErrs[i] = fmt.Errorf("get DID %q: %w", numbers[i], mapErr(err))
		}
	}
	return out, outErrs
}

// ListAccounts implements fbdata.Store.
func (s *Store) ListAccounts(ctx context.Context, after string, limit int) ([]fbdata.Account, error) {
	return list(ctx, s.rs, KindAccounts, after, limit, "accounts", decodeAccount)
}

// ListDIDs implements fbdata.Store.
func (s *Store) ListDIDs(ctx context.Context, after string, limit int) ([]fbdata.DID, error) {
	return list(ctx, s.rs, KindDIDs, after, limit, "DIDs", decodeDID)
}

// ListCalledNumbers implements fbdata.Store.
func (s *Store) ListCalledNumbers(ctx context.Context, after string, limit int) ([]fbdata.CalledNumber, error) {
	return list(ctx, s.rs, KindCalledNumbers, after, limit, "called numbers", decodeCalledNumber)
}

func list[T any](ctx context.Context, rs records.Store, kind, after string, limit int, what string, decode func([]byte) (T, error)) ([]T, error) {
	if limit <= 0 {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("list %s: %w", what, err)
		}
		return nil, nil
	}
	entries, err := rs.List(ctx, kind, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, mapErr(err))
	}
	out := make([]T, 0, len(entries))
	for _, e := range entries {
		v, err := decode(e.Value)
		if err != nil {
			return nil, fmt.Errorf("list %s: %q: %w", what, e.Key, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// GetCalledNumber implements fbdata.Store.
func (s *Store) GetCalledNumber(ctx context.Context, number string) (fbdata.CalledNumber, error) {
	v, err := s.rs.Get(ctx, KindCalledNumbers, number)
	if err == nil {
		var c fbdata.CalledNumber
		if c, err = decodeCalledNumber(v); err == nil {
			return c, nil
		}
	}
	return fbdata.CalledNumber{}, fmt.Errorf("get called number %q: %w", number, mapErr(err))
}

// RecordCalledNumber implements fbdata.Store: read, merge and write in one
// transaction, so that concurrent Stops for one number both count.
func (s *Store) RecordCalledNumber(ctx context.Context, number string, result fbdata.CallResult) error {
	now := time.Now()
	// Checked first so that a bad result costs no transaction.
	if _, err := (fbdata.CalledNumber{Number: number}).Record(result, now); err != nil {
		return fmt.Errorf("record called number %q: %w", number, err)
	}
	err := s.rs.Update(ctx, func(t records.Txn) error {
		c := fbdata.CalledNumber{Number: number}
		v, err := t.Get(KindCalledNumbers, number)
		switch {
		case errors.Is(err, records.ErrNotFound):
		case err != nil:
			return err
		default:
			if c, err = decodeCalledNumber(v); err != nil {
				return err
			}
		}
		if c, err = c.Record(result, now); err != nil {
			return err
		}
		r, err := calledNumberRecord(c)
		if err != nil {
			return err
		}
		return t.Put(r)
	})
	if err != nil {
		return fmt.Errorf("record called number %q: %w", number, mapErr(err))
	}
	return nil
}

// DeleteCalledNumber implements fbdata.Store.
func (s *Store) DeleteCalledNumber(ctx context.Context, number string) error {
	return s.deleteExisting(ctx, KindCalledNumbers, number, "delete called number")
}

// WatchChanges implements fbdata.ChangeWatcher on the records' feed; called
// numbers are no reader's cache, so their writes are not reported.
func (s *Store) WatchChanges(ctx context.Context, fn func(fbdata.Change)) error {
	return s.rs.WatchChanges(ctx, func(rc records.Change) {
		c := fbdata.Change{All: rc.All}
		for _, r := range rc.Refs {
			switch r.Kind {
			case KindAccounts:
				c.Accounts = append(c.Accounts, r.Key)
			case KindDIDs:
				c.DIDs = append(c.DIDs, r.Key)
			}
		}
		if c.All || len(c.Accounts) > 0 || len(c.DIDs) > 0 {
			fn(c)
		}
	})
}
