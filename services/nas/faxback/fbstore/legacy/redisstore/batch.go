package redisstore

import (
	"context"
	"fmt"

	"kradius.dev/services/nas/faxback/fbdata"
)

var _ fbdata.BatchReader = (*Store)(nil)

// GetAccounts looks accounts up by name, case-insensitively, in one MGET.
func (s *Store) GetAccounts(ctx context.Context, names []string) ([]fbdata.Account, []error) {
	keys := make([]string, len(names))
	for i, name := range names {
		keys[i] = s.keys.account(fbdata.Fold(name))
	}
	accounts, errs := getRecords[fbdata.Account](ctx, s, keys, "account")
	for i, err := range errs {
		if err != nil {
			errs[i] = fmt.Errorf("get account %q: %w", names[i], err)
		}
	}
	return accounts, errs
}

// GetDIDs looks DIDs up by number in one MGET.
func (s *Store) GetDIDs(ctx context.Context, numbers []string) ([]fbdata.DID, []error) {
	keys := make([]string, len(numbers))
	for i, number := range numbers {
		keys[i] = s.keys.did(number)
	}
	dids, errs := getRecords[fbdata.DID](ctx, s, keys, "DID")
	for i, err := range errs {
		if err != nil {
			errs[i] = fmt.Errorf("get DID %q: %w", numbers[i], err)
		}
	}
	return dids, errs
}

// getRecords is getRecord for many keys in one round trip: an MGET, which
// Redis Cluster allows because every key of a data set is in one slot. A
// missing key is fbdata.ErrNotFound for its item alone; a failed MGET fails
// every item, with an error that never reads as not found.
func getRecords[T any](ctx context.Context, s *Store, keys []string, what string) ([]T, []error) {
	recs := make([]T, len(keys))
	errs := make([]error, len(keys))
	if len(keys) == 0 {
		// MGET needs a key.
		return recs, errs
	}
	vals, err := mget(ctx, s, keys, what)
	for i := range keys {
		switch {
		case err != nil:
			errs[i] = err
		case vals[i] == nil:
			errs[i] = fbdata.ErrNotFound
		default:
			v, ok := vals[i].(string)
			if !ok {
				errs[i] = fmt.Errorf("read %s: MGET answered %T, not a string", keys[i], vals[i])
				continue
			}
			recs[i], errs[i] = decodeKept[T](s, v, what)
		}
	}
	return recs, errs
}

// mget reads keys, whose values are nil where a key does not exist.
func mget(ctx context.Context, s *Store, keys []string, what string) ([]any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	vals, err := s.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("read %d %s records: %w", len(keys), what, err)
	}
	if len(vals) != len(keys) {
		return nil, fmt.Errorf("read %d %s records: MGET answered %d values", len(keys), what, len(vals))
	}
	return vals, nil
}
