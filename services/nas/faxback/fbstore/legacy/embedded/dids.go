package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"kradius.dev/services/nas/faxback/fbdata"
)

// GetDID looks a DID up by number.
func (s *Store) GetDID(ctx context.Context, number string) (fbdata.DID, error) {
	if err := ctx.Err(); err != nil {
		return fbdata.DID{}, fmt.Errorf("get DID %q: %w", number, err)
	}
	if d, ok := s.dids.Load(number); ok {
		return d.Clone(), nil
	}
	gen := s.dids.Generation()
	var d fbdata.DID
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		d, err = getDID(tx, number)
		return err
	})
	if err != nil {
		return fbdata.DID{}, fmt.Errorf("get DID %q: %w", number, err)
	}
	s.dids.Store(gen, number, d)
	return d.Clone(), nil
}

// PutDID creates or replaces a DID, moving it between accounts if needed.
func (s *Store) PutDID(ctx context.Context, d fbdata.DID) error {
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
		if err := tx.Bucket(bucketDIDByAccount).Delete(pairKey(fbdata.Fold(d.Account), d.Number)); err != nil {
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
func (s *Store) DIDsForAccount(ctx context.Context, name string) ([]fbdata.DID, error) {
	dids := []fbdata.DID{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if strings.IndexByte(name, 0) >= 0 {
			// No account name holds a NUL, and such a prefix could match
			// another account's entry whose number holds one.
			return nil
		}
		prefix := pairPrefix(fbdata.Fold(name))
		c := tx.Bucket(bucketDIDByAccount).Cursor()
		for k, _ := c.Seek(prefix); bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			d, err := getDID(tx, string(k[len(prefix):]))
			if err != nil {
				// The index and the DIDs bucket are written in one
				// transaction, so this is corruption, not a race; %v keeps
				// it from reading as not found.
				return fmt.Errorf("index entry %q: %v", k, err)
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

func getDID(tx *bolt.Tx, number string) (fbdata.DID, error) {
	return getRecord[fbdata.DID](tx, bucketDIDs, number, "DID")
}

// putDID writes d and keeps the index in step: a DID that changes account
// loses its entry under the old one.
func putDID(tx *bolt.Tx, d fbdata.DID) error {
	if tx.Bucket(bucketAccounts).Get([]byte(fbdata.Fold(d.Account))) == nil {
		return fmt.Errorf("%w: account %q does not exist", fbdata.ErrConflict, d.Account)
	}
	index := tx.Bucket(bucketDIDByAccount)
	prev, err := getDID(tx, d.Number)
	switch {
	case err == nil:
		if err := index.Delete(pairKey(fbdata.Fold(prev.Account), prev.Number)); err != nil {
			return fmt.Errorf("delete old index entry: %w", err)
		}
	case !errors.Is(err, fbdata.ErrNotFound):
		return err
	}
	v, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode DID record: %w", err)
	}
	if err := tx.Bucket(bucketDIDs).Put([]byte(d.Number), v); err != nil {
		return err
	}
	return index.Put(pairKey(fbdata.Fold(d.Account), d.Number), []byte{})
}

// ListDIDs implements fbdata.Store with a cursor over the DIDs bucket.
func (s *Store) ListDIDs(ctx context.Context, after string, limit int) ([]fbdata.DID, error) {
	return list[fbdata.DID](ctx, s.db, bucketDIDs, after, limit, "DID")
}
