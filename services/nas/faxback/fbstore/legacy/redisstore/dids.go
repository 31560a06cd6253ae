package redisstore

import (
	"context"
	"errors"
	"fmt"

	"kradius.dev/services/nas/faxback/fbdata"
)

// GetDID looks a DID up by number.
func (s *Store) GetDID(ctx context.Context, number string) (fbdata.DID, error) {
	d, err := getRecord[fbdata.DID](ctx, s, s.keys.did(number), "DID")
	if err != nil {
		return fbdata.DID{}, fmt.Errorf("get DID %q: %w", number, err)
	}
	return d, nil
}

// PutDID creates or replaces a DID, moving it between accounts if needed.
func (s *Store) PutDID(ctx context.Context, d fbdata.DID) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("put DID %q: %w", d.Number, err)
	}
	err := s.update(ctx, s.firstReads(nil, nil, []fbdata.DID{d}), func(t *txn) error {
		return s.putDID(t, d)
	})
	if err != nil {
		return fmt.Errorf("put DID %q: %w", d.Number, err)
	}
	return nil
}

// DeleteDID removes a DID and its entry in its account's list.
func (s *Store) DeleteDID(ctx context.Context, number string) error {
	key := s.keys.did(number)
	err := s.update(ctx, []string{key}, func(t *txn) error {
		d, found, err := s.did(t, number)
		if err != nil {
			return err
		}
		if !found {
			return fbdata.ErrNotFound
		}
		t.zrem(s.keys.didsOf(fbdata.Fold(d.Account)), d.Number)
		t.del(key)
		t.zrem(s.keys.allDIDs(), number)
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete DID %q: %w", number, err)
	}
	return nil
}

// DIDsForAccount lists an account's DIDs in byte order of their numbers: the
// account's sorted set, then the DIDs in one MGET. An account without DIDs,
// or one that does not exist, yields an empty list.
func (s *Store) DIDsForAccount(ctx context.Context, name string) ([]fbdata.DID, error) {
	dids, err := s.didsForAccount(ctx, fbdata.Fold(name))
	if err != nil {
		return nil, fmt.Errorf("list DIDs of account %q: %w", name, err)
	}
	return dids, nil
}

func (s *Store) didsForAccount(ctx context.Context, folded string) ([]fbdata.DID, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var disagree error
	for range readAttempts {
		numbers, err := s.client.ZRange(ctx, s.keys.didsOf(folded), 0, -1).Result()
		if err != nil {
			return nil, fmt.Errorf("read DID list: %w", err)
		}
		if len(numbers) == 0 {
			return []fbdata.DID{}, nil
		}
		keys := make([]string, len(numbers))
		for i, n := range numbers {
			keys[i] = s.keys.did(n)
		}
		got, err := s.client.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, fmt.Errorf("read DIDs: %w", err)
		}
		if dids, err := s.listed(folded, numbers, got); err == nil {
			return dids, nil
		} else if !errors.Is(err, errDisagree) {
			return nil, err
		} else {
			disagree = err
		}
	}
	return nil, disagree
}

// errDisagree marks a DID list naming a DID that is missing or belongs to
// another account: a move or delete landing between the two reads, or, if
// it persists, corruption. It is never fbdata.ErrNotFound.
var errDisagree = errors.New("DID list and DID records disagree")

// listed decodes the DIDs the list of account folded names (got, as MGET
// answered for numbers), checking that each still belongs to it.
func (s *Store) listed(folded string, numbers []string, got []any) ([]fbdata.DID, error) {
	dids := make([]fbdata.DID, 0, len(numbers))
	for i, n := range numbers {
		v, ok := got[i].(string)
		if !ok {
			return nil, fmt.Errorf("%w: DID %q is listed but missing", errDisagree, n)
		}
		d, err := decode[fbdata.DID](v, "DID")
		if err != nil {
			return nil, err
		}
		if fbdata.Fold(d.Account) != folded {
			return nil, fmt.Errorf("%w: DID %q is listed but belongs to account %q", errDisagree, n, d.Account)
		}
		dids = append(dids, d)
	}
	return dids, nil
}

// did reads the DID stored under number.
func (s *Store) did(t *txn, number string) (fbdata.DID, bool, error) {
	v, found, err := t.get(s.keys.did(number))
	if err != nil || !found {
		return fbdata.DID{}, false, err
	}
	d, err := decode[fbdata.DID](v, "DID")
	return d, err == nil, err
}

// putDID writes d and keeps the lists in step: a DID that changes account
// leaves the old one's list.
func (s *Store) putDID(t *txn, d fbdata.DID) error {
	if _, ok, err := t.get(s.keys.account(fbdata.Fold(d.Account))); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: account %q does not exist", fbdata.ErrConflict, d.Account)
	}
	prev, found, err := s.did(t, d.Number)
	if err != nil {
		return err
	}
	if found {
		t.zrem(s.keys.didsOf(fbdata.Fold(prev.Account)), prev.Number)
	}
	v, err := encode(d, "DID")
	if err != nil {
		return err
	}
	t.set(s.keys.did(d.Number), v)
	t.zadd(s.keys.allDIDs(), d.Number)
	t.zadd(s.keys.didsOf(fbdata.Fold(d.Account)), d.Number)
	return nil
}
