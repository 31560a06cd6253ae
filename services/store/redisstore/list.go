package redisstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/store"
)

// ListAccounts implements store.Store: a page of the accounts sorted set,
// then one MGET of the records.
func (s *Store) ListAccounts(ctx context.Context, after string, limit int) ([]store.Account, error) {
	return list[store.Account](ctx, s, s.keys.allAccounts(), s.keys.account, after, limit, "account")
}

// ListDIDs implements store.Store like ListAccounts.
func (s *Store) ListDIDs(ctx context.Context, after string, limit int) ([]store.DID, error) {
	return list[store.DID](ctx, s, s.keys.allDIDs(), s.keys.did, after, limit, "DID")
}

// ListCalledNumbers implements store.Store like ListAccounts.
func (s *Store) ListCalledNumbers(ctx context.Context, after string, limit int) ([]store.CalledNumber, error) {
	return list[store.CalledNumber](ctx, s, s.keys.allCalled(), s.keys.called, after, limit, "called number")
}

// list pages through the sorted set of members after after. A record deleted
// between the page and the MGET is left out: the page is a moment's view.
func list[T any](ctx context.Context, s *Store, set string, key func(string) string, after string, limit int, what string) ([]T, error) {
	if limit <= 0 {
		return nil, nil
	}
	lo := "-"
	if after != "" {
		lo = "(" + after
	}
	members, err := s.client.ZRangeByLex(ctx, set, &redis.ZRangeBy{Min: lo, Max: "+", Count: int64(limit)}).Result()
	if err != nil {
		return nil, fmt.Errorf("list %ss: %w", what, err)
	}
	if len(members) == 0 {
		return nil, nil
	}
	keys := make([]string, len(members))
	for i, m := range members {
		keys[i] = key(m)
	}
	vals, err := s.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("list %ss: %w", what, err)
	}
	out := make([]T, 0, len(vals))
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		rec, err := decode[T](str, what)
		if err != nil {
			return nil, fmt.Errorf("list %ss: %s: %w", what, keys[i], err)
		}
		out = append(out, rec)
	}
	return out, nil
}
