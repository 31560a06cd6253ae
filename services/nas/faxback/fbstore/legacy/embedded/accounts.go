package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"kradius.dev/services/nas/faxback/fbdata"
)

// GetAccount looks an account up by name, case-insensitively.
func (s *Store) GetAccount(ctx context.Context, name string) (fbdata.Account, error) {
	key := fbdata.Fold(name)
	if err := ctx.Err(); err != nil {
		return fbdata.Account{}, fmt.Errorf("get account %q: %w", name, err)
	}
	if a, ok := s.accounts.Load(key); ok {
		a.Members = slices.Clone(a.Members) // callers may change what they get
		return a, nil
	}
	gen := s.accounts.Generation()
	var a fbdata.Account
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		a, err = getAccount(tx, key)
		return err
	})
	if err != nil {
		return fbdata.Account{}, fmt.Errorf("get account %q: %w", name, err)
	}
	s.accounts.Store(gen, key, a)
	a.Members = slices.Clone(a.Members)
	return a, nil
}

// AccountBy looks an account up by one of its indexed fields. A value that
// cannot be a key of idx (a malformed MAC address, say) is simply not found:
// it is what a NAS sent, not a write to refuse.
func (s *Store) AccountBy(ctx context.Context, idx fbdata.Index, value string) (fbdata.Account, error) {
	if idx.Field() == "" {
		return fbdata.Account{}, fmt.Errorf("get account by %s: %w: unknown index", idx, fbdata.ErrInvalid)
	}
	key, keyErr := fbdata.IndexKey(idx, value)
	var a fbdata.Account
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if keyErr != nil {
			return fmt.Errorf("%w (%v)", fbdata.ErrNotFound, keyErr)
		}
		owner := tx.Bucket(bucketByIndex[idx]).Get([]byte(key))
		if owner == nil {
			return fbdata.ErrNotFound
		}
		var err error
		if a, err = getAccount(tx, string(owner)); err != nil {
			// Indexes and records are written in one transaction, so this
			// is corruption, not a race; %v keeps it from reading as not
			// found, which would become a Reject.
			return fmt.Errorf("index entry %q names account %q: %v", key, owner, err)
		}
		return nil
	})
	if err != nil {
		return fbdata.Account{}, fmt.Errorf("get account by %s %q: %w", idx, value, err)
	}
	return a, nil
}

// PutAccount creates or replaces an account; the key is the folded name, so a
// new spelling of an existing name replaces it.
func (s *Store) PutAccount(ctx context.Context, a fbdata.Account) error {
	if err := a.Validate(s.opts); err != nil {
		return fmt.Errorf("put account %q: %w", a.Name, err)
	}
	a = a.Canonical()
	err := s.update(ctx, func(tx *bolt.Tx) error {
		if err := putAccount(tx, a, time.Now()); err != nil {
			return err
		}
		return checkRefs(tx, a)
	})
	if err != nil {
		return fmt.Errorf("put account %q: %w", a.Name, err)
	}
	return nil
}

// DeleteAccount removes an account that owns no DIDs and that no other
// account names as a member or failover account.
func (s *Store) DeleteAccount(ctx context.Context, name string) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		key := fbdata.Fold(name)
		a, err := getAccount(tx, key)
		if err != nil {
			return err
		}
		prefix := pairPrefix(key)
		if k, _ := tx.Bucket(bucketDIDByAccount).Cursor().Seek(prefix); bytes.HasPrefix(k, prefix) {
			return fmt.Errorf("%w: account still owns DID %q", fbdata.ErrConflict, k[len(prefix):])
		}
		if k, _ := tx.Bucket(bucketRefs).Cursor().Seek(prefix); bytes.HasPrefix(k, prefix) {
			return fmt.Errorf("%w: account %q names it as a member or rcvFailoverAccount", fbdata.ErrConflict, storedName(tx, string(k[len(prefix):])))
		}
		if err := releaseIndexes(tx, a); err != nil {
			return err
		}
		for _, target := range a.References() {
			if err := tx.Bucket(bucketRefs).Delete(pairKey(target, key)); err != nil {
				return fmt.Errorf("delete reference: %w", err)
			}
		}
		return tx.Bucket(bucketAccounts).Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("delete account %q: %w", name, err)
	}
	return nil
}

