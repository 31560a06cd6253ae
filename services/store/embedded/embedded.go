// Package embedded is the store.Store backend kept in a single bbolt file on
// the server's own disk, for deployments that do not run Redis.
package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"kradius.dev/services/store"
)

// lockTimeout bounds the wait for bbolt's file lock. bbolt would otherwise
// wait forever when a second kradius process points at the same file.
const lockTimeout = time.Second

var (
	// bucketAccounts maps store.Fold(name) to the JSON of store.Account.
	bucketAccounts = []byte("accounts")
	// bucketDIDs maps the DID number to the JSON of store.DID.
	bucketDIDs = []byte("dids")
	// bucketDIDByAccount holds the key indexKey(account, number) with an empty
	// value, so that an account's DIDs are one prefix scan, already sorted.
	bucketDIDByAccount = []byte("did-by-account")
)

// Store is a store.Store kept in a bbolt file.
type Store struct {
	db   *bolt.DB
	path string
}

var _ store.Store = (*Store)(nil)

// Open opens the bbolt file at path, creating it and its parent directory if
// needed. The file holds account password hashes, hence mode 0600.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: file is locked by another process (waited %s): %w", path, lockTimeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketAccounts, bucketDIDs, bucketDIDByAccount} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open store %s: %w", path, err), db.Close())
	}
	return &Store{db: db, path: path}, nil
}

// Close releases the file and its lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// GetAccount looks an account up by name, case-insensitively.
func (s *Store) GetAccount(ctx context.Context, name string) (store.Account, error) {
	var a store.Account
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		a, err = getAccount(tx, name)
		return err
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("get account %q: %w", name, err)
	}
	return a, nil
}

// PutAccount creates or replaces an account; the key is the folded name, so a
// new spelling of an existing name replaces it.
func (s *Store) PutAccount(ctx context.Context, a store.Account) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("put account %q: %w", a.Name, err)
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		return putAccount(tx, a, time.Now())
	})
	if err != nil {
		return fmt.Errorf("put account %q: %w", a.Name, err)
	}
	return nil
}

// DeleteAccount removes an account that owns no DIDs.
func (s *Store) DeleteAccount(ctx context.Context, name string) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		key := []byte(store.Fold(name))
		accounts := tx.Bucket(bucketAccounts)
		if accounts.Get(key) == nil {
			return store.ErrNotFound
		}
		prefix := indexPrefix(name)
		if k, _ := tx.Bucket(bucketDIDByAccount).Cursor().Seek(prefix); bytes.HasPrefix(k, prefix) {
			return fmt.Errorf("%w: account still owns DID %q", store.ErrConflict, k[len(prefix):])
		}
		return accounts.Delete(key)
	})
	if err != nil {
		return fmt.Errorf("delete account %q: %w", name, err)
	}
	return nil
}

// GetDID looks a DID up by number.
func (s *Store) GetDID(ctx context.Context, number string) (store.DID, error) {
	var d store.DID
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		d, err = getDID(tx, number)
		return err
	})
	if err != nil {
		return store.DID{}, fmt.Errorf("get DID %q: %w", number, err)
	}
	return d, nil
}

// PutDID creates or replaces a DID, moving it between accounts if needed.
func (s *Store) PutDID(ctx context.Context, d store.DID) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("put DID %q: %w", d.Number, err)
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		return putDID(tx, d)
	})
	if err != nil {
		return fmt.Errorf("put DID %q: %w", d.Number, err)
	}
	return nil
}

// DeleteDID removes a DID and its index entry.
func (s *Store) DeleteDID(ctx context.Context, number string) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		d, err := getDID(tx, number)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketDIDByAccount).Delete(indexKey(d.Account, d.Number)); err != nil {
			return fmt.Errorf("delete index entry: %w", err)
		}
		return tx.Bucket(bucketDIDs).Delete([]byte(number))
	})
	if err != nil {
		return fmt.Errorf("delete DID %q: %w", number, err)
	}
	return nil
}

