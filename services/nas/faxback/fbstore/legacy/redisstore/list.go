package redisstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"kradius.dev/services/nas/faxback/fbdata"
)

// ListAccounts implements fbdata.Store: a page of the accounts sorted set,
// then one MGET of the records.
func (s *Store) ListAccounts(ctx context.Context, after string, limit int) ([]fbdata.Account, error) {
	return list[fbdata.Account](ctx, s, s.keys.allAccounts(), s.keys.account, after, limit, "account")
}

// ListDIDs implements fbdata.Store like ListAccounts.
func (s *Store) ListDIDs(ctx context.Context, after string, limit int) ([]fbdata.DID, error) {
	return list[fbdata.DID](ctx, s, s.keys.allDIDs(), s.keys.did, after, limit, "DID")
}

// ListCalledNumbers implements fbdata.Store like ListAccounts.
func (s *Store) ListCalledNumbers(ctx context.Context, after string, limit int) ([]fbdata.CalledNumber, error) {
	return list[fbdata.CalledNumber](ctx, s, s.keys.allCalled(), s.keys.called, after, limit, "called number")
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