// getAccount reads the account stored under key, a folded name.
func getAccount(tx *bolt.Tx, key string) (fbdata.Account, error) {
	return getRecord[fbdata.Account](tx, bucketAccounts, key, "account")
}

// storedName is the spelling of the account under key, for messages; the key
// itself if the record cannot be read.
func storedName(tx *bolt.Tx, key string) string {
	if a, err := getAccount(tx, key); err == nil {
		return a.Name
	}
	return key
}

// putAccount writes a valid, canonical account at now, replacing the stored
// one of the same folded name. It does not check that a's members and
// failover account exist; callers do, once every account of the write is in.
func putAccount(tx *bolt.Tx, a fbdata.Account, now time.Time) error {
	var prev *fbdata.Account
	switch p, err := getAccount(tx, fbdata.Fold(a.Name)); {
	case err == nil:
		prev = &p
	case !errors.Is(err, fbdata.ErrNotFound):
		return err
	}
	a.LastModified = now.UTC()
	return writeAccount(tx, prev, a)
}

// writeAccount stores a in place of prev (nil when a is new), assigning its
// UUID if it has none, and keeps the indexes and references in step.
func writeAccount(tx *bolt.Tx, prev *fbdata.Account, a fbdata.Account) error {
	key := fbdata.Fold(a.Name)
	if a.UUID == "" {
		if prev != nil && prev.UUID != "" {
			a.UUID = prev.UUID
		} else {
			a.UUID = fbdata.NewUUID()
		}
	}
	if prev != nil {
		if err := releaseIndexes(tx, *prev); err != nil {
			return err
		}
		for _, target := range prev.References() {
			if err := tx.Bucket(bucketRefs).Delete(pairKey(target, key)); err != nil {
				return fmt.Errorf("delete reference: %w", err)
			}
		}
	}
	for _, e := range a.IndexEntries() {
		b := tx.Bucket(bucketByIndex[e.Index])
		if owner := b.Get([]byte(e.Key)); owner != nil && string(owner) != key {
			return fmt.Errorf("%w: %s %q already belongs to account %q", fbdata.ErrConflict, e.Index.Field(), e.Key, storedName(tx, string(owner)))
		}
		if err := b.Put([]byte(e.Key), []byte(key)); err != nil {
			return fmt.Errorf("put %s index entry: %w", e.Index, err)
		}
	}
	for _, target := range a.References() {
		if err := tx.Bucket(bucketRefs).Put(pairKey(target, key), []byte{}); err != nil {
			return fmt.Errorf("put reference: %w", err)
		}
	}
	v, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode account record: %w", err)
	}
	return tx.Bucket(bucketAccounts).Put([]byte(key), v)
}

// releaseIndexes removes a's index entries that still point at a. An entry
// another account has taken over in the same transaction is left alone.
func releaseIndexes(tx *bolt.Tx, a fbdata.Account) error {
	key := []byte(fbdata.Fold(a.Name))
	for _, e := range a.IndexEntries() {
		b := tx.Bucket(bucketByIndex[e.Index])
		if !bytes.Equal(b.Get([]byte(e.Key)), key) {
			continue
		}
		if err := b.Delete([]byte(e.Key)); err != nil {
			return fmt.Errorf("delete %s index entry: %w", e.Index, err)
		}
	}
	return nil
}

// checkRefs fails with fbdata.ErrConflict if a member or the failover account
// of a does not exist.
func checkRefs(tx *bolt.Tx, a fbdata.Account) error {
	accounts := tx.Bucket(bucketAccounts)
	for _, m := range a.Members {
		if accounts.Get([]byte(fbdata.Fold(m))) == nil {
			return fmt.Errorf("%w: member %q does not exist", fbdata.ErrConflict, m)
		}
	}
	if f := a.RcvFailoverAccount; f != "" && accounts.Get([]byte(fbdata.Fold(f))) == nil {
		return fmt.Errorf("%w: rcvFailoverAccount %q does not exist", fbdata.ErrConflict, f)
	}
	return nil
}

// ListAccounts implements fbdata.Store with a cursor over the accounts bucket,
// whose keys are the folded names.
func (s *Store) ListAccounts(ctx context.Context, after string, limit int) ([]fbdata.Account, error) {
	return list[fbdata.Account](ctx, s.db, bucketAccounts, after, limit, "account")
}