// DIDsForAccount lists an account's DIDs in byte order of their numbers. An
// account without DIDs, or one that does not exist, yields an empty list.
func (s *Store) DIDsForAccount(ctx context.Context, name string) ([]store.DID, error) {
	dids := []store.DID{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if strings.IndexByte(name, 0) >= 0 {
			// No account name holds a NUL, and such a prefix could match
			// another account's entry whose number holds one.
			return nil
		}
		prefix := indexPrefix(name)
		c := tx.Bucket(bucketDIDByAccount).Cursor()
		for k, _ := c.Seek(prefix); bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			d, err := getDID(tx, string(k[len(prefix):]))
			if err != nil {
				// The index and the DIDs bucket are written in one
				// transaction, so this is corruption, not a race.
				return fmt.Errorf("index entry %q: %w", k, err)
			}
			dids = append(dids, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list DIDs of account %q: %w", name, err)
	}
	return dids, nil
}

// Apply validates the whole batch, then writes it in one transaction: accounts
// first, so DIDs may refer to accounts created by the same batch. Within a
// batch a later record for the same key replaces an earlier one.
func (s *Store) Apply(ctx context.Context, b store.Batch) error {
	var invalid []error
	for i, a := range b.Accounts {
		if err := a.Validate(); err != nil {
			invalid = append(invalid, fmt.Errorf("accounts[%d] (name %q): %w", i, a.Name, err))
		}
	}
	for i, d := range b.DIDs {
		if err := d.Validate(); err != nil {
			invalid = append(invalid, fmt.Errorf("dids[%d] (number %q): %w", i, d.Number, err))
		}
	}
	if len(invalid) > 0 {
		return fmt.Errorf("apply batch: %w", errors.Join(invalid...))
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		now := time.Now()
		for i, a := range b.Accounts {
			if err := putAccount(tx, a, now); err != nil {
				return fmt.Errorf("accounts[%d] (name %q): %w", i, a.Name, err)
			}
		}
		for i, d := range b.DIDs {
			if err := putDID(tx, d); err != nil {
				return fmt.Errorf("dids[%d] (number %q): %w", i, d.Number, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("apply batch: %w", err)
	}
	return nil
}

// view and update check ctx inside the transaction as well as before it: a
// writer may wait for bbolt's single write lock, and a caller that gave up
// meanwhile must not have its write land afterwards.
func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(tx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(tx)
	})
}

func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(tx)
	})
}

func getAccount(tx *bolt.Tx, name string) (store.Account, error) {
	v := tx.Bucket(bucketAccounts).Get([]byte(store.Fold(name)))
	if v == nil {
		return store.Account{}, store.ErrNotFound
	}
	var a store.Account
	if err := json.Unmarshal(v, &a); err != nil {
		return store.Account{}, fmt.Errorf("decode account record: %w", err)
	}
	return a, nil
}

func putAccount(tx *bolt.Tx, a store.Account, now time.Time) error {
	a.LastModified = now.UTC()
	v, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode account record: %w", err)
	}
	return tx.Bucket(bucketAccounts).Put([]byte(store.Fold(a.Name)), v)
}

func getDID(tx *bolt.Tx, number string) (store.DID, error) {
	v := tx.Bucket(bucketDIDs).Get([]byte(number))
	if v == nil {
		return store.DID{}, store.ErrNotFound
	}
	var d store.DID
	if err := json.Unmarshal(v, &d); err != nil {
		return store.DID{}, fmt.Errorf("decode DID record: %w", err)
	}
	return d, nil
}

// putDID writes d and keeps the index in step: a DID that changes account
// loses its entry under the old one.
func putDID(tx *bolt.Tx, d store.DID) error {
	if tx.Bucket(bucketAccounts).Get([]byte(store.Fold(d.Account))) == nil {
		return fmt.Errorf("%w: account %q does not exist", store.ErrConflict, d.Account)
	}
	index := tx.Bucket(bucketDIDByAccount)
	prev, err := getDID(tx, d.Number)
	switch {
	case err == nil:
		if err := index.Delete(indexKey(prev.Account, prev.Number)); err != nil {
			return fmt.Errorf("delete old index entry: %w", err)
		}
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	v, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode DID record: %w", err)
	}
	if err := tx.Bucket(bucketDIDs).Put([]byte(d.Number), v); err != nil {
		return err
	}
	return index.Put(indexKey(d.Account, d.Number), []byte{})
}

// indexPrefix is unambiguous because store.Account.Validate rejects NUL in
// names, so the first NUL in an index key always ends the account part.
func indexPrefix(account string) []byte {
	return append([]byte(store.Fold(account)), 0)
}

func indexKey(account, number string) []byte {
	return append(indexPrefix(account), number...)
}
